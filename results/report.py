"""The PDF report of a period: "Kết quả đo lường sự hài lòng …" with the block rankings.

fpdf2 with DejaVu Sans, which has every Vietnamese diacritic. The font is looked for in the
project's survey_app/core/fonts, then where Debian's fonts-dejavu-core puts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from results.cchc import RuleTable, UnitPoints
from results.export import NOT_ADEQUATE, block_title
from results.model import GroupResult, Results
from survey_app.core.config import FONTS_DIR
from survey_app.core.formats import count, number

FONT_DIRS = (FONTS_DIR, Path("/usr/share/fonts/truetype/dejavu"))
FONT = "DejaVuSans"
TITLE = ("KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG CỦA NGƯỜI DÂN, TỔ CHỨC ĐỐI VỚI SỰ PHỤC VỤ "
         "CỦA CƠ QUAN HÀNH CHÍNH NHÀ NƯỚC")
HEADER_FILL = (220, 230, 241)


class FontMissing(RuntimeError):
    """No Unicode font with Vietnamese letters: the report cannot be drawn."""


def find_font(style: str = "") -> Path:
    name = f"{FONT}-Bold.ttf" if style == "B" else f"{FONT}.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(f"Không tìm thấy phông {name} (cần cho chữ tiếng Việt): cài gói fonts-dejavu-core "
                      f"(apt-get install fonts-dejavu-core). (Font {name} not found.)")


class ReportPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", find_font())
        self.add_font(FONT, "B", find_font("B"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(10, 12, 10)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(FONT, size=7)
        self.set_text_color(110)
        self.cell(0, 4, f"{self.footer_text} — Trang {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: float = 11) -> None:
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)

    def paragraph(self, text: str, size: float = 9) -> None:
        self.set_font(FONT, size=size)
        self.multi_cell(0, size * 0.48, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)


def _ranking_rows(results: Results, groups: Sequence[GroupResult], points: dict[str, UnitPoints]) -> list[list[str]]:
    rows = []
    for g in groups:
        name = g.name if g.rank is not None else f"{g.name} ({NOT_ADEQUATE if g.n else 'chưa có phiếu'})"
        band = "–" if g.rank_band is None else str(g.rank_band)
        row = [band, _rank(g), name, count(g.n), number(g.sipas), number(g.moe),
               *[number(g.elements.get(e)) for e, _ in results.elements]]
        if results.previous_period is not None:
            row.append(number(g.change, signed=True))
        if points:
            row.append(number(points[g.key].points) if g.key in points else "–")
        rows.append(row)
    return rows


def _rank(g: GroupResult) -> str:
    """The point rank with its 95 % interval, '3 (2–5)'; the point rank alone when it is certain."""
    if g.rank is None:
        return "–"
    if g.rank_low is None or g.rank_low == g.rank_high:
        return str(g.rank)
    return f"{g.rank} ({g.rank_low}–{g.rank_high})"


def _ranking_table(pdf: ReportPdf, results: Results, groups: Sequence[GroupResult],
                   points: dict[str, UnitPoints]) -> None:
    elements = [e for e, _ in results.elements]
    header = ["Nhóm", "Hạng (95 %)", "Đơn vị", "Số phiếu", "SIPAS (%)", "± sai số", *elements]
    widths = [11, 21, 0, 13, 14, 13, *[10] * len(elements)]
    if results.previous_period is not None:
        header.append(f"So với {results.previous_period.label}")
        widths.append(15)
    if points:
        header.append("Điểm CCHC")
        widths.append(13)
    widths[2] = pdf.epw - sum(widths)  # the unit's name takes what the numbers leave
    pdf.set_font(FONT, size=7.5)
    heading = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
    with pdf.table(col_widths=widths, text_align=["CENTER", "CENTER", "LEFT"] + ["RIGHT"] * (len(widths) - 3),
                   headings_style=heading, line_height=4.2) as table:
        table.row(header)
        for row in _ranking_rows(results, groups, points):
            table.row(row)
    pdf.ln(3)


def _summary(pdf: ReportPdf, results: Results, blocks: Sequence[GroupResult]) -> None:
    units = [g for g in results.groups if g.n > 0]
    ranked = [g for g in results.groups if g.rank is not None]
    pdf.heading("1. Tổng quan")
    pdf.paragraph(f"Tổng số phiếu được tính: {count(sum(g.n for g in results.groups))}; số đơn vị có phiếu: "
                  f"{len(units)}; số đơn vị đủ mẫu và được xếp hạng: {len(ranked)}.")
    lines = [f"• {b.name}: SIPAS {number(b.sipas)} % (± {number(b.moe)} điểm), {b.units} đơn vị, "
             f"{count(b.n)} phiếu" for b in blocks]
    pdf.paragraph("\n".join(lines))


def _cases(pdf: ReportPdf, results: Results, section: int) -> None:
    """The units that received complaints: how many, answered on time, overdue, time to answer."""
    groups = [g for block in results.blocks().values() for g in block if g.cases and g.cases.opened]
    pdf.heading(f"{section}. Phản ánh của người dân")
    if not groups:
        pdf.paragraph("Không có phản ánh nào được tiếp nhận trong kỳ.")
        return
    pdf.set_font(FONT, size=7.5)
    heading = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
    widths = [0, 18, 24, 16, 34]
    widths[0] = pdf.epw - sum(widths)
    with pdf.table(col_widths=widths, text_align=["LEFT"] + ["RIGHT"] * 4, headings_style=heading,
                   line_height=4.2) as table:
        table.row(["Đơn vị", "Tiếp nhận", "Đúng hạn (%)", "Quá hạn", "Giờ trả lời (trung vị)"])
        for g in groups:
            c = g.cases
            assert c is not None
            table.row([g.name, count(c.opened), number(c.on_time_pct), count(c.overdue),
                       number(c.median_hours, 0)])
    pdf.ln(3)


def _notes(pdf: ReportPdf, results: Results, table: RuleTable | None) -> None:
    pdf.heading("Ghi chú")
    notes = [results.provenance + ".", *results.notes]
    notes.append("Cột “Nhóm”: các đơn vị cùng nhóm có khoảng hạng 95 % chồng lên nhau — thứ hạng giữa họ có thể "
                 "chỉ do ngẫu nhiên của mẫu, nên được coi là ngang nhau. “Hạng (95 %)”: hạng theo điểm và khoảng "
                 "hạng 95 % (mô phỏng từ sai số của từng đơn vị).")
    if results.previous_period is not None:
        notes.append(f"Cột “So với …”: chênh lệch điểm SIPAS so với kỳ {results.previous_period.label}.")
    if table is not None:
        warning = " ĐÂY LÀ BẢNG VÍ DỤ, KHÔNG PHẢI QUY ĐỊNH CHÍNH THỨC." if table.example else ""
        notes.append(f"Điểm CCHC theo bảng “{table.title}” ({table.name}).{warning}")
    pdf.paragraph("\n".join(f"– {n}" for n in notes), size=8)


def write_report(results: Results, blocks: Results, path: str | Path, points: Sequence[UnitPoints] | None = None,
                 table: RuleTable | None = None) -> None:
    """Write the PDF: title, overview with the block indices, one ranking table per block, notes.

    `results` are by unit, `blocks` the same period by block (computed by the method's group rule)."""
    if results.by != "unit" or blocks.by != "block":
        raise ValueError("báo cáo PDF cần kết quả theo đơn vị (the report needs results by unit)")
    pdf = ReportPdf(f"SIPAS {results.period.label} · {results.method.name}")
    pdf.add_page()
    pdf.heading(TITLE, size=13)
    period = results.period
    pdf.paragraph(f"{period.title_vi} (từ {period.first:%d/%m/%Y} đến {period.last:%d/%m/%Y}) — "
                  f"lập lúc {results.computed_at:%H:%M %d/%m/%Y}", size=10)
    _summary(pdf, results, blocks.groups)
    by_key = {p.group.key: p for p in points or ()}
    section = 1
    for section, (block, groups) in enumerate(results.blocks().items(), start=2):
        pdf.heading(f"{section}. Xếp hạng {block_title(block)}")
        _ranking_table(pdf, results, groups, by_key)
    _cases(pdf, results, section + 1)
    _notes(pdf, results, table)
    pdf.output(str(path))
