"""Exports of a Results (and of CCHC points): text table, CSV, JSON (DESIGN.md §6) and XLSX.

Values are kept whole inside; they are rounded to the published two decimals only here, in the
table, CSV and PDF (XLSX keeps the full value and shows two decimals). Text cells that a
spreadsheet would run as a formula (= + - @ …) are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from results.cchc import RuleTable, UnitPoints
from results.labels import block_title
from results.model import GroupResult, ItemResult, Results
from results.priorities import ElementPriority, UnitPriorities
from survey_app.core.formats import NONE, neutralise
from survey_app.core.i18n import DEFAULT_LANG, pick, t

if TYPE_CHECKING:  # openpyxl is imported only when a workbook is written: a JSON answer never waits for it
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Column:
    key: str  # CSV header and JSON-ish id
    header: str  # heading for people (table, XLSX), in the document's language
    get: Callable[[Any], Any]
    decimals: int | None = None  # numbers shown with this many decimals (0: a count)


def _index_column(key: str, header: str, get: Callable[[Any], float | None]) -> Column:
    return Column(key, header, get, 2)


# -- results as rows --------------------------------------------------------------------------------------

def group_columns(keys: Sequence[str], lang: str = DEFAULT_LANG,
                  of: Callable[[Any], GroupResult] = lambda row: row) -> list[Column]:
    """Who a group is and how it stands, with the same headings in every sheet, table and workbook:
    rank, key, name (or "unit": the name headed as the unit), block, n, adequate, sipas, moe. `of`
    finds the group in a row."""
    made = {
        "rank": Column("rank", t("doc.col.rank", lang), lambda r: of(r).rank),
        "key": Column("key", t("doc.col.code", lang), lambda r: of(r).key),
        "name": Column("name", t("doc.col.name", lang), lambda r: of(r).name),
        "unit": Column("name", t("doc.col.unit", lang), lambda r: of(r).name),
        "block": Column("block", t("doc.col.block", lang), lambda r: of(r).block),
        "n": Column("n", t("doc.col.responses", lang), lambda r: of(r).n, 0),
        "adequate": Column("adequate", t("doc.col.adequate", lang), lambda r: of(r).adequate),
        "sipas": _index_column("sipas", t("doc.col.sipas", lang), lambda r: of(r).sipas),
        "moe": _index_column("moe", t("doc.col.moe", lang), lambda r: of(r).moe),
    }
    return [made[key] for key in keys]


def result_columns(results: Results, lang: str = DEFAULT_LANG) -> list[Column]:
    """One row per group: who, how many, the indices, adequacy, rank and change."""
    columns = [
        *group_columns(("rank", "key", "name", "block", "n"), lang),
        Column("required_n", t("xlsx.col.required_n", lang), lambda g: g.required_n, 0),
        *group_columns(("adequate", "sipas", "moe"), lang),
    ]
    if results.previous_period is not None:
        columns.append(_index_column("change", t("xlsx.col.change", lang, period=results.previous_period.label),
                                     lambda g: g.change))
    columns += [_index_column(e, e, lambda g, e=e: g.elements.get(e)) for e, _ in results.elements]
    if results.by == "unit":
        columns += standing_columns(lang)
    columns += [
        _index_column("overall", t("xlsx.col.overall", lang), lambda g: g.overall.index if g.overall else None),
        Column("dossiers", t("xlsx.col.dossiers", lang), lambda g: g.dossiers, 0),
        _index_column("response_rate", t("xlsx.col.response_rate", lang), lambda g: g.response_rate),
        _index_column("qd766_ratio", t("xlsx.col.qd766_ratio", lang), lambda g: g.qd766_ratio),
    ]
    if results.by in ("unit", "block"):
        columns += [
            Column("cases_opened", t("xlsx.col.cases_opened", lang), lambda g: g.cases.opened if g.cases else None),
            Column("cases_on_time_pct", t("doc.col.on_time_pct", lang),
                   lambda g: g.cases.on_time_pct if g.cases else None, 1),
            Column("cases_median_hours", t("xlsx.col.cases_median_hours", lang),
                   lambda g: g.cases.median_hours if g.cases else None, 1),
        ]
    return columns


def standing_columns(lang: str = DEFAULT_LANG) -> list[Column]:
    """Rank interval, standing against the block's mean, tied band, and the year's target."""
    def interval(g: GroupResult) -> str | None:
        return None if g.rank_low is None else f"{g.rank_low}–{g.rank_high}"

    def outlook(get: Callable[[Any], float | None]) -> Callable[[GroupResult], float | None]:
        return lambda g: None if g.outlook is None else get(g.outlook)

    return [
        Column("rank_interval", t("xlsx.col.rank_interval", lang), interval),
        Column("vs_block", t("xlsx.col.vs_block", lang),
               lambda g: t(f"dash.vs_block.{g.vs_block}", lang) if g.vs_block else None),
        Column("rank_band", t("xlsx.col.rank_band", lang), lambda g: g.rank_band),
        _index_column("target", t("xlsx.col.target", lang), outlook(lambda o: o.target)),
        _index_column("gap", t("xlsx.col.gap", lang), outlook(lambda o: o.gap)),
        _index_column("projected", t("xlsx.col.projected", lang), outlook(lambda o: o.projected)),
        _index_column("p_target", t("xlsx.col.p_target", lang), outlook(lambda o: o.p_target)),
    ]


def provenance_columns(results: Results, table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> list[Column]:
    """The same on every row, so a CSV file still says which rules and versions produced it."""
    columns = [Column("period", t("xlsx.col.period", lang), lambda _: results.period.label),
               Column("rule_set", t("xlsx.col.rule_set", lang), lambda _: results.method.name),
               Column("instrument_versions", t("doc.instrument_versions", lang),
                      lambda _: " ".join(f"{results.instrument.id}@{v}" for v in results.instrument_versions))]
    if table is not None:
        columns.append(Column("cchc_rules", t("doc.cchc_table", lang), lambda _: table.name))
    return columns


def ordered_groups(results: Results) -> list[GroupResult]:
    """Units as the published lists show them: block by block, ranked first; other groupings by key."""
    if results.by == "unit":
        return [g for groups in results.blocks().values() for g in groups]
    return list(results.groups)


def points_columns(points: Sequence[UnitPoints], lang: str = DEFAULT_LANG) -> list[Column]:
    criteria = list(dict.fromkeys(c.rule.criterion for p in points for c in p.criteria))
    elements = list(dict.fromkeys(e for p in points for e in p.group.elements))

    def criterion_points(p: UnitPoints, code: str) -> float | None:
        return next((c.points for c in p.criteria if c.rule.criterion == code), None)

    return [
        *group_columns(("key", "unit", "block", "rank", "n", "adequate", "sipas"), lang, of=lambda p: p.group),
        *[_index_column(f"points_{c}", t("xlsx.col.criterion_points", lang, criterion=c),
                        lambda p, c=c: criterion_points(p, c)) for c in criteria],
        _index_column("points", t("xlsx.col.points", lang), lambda p: p.points),
        _index_column("max_points", t("xlsx.col.max_points", lang), lambda p: p.max_points),
        *[_index_column(f"cost_{e}", t("xlsx.col.element_cost", lang, element=e),
                        lambda p, e=e: p.element_costs.get(e)) for e in elements],
    ]


def _cell(column: Column, row: Any) -> Any:
    value = column.get(row)
    if column.decimals is not None and isinstance(value, float):
        return round(value, column.decimals)
    return value


def to_csv(columns: Sequence[Column], rows: Iterable[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in rows:
        writer.writerow([neutralise("" if (v := _cell(c, row)) is None else v) for c in columns])
    return out.getvalue()


def _shown(value: Any, decimals: int | None, lang: str) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return t("doc.yes" if value else "results.not_adequate", lang)
    if decimals is not None and isinstance(value, float):
        return f"{value:.{decimals}f}"  # like the CSV, for programs (results/README.md), not core.formats
    return str(value)


def to_table(columns: Sequence[Column], rows: Iterable[Any], lang: str = DEFAULT_LANG) -> str:
    """A plain aligned table for a terminal; `lang` as the columns were made in."""
    cells = [[c.header for c in columns]] + [[_shown(c.get(r), c.decimals, lang) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


# -- JSON (DESIGN.md §6) ---------------------------------------------------------------------------------

def item_json(item: ItemResult) -> dict[str, Any]:
    return {"n": item.n, **{f"n{code}": count for code, count in sorted(item.counts.items())},
            "na": item.na, "pct": item.index}


def group_json(group: GroupResult, results: Results) -> dict[str, Any]:
    return {
        "unit_id": group.unit_id, "counter_id": group.counter_id, "key": group.key, "name": group.name,
        "block": group.block, "n": group.n, "sipas": group.sipas, "moe": group.moe,
        "elements": group.elements, "items": {i: item_json(r) for i, r in group.items.items()},
        "overall": item_json(group.overall) if group.overall else None,
        "adequate": group.adequate, "required_n": group.required_n, "rank": group.rank,
        "previous_sipas": group.previous_sipas, "change": group.change,
        "dossiers": group.dossiers, "response_rate": group.response_rate, "qd766_ratio": group.qd766_ratio,
        "channels": group.channels,
        "cases_opened": group.cases.opened if group.cases else None,
        "cases_on_time_pct": group.cases.on_time_pct if group.cases else None,
        "cases_median_hours": group.cases.median_hours if group.cases else None,
        "questions": {q: {"section": c.section, "multiple": c.multiple, "base": c.base, "counts": c.counts,
                          "pct": c.shares} for q, c in group.questions.items()},
        "period": results.period.label, "rule_set": results.method.name,
        "instrument": results.instrument.id, "instrument_versions": list(results.instrument_versions),
        "margin_method": results.method.margin,
        "rank_low": group.rank_low, "rank_high": group.rank_high, "vs_block": group.vs_block,
        "rank_band": group.rank_band, **outlook_json(group),
    }


def outlook_json(group: GroupResult) -> dict[str, Any]:
    """The target keys, present only where the unit has a target for the period's year."""
    o = group.outlook
    if o is None:
        return {}
    return {"target": o.target, "gap": o.gap, "projected": o.projected, "projected_low": o.projected_low,
            "projected_high": o.projected_high, "p_target": o.p_target, "target_year": o.year}


def to_json(results: Results) -> str:
    """One object per group, in ranking order (DESIGN.md §6); values unrounded."""
    return json.dumps([group_json(g, results) for g in ordered_groups(results)], ensure_ascii=False, indent=1) + "\n"


def points_json(points: Sequence[UnitPoints], table: RuleTable, results: Results) -> str:
    return json.dumps([{
        "unit_id": p.group.unit_id, "name": p.group.name, "block": p.group.block, "n": p.group.n,
        "adequate": p.group.adequate, "sipas": p.group.sipas, "points": p.points, "max_points": p.max_points,
        "element_costs": p.element_costs,
        "criteria": [{"criterion": c.rule.criterion, "title": c.rule.title, "index": c.rule.index,
                      "mode": c.rule.mode, "value": c.value, "points": c.points, "max_points": c.rule.max_points,
                      "element_costs": c.element_costs} for c in p.criteria],
        "rules": table.name, "rules_example": table.example, "period": results.period.label,
        "rule_set": results.method.name, "instrument_versions": list(results.instrument_versions),
    } for p in points], ensure_ascii=False, indent=1) + "\n"


# -- XLSX ------------------------------------------------------------------------------------------------

def _item_rows(results: Results, lang: str) -> tuple[list[Column], list[tuple[GroupResult, str, ItemResult]]]:
    codes = sorted({code for g in results.groups for i in g.items.values() for code in i.counts})
    texts = {i.id: pick(i.text, lang) for i in results.instrument.answer_items.values()}
    element_of = {i: e for e, ids in results.elements for i in ids}
    rows = [(g, element_of.get(i, "HL"), item) for g in ordered_groups(results)
            for i, item in [*g.items.items(), *([(g.overall.item_id, g.overall)] if g.overall else [])]]
    columns = [
        *group_columns(("key", "name"), lang, of=lambda r: r[0]),
        Column("element", t("xlsx.elements", lang), lambda r: r[1]),
        Column("item", t("xlsx.items", lang), lambda r: r[2].item_id),
        Column("text", t("xlsx.col.text", lang), lambda r: texts.get(r[2].item_id, "")),
        *[Column(f"n{c}", f"n{c}", lambda r, c=c: r[2].counts.get(c, 0), 0) for c in codes],
        Column("na", t("xlsx.col.na", lang), lambda r: r[2].na, 0),
        Column("n", t("xlsx.col.answers", lang), lambda r: r[2].n, 0),
        Column("satisfied", t("xlsx.col.satisfied", lang), lambda r: r[2].satisfied),
        _index_column("pct", t("xlsx.col.item_index", lang), lambda r: r[2].index),
    ]
    return columns, rows


def _choice_rows(results: Results, lang: str) -> tuple[list[Column], list[tuple[GroupResult, str, str]]]:
    questions = {q.id: q for q in results.instrument.questions}
    rows = [(g, q, o) for g in ordered_groups(results) for q, c in g.questions.items()
            if c.section in ("perception", "expectation") for o in c.counts]

    def option_text(question_id: str, option_id: str) -> str:
        return next((pick(o.text, lang) for o in questions[question_id].options if o.id == option_id), option_id)

    columns = [
        *group_columns(("key", "name"), lang, of=lambda r: r[0]),
        Column("question", t("xlsx.col.question", lang), lambda r: pick(questions[r[1]].text, lang)),
        Column("option", t("xlsx.col.option", lang), lambda r: option_text(r[1], r[2])),
        Column("count", t("xlsx.col.chosen", lang), lambda r: r[0].questions[r[1]].counts[r[2]], 0),
        Column("base", t("xlsx.col.base", lang), lambda r: r[0].questions[r[1]].base, 0),
        _index_column("pct", t("xlsx.col.share", lang), lambda r: r[0].questions[r[1]].shares[r[2]]),
    ]
    return columns, rows


def _excel_format(decimals: int) -> str:
    """The cell stays a number; Excel writes it in the reader's own convention (16.340 and 76,46 in a
    Vietnamese Excel), so the workbook needs no text copy of core.formats."""
    return "#,##0" if decimals == 0 else "0." + "0" * decimals


def new_book() -> Workbook:
    """An empty workbook: write_sheet adds the sheets."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def write_sheet(book: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Any],
                freeze: str = "A2") -> Worksheet:
    """A sheet: the headings, a row per row (text neutralised, numbers kept numbers, shown with the
    column's decimals), widths from the headings; scrolling keeps the headings (and what is left of
    `freeze`) in view."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title[:31])
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([neutralise(c.get(row)) for c in columns])
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        if column.decimals is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = _excel_format(column.decimals)
        sheet.column_dimensions[letter].width = min(60, max(10, len(column.header) + 2))
    sheet.freeze_panes = freeze
    return sheet


def _notes(results: Results, table: RuleTable | None, lang: str) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        (t("xlsx.note.period", lang), f"{results.period.title(lang)} ({results.period.label})"),
        (t("xlsx.note.previous", lang), results.previous_period.label if results.previous_period else NONE),
        (t("xlsx.note.by", lang), results.by),
        (t("xlsx.note.instrument", lang), results.instrument.id),
        (t("doc.instrument_versions", lang), ", ".join(results.instrument_versions)),
        (t("xlsx.note.statuses", lang), ", ".join(results.statuses)),
        (t("xlsx.note.rule_set", lang), results.method.name),
        *[(f"  {key}", json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value)
          for key, value in results.method.describe().items() if key != "name"],
        (t("xlsx.note.computed_at", lang), t("xlsx.note.computed_at_value", lang, at=results.computed_at)),
        *[(t("doc.notes", lang), note) for note in results.notes],
    ]
    if table is not None:
        example = t("xlsx.note.example_yes" if table.example else "xlsx.note.example_no", lang)
        rows += [(t("doc.cchc_table", lang), table.name), (f"  {t('xlsx.note.cchc_title', lang)}", table.title),
                 (f"  {t('xlsx.note.cchc_source', lang)}", table.source),
                 (f"  {t('xlsx.note.cchc_example', lang)}", example)]
    return rows


def _notes_sheet(book: Workbook, results: Results, table: RuleTable | None, lang: str) -> None:
    """The last sheet of a workbook: what was counted, by which rules and versions, when."""
    columns = [Column("what", t("xlsx.col.what", lang), lambda r: r[0]),
               Column("value", t("xlsx.col.value", lang), lambda r: r[1])]
    sheet = write_sheet(book, t("doc.notes", lang), columns, _notes(results, table, lang))
    sheet.column_dimensions["B"].width = 100


def write_xlsx(results: Results, path: str | Path, points: Sequence[UnitPoints] | None = None,
               table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> None:
    """Ranking sheet per block (or one results sheet), elements, items with counts, choices, notes."""
    book = new_book()
    main = result_columns(results, lang)
    if results.by == "unit":
        for block, groups in results.blocks().items():
            write_sheet(book, block_title(block, lang), main, groups)  # e.g. "Khối Sở, ban, ngành"
    else:
        write_sheet(book, t("xlsx.sheet.results", lang), main, ordered_groups(results))
    element_keys = {"key", "name", "n", "sipas", "moe", "overall"} | {e for e, _ in results.elements}
    write_sheet(book, t("xlsx.elements", lang), [c for c in main if c.key in element_keys], ordered_groups(results))
    write_sheet(book, t("xlsx.items", lang), *_item_rows(results, lang))
    write_sheet(book, t("xlsx.sheet.choices", lang), *_choice_rows(results, lang))
    if points is not None:
        write_sheet(book, t("doc.cchc_points", lang), points_columns(points, lang), points)
    _notes_sheet(book, results, table, lang)
    book.save(path)


# -- priorities (results/priorities.py) ------------------------------------------------------------------

PRIORITY_METHODS = ("relative_weights", "spearman")  # results/priorities.py; their names: xlsx.method.*


def priorities_json(found: Sequence[UnitPriorities], results: Results) -> str:
    """One object per unit: unit_id, n, method, elements [{element, performance, importance, …}]."""
    return json.dumps([{
        "unit_id": u.unit_id, "name": u.name, "block": u.block, "n": u.n, "method": u.method,
        "r_squared": u.r_squared, "note": u.note, "period": results.period.label,
        "elements": [{"element": e.element, "name": e.name, "performance": e.performance,
                      "importance": e.importance, "importance_low": e.importance_low,
                      "importance_high": e.importance_high, "potential": e.potential,
                      "points_at_stake": e.points_at_stake, "priority": e.priority, "quadrant": e.quadrant,
                      "items": e.items} for e in u.elements],
    } for u in found], ensure_ascii=False, indent=1) + "\n"


def priority_rows(found: Sequence[UnitPriorities]) -> list[tuple[UnitPriorities, ElementPriority | None]]:
    """A row per element of each unit, and one row for a unit without priorities (its note)."""
    return [(u, e) for u in found for e in (u.elements or (None,))]


def priority_columns(lang: str = DEFAULT_LANG) -> list[Column]:
    def element(get: Callable[[ElementPriority], Any]) -> Callable[[tuple[Any, ElementPriority | None]], Any]:
        return lambda row: None if row[1] is None else get(row[1])

    def method(unit: UnitPriorities) -> str | None:
        return t(f"xlsx.method.{unit.method}", lang) if unit.method in PRIORITY_METHODS else unit.note

    return [
        Column("unit_id", t("doc.col.code", lang), lambda r: r[0].unit_id),
        Column("name", t("doc.col.unit", lang), lambda r: r[0].name),
        Column("n", t("doc.col.responses", lang), lambda r: r[0].n),
        Column("method", t("xlsx.col.method", lang), lambda r: method(r[0])),
        Column("priority", t("xlsx.col.priority", lang), element(lambda e: e.priority)),
        Column("element", t("doc.col.element", lang), element(lambda e: e.element)),
        _index_column("performance", t("xlsx.col.performance", lang), element(lambda e: e.performance)),
        Column("importance", t("xlsx.col.importance", lang), element(lambda e: e.importance), 3),
        Column("importance_low", t("xlsx.col.importance_low", lang), element(lambda e: e.importance_low), 3),
        Column("importance_high", t("xlsx.col.importance_high", lang), element(lambda e: e.importance_high), 3),
        _index_column("potential", t("xlsx.col.potential", lang), element(lambda e: e.potential)),
        _index_column("points_at_stake", t("xlsx.col.points_at_stake", lang), element(lambda e: e.points_at_stake)),
        Column("quadrant", t("xlsx.col.quadrant", lang),
               element(lambda e: t(f"dash.quadrant.{e.quadrant}", lang) if e.quadrant else None)),
    ]


def write_priorities_xlsx(found: Sequence[UnitPriorities], results: Results, path: str | Path,
                          table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> None:
    book = new_book()
    write_sheet(book, t("xlsx.sheet.priorities", lang), priority_columns(lang), priority_rows(found))
    _notes_sheet(book, results, table, lang)
    book.save(path)
