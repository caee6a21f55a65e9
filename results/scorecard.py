"""The monthly scorecard of a unit (the head's monthly evaluation on citizens' satisfaction): one A4
page per unit and an XLSX summary of every unit.

SIPAS with its margin and change against last month, the rank in its block, the weakest element,
cases opened / answered on time / overdue, and three recent comments (scrubbed again here: bulk
imports do not pass the form's scrubbing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from results.aggregate import compute
from results.cases import CaseStats, recent_comments
from results.export import neutralise
from results.labels import block_title, unranked
from results.model import GroupResult, Results
from results.report import FONT, HEADER_FILL, ReportPdf
from results.scope import Source, open_cursor
from survey_app.core.config import DEFAULT_INSTRUMENT
from survey_app.core.formats import count, number
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
    weakest: tuple[str, str, float] | None  # element id, its name, its index
    elements: tuple[tuple[str, str, float | None], ...]
    cases: CaseStats
    comments: tuple[str, ...]

    @property
    def rank_text(self) -> str:
        if self.group.rank is None:
            return unranked(self.group)
        return f"{self.group.rank}/{self.ranked_in_block}"


def parse_month(text: str) -> Period:
    period = parse_period(text)
    if period.kind != "month":
        raise PeriodError(f"--month cần dạng YYYY-MM, ví dụ 2026-11 (a month is expected: {text!r:.20})")
    return period


def _card(results: Results, group: GroupResult, ranked: dict[str | None, int], comments: list[str]) -> Scorecard:
    names = {e.id: e.text["vi"] for e in results.instrument.elements}
    elements = tuple((e, names.get(e, e), group.elements.get(e)) for e, _ in results.elements)
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
        raise PeriodError(f"không có đơn vị {unit_id!r:.40} (unknown unit)")
    ranked: dict[str | None, int] = {}
    for g in results.groups:
        if g.rank is not None:
            ranked[g.block] = ranked.get(g.block, 0) + 1
    with open_cursor(source) as cur:
        return [_card(results, g, ranked, recent_comments(cur, g.key, month, COMMENTS)) for g in groups]


# -- PDF -------------------------------------------------------------------------------------------

def _headline(pdf: ReportPdf, card: Scorecard) -> None:
    g = card.group
    change = (f"{card.previous.title_vi.lower()}: SIPAS {number(g.previous_sipas)} %"
              if card.previous and g.change is not None else "chưa có số liệu tháng trước để so sánh")
    rows = [
        ["Chỉ số SIPAS", f"{number(g.sipas)} %" if g.sipas is not None else "–",
         f"sai số ± {number(g.moe)} điểm (95 %), {count(g.n)} phiếu"],
        ["Thay đổi so với tháng trước", f"{number(g.change, signed=True)} điểm", change],
        ["Xếp hạng trong khối", card.rank_text, block_title(g.block)],
    ]
    if card.weakest:
        rows.append(["Thành phần thấp nhất", f"{number(card.weakest[2])} %", card.weakest[1]])
    _table(pdf, [52, 30, 0], rows)


def _table(pdf: ReportPdf, widths: list[float], rows: list[list[str]], header: list[str] | None = None,
           weak_row: int | None = None, align: tuple[str, ...] = ("LEFT", "RIGHT", "LEFT")) -> None:
    widths = [w or pdf.epw - sum(widths) for w in widths]
    pdf.set_font(FONT, size=9)
    with pdf.table(col_widths=widths, text_align=list(align),
                   first_row_as_headings=header is not None, line_height=5,
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL)) as table:
        if header:
            table.row(header)
        for i, row in enumerate(rows):
            style = FontFace(fill_color=WEAK_FILL) if i == weak_row else None
            table.row(row, style=style)
    pdf.ln(3)


def _elements(pdf: ReportPdf, card: Scorecard) -> None:
    pdf.heading("2. Các chỉ số thành phần", size=10.5)
    weak = next((i for i, e in enumerate(card.elements) if card.weakest and e[0] == card.weakest[0]), None)
    _table(pdf, [15, 0, 25], [[e, name, number(value)] for e, name, value in card.elements],
           header=["Mã", "Thành phần", "Chỉ số (%)"], weak_row=weak, align=("LEFT", "LEFT", "RIGHT"))


def _cases(pdf: ReportPdf, card: Scorecard) -> None:
    c = card.cases
    pdf.heading("3. Phản ánh của người dân", size=10.5)
    rows = [["Phản ánh tiếp nhận trong tháng", count(c.opened), ""],
            ["Trả lời đúng hạn", f"{c.on_time}/{c.decided}",
             "–" if c.on_time_pct is None else f"{c.on_time_pct:.0f} % số phản ánh đã đến hạn hoặc đã trả lời"],
            ["Đang quá hạn", count(c.overdue), "chưa trả lời, đã quá hạn" if c.overdue else ""],
            ["Thời gian trả lời (trung vị)", "–" if c.median_hours is None else f"{c.median_hours:.0f} giờ", ""]]
    _table(pdf, [70, 25, 0], rows)


def _comments(pdf: ReportPdf, card: Scorecard) -> None:
    pdf.heading("4. Góp ý gần đây của người dân", size=10.5)
    if not card.comments:
        pdf.paragraph("Không có góp ý nào trong tháng.")
        return
    for text in card.comments:
        shown = text if len(text) <= 400 else text[:399] + "…"
        pdf.paragraph(f"“{shown}”", size=9)


def write_scorecard_pdf(card: Scorecard, path: str | Path) -> None:
    """One A4 page: headline figures, elements (the weakest shaded), cases, comments."""
    pdf = ReportPdf(f"SIPAS · {card.group.name} · {card.month.title_vi}")
    pdf.add_page()
    pdf.heading(f"PHIẾU KẾT QUẢ HÀI LÒNG — {card.month.title_vi.upper()}", size=13)
    pdf.heading(card.group.name, size=12)
    pdf.paragraph(f"{block_title(card.group.block)} · từ {card.month.first:%d/%m/%Y} đến {card.month.last:%d/%m/%Y}"
                  " · số liệu tính theo giờ Việt Nam", size=9)
    pdf.heading("1. Kết quả chung", size=10.5)
    _headline(pdf, card)
    _elements(pdf, card)
    _cases(pdf, card)
    _comments(pdf, card)
    pdf.output(str(path))


# -- XLSX ------------------------------------------------------------------------------------------

SUMMARY_COLUMNS = (
    ("Mã đơn vị", lambda c: c.group.key), ("Đơn vị", lambda c: c.group.name),
    ("Khối", lambda c: block_title(c.group.block)), ("Số phiếu", lambda c: c.group.n),
    ("SIPAS (%)", lambda c: c.group.sipas), ("Sai số ± (điểm)", lambda c: c.group.moe),
    ("SIPAS tháng trước (%)", lambda c: c.group.previous_sipas), ("Thay đổi (điểm)", lambda c: c.group.change),
    ("Hạng trong khối", lambda c: c.group.rank), ("Số đơn vị được xếp hạng", lambda c: c.ranked_in_block),
    ("Thành phần thấp nhất", lambda c: c.weakest[1] if c.weakest else None),
    ("Chỉ số thấp nhất (%)", lambda c: c.weakest[2] if c.weakest else None),
    ("Phản ánh tiếp nhận", lambda c: c.cases.opened), ("Trả lời đúng hạn", lambda c: c.cases.on_time),
    ("Trả lời đúng hạn (%)", lambda c: c.cases.on_time_pct), ("Đang quá hạn", lambda c: c.cases.overdue),
    ("Thời gian trả lời, trung vị (giờ)", lambda c: c.cases.median_hours),
)


def write_summary_xlsx(cards: Sequence[Scorecard], path: str | Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Tổng hợp"
    sheet.append([header for header, _ in SUMMARY_COLUMNS])
    for card in cards:
        sheet.append([neutralise(get(card)) for _, get in SUMMARY_COLUMNS])
    for i, (header, _) in enumerate(SUMMARY_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(40, max(10, len(header) + 2))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"
    sheet.freeze_panes = "C2"
    book.save(path)


def write_scorecards(source: Source, month: Period, out_dir: str | Path, unit_id: str | None = None) -> list[Path]:
    """Every unit's PDF and the summary XLSX into `out_dir`; the paths written."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cards = scorecards(source, month, unit_id)
    written = []
    for card in cards:
        path = folder / f"phieu-{month.label}-{card.group.key}.pdf"
        write_scorecard_pdf(card, path)
        written.append(path)
    summary = folder / f"tong-hop-{month.label}.xlsx"
    write_summary_xlsx(cards, summary)
    return [*written, summary]
