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
from results.model import GroupResult, ItemResult, Results
from results.priorities import ElementPriority, UnitPriorities
from survey_app.core.config import BLOCKS
from survey_app.core.formats import neutralise
from survey_app.core.i18n import t

if TYPE_CHECKING:  # openpyxl is imported only when a workbook is written: a JSON answer never waits for it
    from openpyxl import Workbook

NOT_ADEQUATE = t("results.not_adequate")  # the reports are in Vietnamese


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class Column:
    key: str  # CSV header and JSON-ish id
    header: str  # Vietnamese heading for people (table, XLSX)
    get: Callable[[Any], Any]
    decimals: int | None = None  # numbers shown with this many decimals (0: a count)


def _index_column(key: str, header: str, get: Callable[[Any], float | None]) -> Column:
    return Column(key, header, get, 2)


# -- results as rows --------------------------------------------------------------------------------------

def result_columns(results: Results) -> list[Column]:
    """One row per group: who, how many, the indices, adequacy, rank and change."""
    columns = [
        Column("rank", "Hạng", lambda g: g.rank),
        Column("key", "Mã", lambda g: g.key),
        Column("name", "Tên", lambda g: g.name),
        Column("block", "Khối", lambda g: g.block),
        Column("n", "Số phiếu", lambda g: g.n, 0),
        Column("required_n", "Cỡ mẫu cần", lambda g: g.required_n, 0),
        Column("adequate", "Đủ mẫu", lambda g: g.adequate),
        _index_column("sipas", "SIPAS (%)", lambda g: g.sipas),
        _index_column("moe", "Sai số ± (điểm)", lambda g: g.moe),
    ]
    if results.previous_period is not None:
        columns.append(_index_column("change", f"Thay đổi so với {results.previous_period.label}", lambda g: g.change))
    columns += [_index_column(e, e, lambda g, e=e: g.elements.get(e)) for e, _ in results.elements]
    if results.by == "unit":
        columns += standing_columns()
    columns += [
        _index_column("overall", "Hài lòng chung (%)", lambda g: g.overall.index if g.overall else None),
        Column("dossiers", "Số hồ sơ", lambda g: g.dossiers, 0),
        _index_column("response_rate", "Tỷ lệ phản hồi (%)", lambda g: g.response_rate),
        _index_column("qd766_ratio", "Tỷ lệ hài lòng QĐ 766 (%)", lambda g: g.qd766_ratio),
    ]
    if results.by in ("unit", "block"):
        columns += [
            Column("cases_opened", "Phản ánh", lambda g: g.cases.opened if g.cases else None),
            Column("cases_on_time_pct", "Trả lời đúng hạn (%)", lambda g: g.cases.on_time_pct if g.cases else None, 1),
            Column("cases_median_hours", "Thời gian trả lời (giờ, trung vị)",
                   lambda g: g.cases.median_hours if g.cases else None, 1),
        ]
    return columns


VS_BLOCK_VI = {"above": "cao hơn", "below": "thấp hơn", "same": "không khác biệt"}


def standing_columns() -> list[Column]:
    """Rank interval, standing against the block's mean, tied band, and the year's target."""
    def interval(g: GroupResult) -> str | None:
        return None if g.rank_low is None else f"{g.rank_low}–{g.rank_high}"

    def outlook(get: Callable[[Any], float | None]) -> Callable[[GroupResult], float | None]:
        return lambda g: None if g.outlook is None else get(g.outlook)

    return [
        Column("rank_interval", "Khoảng hạng 95 %", interval),
        Column("vs_block", "So với trung bình khối", lambda g: VS_BLOCK_VI.get(g.vs_block or "")),
        Column("rank_band", "Nhóm hạng", lambda g: g.rank_band),
        _index_column("target", "Chỉ tiêu năm", outlook(lambda o: o.target)),
        _index_column("gap", "Chênh lệch với chỉ tiêu", outlook(lambda o: o.gap)),
        _index_column("projected", "Dự báo cuối năm", outlook(lambda o: o.projected)),
        _index_column("p_target", "Xác suất đạt chỉ tiêu", outlook(lambda o: o.p_target)),
    ]


def provenance_columns(results: Results, table: RuleTable | None = None) -> list[Column]:
    """The same on every row, so a CSV file still says which rules and versions produced it."""
    columns = [Column("period", "Kỳ", lambda _: results.period.label),
               Column("rule_set", "Quy tắc", lambda _: results.method.name),
               Column("instrument_versions", "Phiên bản bộ câu hỏi",
                      lambda _: " ".join(f"{results.instrument.id}@{v}" for v in results.instrument_versions))]
    if table is not None:
        columns.append(Column("cchc_rules", "Bảng điểm CCHC", lambda _: table.name))
    return columns


def ordered_groups(results: Results) -> list[GroupResult]:
    """Units as the published lists show them: block by block, ranked first; other groupings by key."""
    if results.by == "unit":
        return [g for groups in results.blocks().values() for g in groups]
    return list(results.groups)


def points_columns(points: Sequence[UnitPoints]) -> list[Column]:
    criteria = list(dict.fromkeys(c.rule.criterion for p in points for c in p.criteria))
    elements = list(dict.fromkeys(e for p in points for e in p.group.elements))

    def criterion_points(p: UnitPoints, code: str) -> float | None:
        return next((c.points for c in p.criteria if c.rule.criterion == code), None)

    return [
        Column("key", "Mã", lambda p: p.group.key),
        Column("name", "Đơn vị", lambda p: p.group.name),
        Column("block", "Khối", lambda p: p.group.block),
        Column("rank", "Hạng", lambda p: p.group.rank),
        Column("n", "Số phiếu", lambda p: p.group.n, 0),
        Column("adequate", "Đủ mẫu", lambda p: p.group.adequate),
        _index_column("sipas", "SIPAS (%)", lambda p: p.group.sipas),
        *[_index_column(f"points_{c}", f"Điểm tiêu chí {c}", lambda p, c=c: criterion_points(p, c)) for c in criteria],
        _index_column("points", "Tổng điểm", lambda p: p.points),
        _index_column("max_points", "Điểm tối đa", lambda p: p.max_points),
        *[_index_column(f"cost_{e}", f"Điểm mất do {e}", lambda p, e=e: p.element_costs.get(e)) for e in elements],
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


def _shown(value: Any, decimals: int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "có" if value else NOT_ADEQUATE
    if decimals is not None and isinstance(value, float):
        return f"{value:.{decimals}f}"
    return str(value)


def to_table(columns: Sequence[Column], rows: Iterable[Any]) -> str:
    """A plain aligned table for a terminal."""
    cells = [[c.header for c in columns]] + [[_shown(c.get(r), c.decimals) for c in columns] for r in rows]
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

def _item_rows(results: Results) -> tuple[list[Column], list[tuple[GroupResult, str, ItemResult]]]:
    codes = sorted({code for g in results.groups for i in g.items.values() for code in i.counts})
    texts = {i.id: i.text["vi"] for i in results.instrument.answer_items.values()}
    element_of = {i: e for e, ids in results.elements for i in ids}
    rows = [(g, element_of.get(i, "HL"), item) for g in ordered_groups(results)
            for i, item in [*g.items.items(), *([(g.overall.item_id, g.overall)] if g.overall else [])]]
    columns = [
        Column("key", "Mã", lambda r: r[0].key), Column("name", "Tên", lambda r: r[0].name),
        Column("element", "Chỉ số thành phần", lambda r: r[1]), Column("item", "Tiêu chí", lambda r: r[2].item_id),
        Column("text", "Nội dung", lambda r: texts.get(r[2].item_id, "")),
        *[Column(f"n{c}", f"n{c}", lambda r, c=c: r[2].counts.get(c, 0), 0) for c in codes],
        Column("na", "Không áp dụng", lambda r: r[2].na, 0), Column("n", "Số trả lời", lambda r: r[2].n, 0),
        Column("satisfied", "Hài lòng", lambda r: r[2].satisfied),
        _index_column("pct", "S_i (%)", lambda r: r[2].index),
    ]
    return columns, rows


def _choice_rows(results: Results) -> tuple[list[Column], list[tuple[GroupResult, str, str]]]:
    questions = {q.id: q for q in results.instrument.questions}
    rows = [(g, q, o) for g in ordered_groups(results) for q, c in g.questions.items()
            if c.section in ("perception", "expectation") for o in c.counts]

    def option_text(question_id: str, option_id: str) -> str:
        return next((o.text["vi"] for o in questions[question_id].options if o.id == option_id), option_id)

    columns = [
        Column("key", "Mã", lambda r: r[0].key), Column("name", "Tên", lambda r: r[0].name),
        Column("question", "Câu hỏi", lambda r: questions[r[1]].text["vi"]),
        Column("option", "Lựa chọn", lambda r: option_text(r[1], r[2])),
        Column("count", "Số lượt chọn", lambda r: r[0].questions[r[1]].counts[r[2]], 0),
        Column("base", "Mẫu số", lambda r: r[0].questions[r[1]].base, 0),
        _index_column("pct", "Tỷ lệ (%)", lambda r: r[0].questions[r[1]].shares[r[2]]),
    ]
    return columns, rows


def _excel_format(decimals: int) -> str:
    """The cell stays a number; Excel writes it in the reader's own convention (16.340 and 76,46 in a
    Vietnamese Excel), so the workbook needs no text copy of core.formats."""
    return "#,##0" if decimals == 0 else "0." + "0" * decimals


def _sheet(book: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Any]) -> None:
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
    sheet.freeze_panes = "A2"


def _notes(results: Results, table: RuleTable | None) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Kỳ báo cáo", f"{results.period.title_vi} ({results.period.label})"),
        ("Kỳ so sánh", results.previous_period.label if results.previous_period else "–"),
        ("Nhóm theo", results.by),
        ("Bộ câu hỏi", results.instrument.id),
        ("Phiên bản bộ câu hỏi", ", ".join(results.instrument_versions)),
        ("Trạng thái phiếu được tính", ", ".join(results.statuses)),
        ("Quy tắc tính (rule set)", results.method.name),
        *[(f"  {key}", json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value)
          for key, value in results.method.describe().items() if key != "name"],
        ("Thời điểm tính", results.computed_at.strftime("%d/%m/%Y %H:%M (giờ Việt Nam)")),
        *[("Ghi chú", note) for note in results.notes],
    ]
    if table is not None:
        rows += [("Bảng điểm CCHC", table.name), ("  tiêu đề", table.title), ("  nguồn", table.source),
                 ("  là ví dụ", "CÓ — không phải quy định chính thức" if table.example else "không")]
    return rows


def write_xlsx(results: Results, path: str | Path, points: Sequence[UnitPoints] | None = None,
               table: RuleTable | None = None) -> None:
    """Ranking sheet per block (or one results sheet), elements, items with counts, choices, notes."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    main = result_columns(results)
    if results.by == "unit":
        for block, groups in results.blocks().items():
            _sheet(book, block_title(block), main, groups)  # e.g. "Khối Sở, ban, ngành"
    else:
        _sheet(book, "Kết quả", main, ordered_groups(results))
    element_keys = {"key", "name", "n", "sipas", "moe", "overall"} | {e for e, _ in results.elements}
    _sheet(book, "Chỉ số thành phần", [c for c in main if c.key in element_keys], ordered_groups(results))
    _sheet(book, "Tiêu chí", *_item_rows(results))
    _sheet(book, "Nhận định, mong đợi", *_choice_rows(results))
    if points is not None:
        _sheet(book, "Điểm CCHC", points_columns(points), points)
    notes = [Column("what", "Mục", lambda r: r[0]), Column("value", "Giá trị", lambda r: r[1])]
    _sheet(book, "Ghi chú", notes, _notes(results, table))
    book["Ghi chú"].column_dimensions["B"].width = 100
    book.save(path)


def block_title(block: str | None) -> str:
    return BLOCKS.get(block or "", block or "")


# -- priorities (results/priorities.py) ------------------------------------------------------------------

QUADRANT_VI = {"concentrate": "Tập trung cải thiện", "keep_up": "Duy trì", "low_priority": "Ưu tiên thấp",
               "possible_overkill": "Có thể thừa nguồn lực"}
METHOD_VI = {"relative_weights": "trọng số tương đối (Johnson 2000)", "spearman": "tương quan Spearman (mẫu nhỏ)"}


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


def priority_columns() -> list[Column]:
    def element(get: Callable[[ElementPriority], Any]) -> Callable[[tuple[Any, ElementPriority | None]], Any]:
        return lambda row: None if row[1] is None else get(row[1])

    return [
        Column("unit_id", "Mã", lambda r: r[0].unit_id),
        Column("name", "Đơn vị", lambda r: r[0].name),
        Column("n", "Số phiếu", lambda r: r[0].n),
        Column("method", "Phương pháp", lambda r: METHOD_VI.get(r[0].method or "", r[0].note)),
        Column("priority", "Thứ tự ưu tiên", element(lambda e: e.priority)),
        Column("element", "Thành phần", element(lambda e: e.element)),
        _index_column("performance", "Kết quả S_e (%)", element(lambda e: e.performance)),
        Column("importance", "Mức quan trọng", element(lambda e: e.importance), 3),
        Column("importance_low", "Quan trọng: cận dưới 95 %", element(lambda e: e.importance_low), 3),
        Column("importance_high", "Quan trọng: cận trên 95 %", element(lambda e: e.importance_high), 3),
        _index_column("potential", "Tiềm năng cải thiện", element(lambda e: e.potential)),
        _index_column("points_at_stake", "Điểm CCHC có thể tăng", element(lambda e: e.points_at_stake)),
        Column("quadrant", "Nhóm", element(lambda e: QUADRANT_VI.get(e.quadrant or ""))),
    ]


def write_priorities_xlsx(found: Sequence[UnitPriorities], results: Results, path: str | Path,
                          table: RuleTable | None = None) -> None:
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "Ưu tiên cải thiện", priority_columns(), priority_rows(found))
    notes = [Column("what", "Mục", lambda r: r[0]), Column("value", "Giá trị", lambda r: r[1])]
    _sheet(book, "Ghi chú", notes, _notes(results, table))
    book.save(path)
