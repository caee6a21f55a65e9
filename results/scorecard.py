"""The monthly scorecard of a unit (the head's monthly evaluation on citizens' satisfaction): one A4
page per unit and an XLSX summary of every unit.

SIPAS with its margin and change against last month, the rank in its block, the weakest element,
cases opened / answered on time / overdue, and three recent comments (scrubbed again here: bulk
imports do not pass the form's scrubbing). Vietnamese, or any language of the catalogue (messages.yaml,
scorecard.* and doc.*).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf.fonts import FontFace

from results.aggregate import compute
from results.cases import CaseStats, recent_comments
from results.export import Column, group_columns, new_book, write_sheet
from results.labels import block_title, percent, unranked
from results.model import GroupResult, Results
from results.report import FONT, HEADINGS, ReportPdf
from results.scope import Source, open_cursor
from survey_app.core.config import DEFAULT_INSTRUMENT
from survey_app.core.formats import NONE, count, number
from survey_app.core.i18n import DEFAULT_LANG, pick, t
from survey_app.core.instruments import Text
from survey_app.core.periods import Period, PeriodError, parse_period
from survey_app.core.privacy import scrub_comment

COMMENTS = 3
WEAK_FILL = (253, 226, 226)


@dataclass(frozen=True)
class Scorecard:
    group: GroupResult
    month: Period
    previous: Period | None
    ranked_in_block: int  # how many units of its block were ranked
    weakest: tuple[str, Text, float] | None  # element id, its name {vi, en}, its index
    elements: tuple[tuple[str, Text, float | None], ...]
    cases: CaseStats
    comments: tuple[str, ...]

    def rank_text(self, lang: str = DEFAULT_LANG) -> str:
        if self.group.rank is None:
            return unranked(self.group, lang)
        return f"{self.group.rank}/{self.ranked_in_block}"


def parse_month(text: str) -> Period:
    period = parse_period(text)
    if period.kind != "month":
        raise PeriodError("scorecard.bad_month", text=text)
    return period


def _card(results: Results, group: GroupResult, ranked: dict[str | None, int], comments: list[str]) -> Scorecard:
    names = {e.id: e.text for e in results.instrument.elements}
    elements = tuple((e, names.get(e, {DEFAULT_LANG: e}), group.elements.get(e)) for e, _ in results.elements)
    present = [(e, name, value) for e, name, value in elements if value is not None]
    weakest = min(present, key=lambda x: x[2]) if present else None
    return Scorecard(group, results.period, results.previous_period, ranked.get(group.block, 0), weakest, elements,
                     group.cases or CaseStats(0, 0, 0, 0, None),
                     tuple(scrub_comment(c) or "" for c in comments))


def scorecards(source: Source, month: Period, unit_id: str | None = None,
               instrument_id: str = DEFAULT_INSTRUMENT) -> list[Scorecard]:
    """The month's scorecard of every listed unit (or of `unit_id`), in block and rank order."""
    results = compute(source, month, by="unit", instrument_id=instrument_id, choices=False)
    groups = [g for block in results.blocks().values() for g in block if unit_id in (None, g.key)]
    if unit_id is not None and not groups:
        raise PeriodError("scorecard.unknown_unit", unit=unit_id)
    ranked: dict[str | None, int] = {}
    for g in results.groups:
        if g.rank is not None:
            ranked[g.block] = ranked.get(g.block, 0) + 1
    with open_cursor(source) as cur:
        return [_card(results, g, ranked, recent_comments(cur, g.key, month, COMMENTS)) for g in groups]


# -- PDF -------------------------------------------------------------------------------------------

def _headline(pdf: ReportPdf, card: Scorecard) -> None:
    g, lang = card.group, pdf.language
    change = (t("scorecard.previous", lang, month=card.previous.first.month, year=card.previous.first.year,
                sipas=number(g.previous_sipas))
              if card.previous and g.change is not None else t("scorecard.no_previous", lang))
    rows = [
        [t("scorecard.sipas", lang), percent(g.sipas), t("scorecard.margin", lang, moe=number(g.moe), n=count(g.n))],
        [t("scorecard.change", lang), t("scorecard.points", lang, value=number(g.change, signed=True)), change],
        [t("scorecard.rank", lang), card.rank_text(lang), block_title(g.block, lang)],
    ]
    if card.weakest:
        rows.append([t("scorecard.weakest", lang), percent(card.weakest[2]), pick(card.weakest[1], lang)])
    _table(pdf, [52, 30, 0], rows)


def _table(pdf: ReportPdf, widths: list[float], rows: list[list[str]], header: list[str] | None = None,
           weak_row: int | None = None, align: tuple[str, ...] = ("LEFT", "RIGHT", "LEFT")) -> None:
    widths = [w or pdf.epw - sum(widths) for w in widths]
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=widths, text_align=list(align),
                   first_row_as_headings=header is not None, line_height=5,
                   headings_style=HEADINGS) as table:
        if header:
            table.row(header)
        for i, row in enumerate(rows):
            style = FontFace(fill_color=WEAK_FILL) if i == weak_row else None
            table.row(row, style=style)
    pdf.ln(3)


def _elements(pdf: ReportPdf, card: Scorecard) -> None:
    lang = pdf.language
    pdf.heading(f"2. {t('scorecard.elements', lang)}", size=10.5)
    weak = next((i for i, e in enumerate(card.elements) if card.weakest and e[0] == card.weakest[0]), None)
    _table(pdf, [15, 0, 25], [[e, pick(name, lang), number(value)] for e, name, value in card.elements],
           header=[t("doc.col.code", lang), t("doc.col.element", lang), t("scorecard.col.index", lang)],
           weak_row=weak, align=("LEFT", "LEFT", "RIGHT"))


def _cases(pdf: ReportPdf, card: Scorecard) -> None:
    c, lang = card.cases, pdf.language
    pdf.heading(f"3. {t('doc.cases', lang)}", size=10.5)
    on_time = NONE if c.on_time_pct is None else t("scorecard.on_time_share", lang, pct=number(c.on_time_pct, 0))
    hours = NONE if c.median_hours is None else t("scorecard.hours", lang, hours=number(c.median_hours, 0))
    rows = [[t("scorecard.cases_opened", lang), count(c.opened), ""],
            [t("scorecard.on_time", lang), f"{count(c.on_time)}/{count(c.decided)}", on_time],
            [t("scorecard.overdue", lang), count(c.overdue), t("scorecard.overdue_note", lang) if c.overdue else ""],
            [t("scorecard.median_hours", lang), hours, ""]]
    _table(pdf, [70, 25, 0], rows)


def _comments(pdf: ReportPdf, card: Scorecard) -> None:
    pdf.heading(f"4. {t('scorecard.comments', pdf.language)}", size=10.5)
    if not card.comments:
        pdf.paragraph(t("scorecard.no_comments", pdf.language))
        return
    for text in card.comments:
        shown = text if len(text) <= 400 else text[:399] + "…"
        pdf.paragraph(f"“{shown}”", size=9)


def write_scorecard_pdf(card: Scorecard, path: str | Path, lang: str = DEFAULT_LANG) -> None:
    """One A4 page in `lang`: headline figures, elements (the weakest shaded), cases, comments."""
    month = card.month.title(lang)
    pdf = ReportPdf(f"SIPAS · {card.group.name} · {month}", lang)
    pdf.add_page()
    pdf.heading(t("scorecard.title", lang, month=month.upper()), size=13)
    pdf.heading(card.group.name, size=12)
    pdf.paragraph(t("scorecard.subtitle", lang, block=block_title(card.group.block, lang), first=card.month.first,
                    last=card.month.last), size=9)
    pdf.heading(f"1. {t('scorecard.overall', lang)}", size=10.5)
    _headline(pdf, card)
    _elements(pdf, card)
    _cases(pdf, card)
    _comments(pdf, card)
    pdf.output(str(path))


# -- XLSX ------------------------------------------------------------------------------------------

def summary_columns(lang: str = DEFAULT_LANG) -> list[Column]:
    """A row per unit; the figures with two decimals, the counts as they are."""
    def group(card: Scorecard) -> GroupResult:
        return card.group

    return [
        Column("unit_id", t("scorecard.col.unit_id", lang), lambda c: c.group.key),
        *group_columns(("unit",), lang, of=group),
        Column("block", t("doc.col.block", lang), lambda c: block_title(c.group.block, lang)),
        Column("n", t("doc.col.responses", lang), lambda c: c.group.n),
        *group_columns(("sipas", "moe"), lang, of=group),
        Column("previous_sipas", t("scorecard.col.previous_sipas", lang), lambda c: c.group.previous_sipas, 2),
        Column("change", t("scorecard.col.change", lang), lambda c: c.group.change, 2),
        Column("rank", t("scorecard.col.rank", lang), lambda c: c.group.rank),
        Column("ranked_in_block", t("scorecard.col.ranked", lang), lambda c: c.ranked_in_block),
        Column("weakest", t("scorecard.weakest", lang), lambda c: pick(c.weakest[1], lang) if c.weakest else None),
        Column("weakest_index", t("scorecard.col.weakest_index", lang), lambda c: c.weakest[2] if c.weakest else None,
               2),
        Column("cases_opened", t("scorecard.col.opened", lang), lambda c: c.cases.opened),
        Column("cases_on_time", t("scorecard.on_time", lang), lambda c: c.cases.on_time),
        Column("cases_on_time_pct", t("doc.col.on_time_pct", lang), lambda c: c.cases.on_time_pct, 2),
        Column("cases_overdue", t("scorecard.overdue", lang), lambda c: c.cases.overdue),
        Column("cases_median_hours", t("scorecard.col.median_hours", lang), lambda c: c.cases.median_hours, 2),
    ]


def write_summary_xlsx(cards: Sequence[Scorecard], path: str | Path, lang: str = DEFAULT_LANG) -> None:
    """One sheet, a row per unit; scrolling keeps its id and name in view."""
    book = new_book()
    write_sheet(book, t("scorecard.sheet", lang), summary_columns(lang), cards, freeze="C2")
    book.save(path)


def write_scorecards(source: Source, month: Period, out_dir: str | Path, unit_id: str | None = None,
                     lang: str = DEFAULT_LANG) -> list[Path]:
    """Every unit's PDF and the summary XLSX into `out_dir`, in `lang`; the paths written. The file names
    stay the same in every language (the monthly e-mail and people's folders know them)."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cards = scorecards(source, month, unit_id)
    written = []
    for card in cards:
        path = folder / f"phieu-{month.label}-{card.group.key}.pdf"
        write_scorecard_pdf(card, path, lang)
        written.append(path)
    summary = folder / f"tong-hop-{month.label}.xlsx"
    write_summary_xlsx(cards, summary, lang)
    return [*written, summary]
