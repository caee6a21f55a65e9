"""The PDF report of a period: "Kết quả đo lường sự hài lòng …" with the block rankings; Vietnamese, or
any language of the catalogue (messages.yaml, report.* and doc.*).

fpdf2 with DejaVu Sans, which has every Vietnamese diacritic. The font is looked for in the
project's survey_app/core/fonts, then where Debian's fonts-dejavu-core puts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from results.cchc import RuleTable, UnitPoints
from results.labels import block_title, unranked
from results.model import GroupResult, Results
from survey_app.core.config import FONTS_DIR
from survey_app.core.formats import NONE, count, number
from survey_app.core.i18n import DEFAULT_LANG, both, t

FONT_DIRS = (FONTS_DIR, Path("/usr/share/fonts/truetype/dejavu"))
FONT = "DejaVuSans"
HEADER_FILL = (220, 230, 241)
HEADINGS = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)  # the heading row of every table


class FontMissing(RuntimeError):
    """No Unicode font with Vietnamese letters: the report cannot be drawn."""


def find_font(style: str = "") -> Path:
    name = f"{FONT}-Bold.ttf" if style == "B" else f"{FONT}.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(both("report.font_missing", name=name))


class ReportPdf(FPDF):
    def __init__(self, footer_text: str, lang: str = DEFAULT_LANG) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.language = lang  # of the words; not FPDF's own `lang` (set_lang), which would add /Lang to the file
        self.add_font(FONT, "", find_font())
        self.add_font(FONT, "B", find_font("B"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(10, 12, 10)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        # {nb}: fpdf writes the number of pages there when the document is done
        self.cell(0, 4, t("report.page", self.language, footer=self.footer_text, page=self.page_no(), pages="{nb}"),
                  align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: float = 11) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9) -> None:
        self.set_font(FONT, size=size)
        self.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)


def _ranking_rows(results: Results, groups: Sequence[GroupResult], points: dict[str, UnitPoints],
                  lang: str) -> list[list[str]]:
    rows = []
    for g in groups:
        name = g.name if g.rank is not None else f"{g.name} ({unranked(g, lang)})"
        band = NONE if g.rank_band is None else str(g.rank_band)
        row = [band, _rank(g), name, count(g.n), number(g.sipas), number(g.moe),
               *[number(g.elements.get(e)) for e, _ in results.elements]]
        if results.previous_period is not None:
            row.append(number(g.change, signed=True))
        if points:
            row.append(number(points[g.key].points) if g.key in points else NONE)
        rows.append(row)
    return rows


def _rank(g: GroupResult) -> str:
    """The point rank with its 95 % interval, '3 (2–5)'; the point rank alone when it is certain."""
    if g.rank is None:
        return NONE
    if g.rank_low is None or g.rank_low == g.rank_high:
        return str(g.rank)
    return f"{g.rank} ({g.rank_low}–{g.rank_high})"


def _ranking_table(pdf: ReportPdf, results: Results, groups: Sequence[GroupResult],
                   points: dict[str, UnitPoints]) -> None:
    lang = pdf.language
    elements = [e for e, _ in results.elements]
    header = [t("report.col.band", lang), t("report.col.rank", lang), t("doc.col.unit", lang),
              t("report.col.responses", lang), t("doc.col.sipas", lang), t("report.col.moe", lang), *elements]
    widths = [11, 21, 0, 13, 14, 13, *[10] * len(elements)]
    if results.previous_period is not None:
        header.append(t("report.col.change", lang, period=results.previous_period.label))
        widths.append(15)
    if points:
        header.append(t("doc.cchc_points", lang))
        widths.append(13)
    widths[2] = pdf.epw - sum(widths)  # the unit's name takes what the numbers leave
    pdf.set_font(FONT, size=7.5)
    with pdf.table(col_widths=widths, text_align=["CENTER", "CENTER", "LEFT"] + ["RIGHT"] * (len(widths) - 3),
                   headings_style=HEADINGS, line_height=4.2) as table:
        table.row(header)
        for row in _ranking_rows(results, groups, points, lang):
            table.row(row)
    pdf.ln(3)


def _summary(pdf: ReportPdf, results: Results, blocks: Sequence[GroupResult]) -> None:
    lang = pdf.language
    units = [g for g in results.groups if g.n > 0]
    ranked = [g for g in results.groups if g.rank is not None]
    pdf.heading(f"1. {t('report.overview', lang)}")
    pdf.paragraph(t("report.totals", lang, n=count(sum(g.n for g in results.groups)), units=count(len(units)),
                    ranked=count(len(ranked))))
    lines = [t("report.block_line", lang, name=block_title(b.key, lang), sipas=number(b.sipas), moe=number(b.moe),
               units=count(b.units), n=count(b.n)) for b in blocks]
    pdf.paragraph("\n".join(lines))


def _cases(pdf: ReportPdf, results: Results, section: int) -> None:
    """The units that received complaints: how many, answered on time, overdue, time to answer."""
    lang = pdf.language
    groups = [g for block in results.blocks().values() for g in block if g.cases and g.cases.opened]
    pdf.heading(f"{section}. {t('doc.cases', lang)}")
    if not groups:
        pdf.paragraph(t("report.no_cases", lang))
        return
    pdf.set_font(FONT, size=7.5)
    widths = [0, 18, 24, 16, 34]
    widths[0] = pdf.epw - sum(widths)
    with pdf.table(col_widths=widths, text_align=["LEFT"] + ["RIGHT"] * 4, headings_style=HEADINGS,
                   line_height=4.2) as table:
        table.row([t("doc.col.unit", lang), t("report.col.opened", lang), t("report.col.on_time", lang),
                   t("report.col.overdue", lang), t("report.col.hours", lang)])
        for g in groups:
            c = g.cases
            assert c is not None
            table.row([g.name, count(c.opened), number(c.on_time_pct), count(c.overdue),
                       number(c.median_hours, 0)])
    pdf.ln(3)


def _notes(pdf: ReportPdf, results: Results, table: RuleTable | None) -> None:
    lang = pdf.language
    pdf.heading(t("doc.notes", lang))
    notes = [results.provenance + ".", *results.notes]
    notes.append(t("report.note.band", lang, band=t("report.col.band", lang), rank=t("report.col.rank", lang)))
    if results.previous_period is not None:
        notes.append(t("report.note.change", lang, period=results.previous_period.label))
    if table is not None:
        cchc = t("report.note.cchc", lang, title=table.title, name=table.name)
        notes.append(f"{cchc} {t('report.note.example', lang)}" if table.example else cchc)
    pdf.paragraph("\n".join(f"– {n}" for n in notes), size=8)


def write_report(results: Results, blocks: Results, path: str | Path, points: Sequence[UnitPoints] | None = None,
                 table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> None:
    """Write the PDF in `lang`: title, overview with the block indices, one ranking table per block, notes.

    `results` are by unit, `blocks` the same period by block (computed by the method's group rule)."""
    if results.by != "unit" or blocks.by != "block":
        raise ValueError(both("report.needs_units"))
    pdf = ReportPdf(f"SIPAS {results.period.label} · {results.method.name}", lang)
    pdf.add_page()
    pdf.heading(t("report.title", lang), size=13)
    period = results.period
    pdf.paragraph(t("report.period", lang, title=period.title(lang), first=period.first, last=period.last,
                    at=results.computed_at), size=10)
    _summary(pdf, results, blocks.groups)
    by_key = {p.group.key: p for p in points or ()}
    section = 1
    for section, (block, groups) in enumerate(results.blocks().items(), start=2):
        pdf.heading(f"{section}. {t('report.ranking', lang, block=block_title(block, lang))}")
        _ranking_table(pdf, results, groups, by_key)
    _cases(pdf, results, section + 1)
    _notes(pdf, results, table)
    pdf.output(str(path))
