"""QR codes, counter posters, label sheets and the "show on screen" image (issue 4, DESIGN §5).

Plain functions from a `PlaceLink` (or a URL) to file bytes; nothing here touches the database.

- Error correction H (30 % of codewords recoverable): posters get scuffed and photographed at an
  angle, and an optional logo covers up to LOGO_SHARE of the symbol's width (4 % of its area).
- A quiet zone of four modules, as ISO/IEC 18004 requires; phones fail on tighter borders.
- Codes go into PDFs as vectors (qrcode's SVG, embedded by fpdf2), so they print sharp at any size.
- Text uses the DejaVu Sans shipped in survey_app/core/fonts: every Vietnamese letter, on any machine,
  whatever fonts the system has. Names are NFC-normalised first, because a decomposed "ệ"
  (e + two combining marks) is drawn with misplaced marks by Pillow's basic layout.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from pathlib import Path

import qrcode
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.image.svg import SvgPathImage

from survey_app.collection.links import PlaceLink
from survey_app.core import config
from survey_app.core.formats import neutralise
from survey_app.core.i18n import t

FONT_DIR = config.FONTS_DIR
FONT_FAMILY = "DejaVu"
FONT_FILES = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
# Posters speak to every citizen: Vietnamese large, English small below it.
INSTRUCTION, INSTRUCTION_EN = t("poster.scan", "vi"), t("poster.scan", "en")
FOOTER = t("poster.footer")
QUIET_ZONE = 4
LOGO_SHARE = 0.2  # under the 25 % ceiling, leaving H's margin for dirt and glare
PAGE_SIZES = {"a4": (210, 297), "a5": (148, 210)}  # mm
GREY = (90, 90, 90)
SHEET_COLUMNS, SHEET_ROWS, SHEET_MARGIN_MM = 3, 4, 10


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _symbol(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_H, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return code


def _logo_width(code_width: float, modules: int) -> float:
    """Logo width for a code drawn `code_width` wide (quiet zone included)."""
    return code_width * LOGO_SHARE * modules / (modules + 2 * QUIET_ZONE)


# -- the code alone ------------------------------------------------------------------------------

def qr_image(url: str, *, box_size: int = 10, logo: Path | None = None) -> Image.Image:
    code = _symbol(url)
    code.box_size = box_size
    image = code.make_image().get_image().convert("RGB")
    if logo is not None:
        side = int(_logo_width(image.width, code.modules_count))
        mark = Image.open(logo).convert("RGBA")
        mark.thumbnail((side, side))
        pad = Image.new("RGB", (mark.width + box_size, mark.height + box_size), "white")
        pad.paste(mark, (box_size // 2, box_size // 2), mark)
        image.paste(pad, ((image.width - pad.width) // 2, (image.height - pad.height) // 2))
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_png(url: str, *, box_size: int = 10, logo: Path | None = None) -> bytes:
    return _png(qr_image(url, box_size=box_size, logo=logo))


def qr_svg(url: str) -> bytes:
    """A vector code (no logo: SVG users place their own artwork)."""
    return _symbol(url).make_image(image_factory=SvgPathImage).to_string()


# -- PDF -----------------------------------------------------------------------------------------

def _new_pdf(size: str, title: str) -> FPDF:
    if size not in PAGE_SIZES:
        raise ValueError(f"size must be one of {', '.join(PAGE_SIZES)}")
    pdf = FPDF(unit="mm", format=PAGE_SIZES[size])
    pdf.set_auto_page_break(False)
    pdf.set_title(_nfc(title))
    pdf.set_creator("SIPAS")
    for style, path in FONT_FILES.items():
        pdf.add_font(FONT_FAMILY, style, path)
    return pdf


def _text(pdf: FPDF, text: str, size: float, *, bold: bool = False, grey: bool = False,
          width: float = 0, wrap_anywhere: bool = False) -> None:
    """Centred, wrapped text at the current position; the cursor moves below it."""
    pdf.set_font(FONT_FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*(GREY if grey else (0, 0, 0)))
    pdf.multi_cell(width, size * 0.5, _nfc(text), align="C", new_x="LEFT", new_y="NEXT",
                   wrapmode="CHAR" if wrap_anywhere else "WORD")


def _draw_code(pdf: FPDF, url: str, x: float, y: float, width: float, logo: Path | None) -> None:
    pdf.image(io.BytesIO(qr_svg(url)), x=x, y=y, w=width, h=width)
    if logo is not None:
        side = _logo_width(width, _symbol(url).modules_count)
        pdf.set_fill_color(255, 255, 255)
        pad = side * 0.08
        pdf.rect(x + (width - side) / 2 - pad, y + (width - side) / 2 - pad, side + 2 * pad, side + 2 * pad, "F")
        pdf.image(logo, x=x + (width - side) / 2, y=y + (width - side) / 2, w=side, h=side,
                  keep_aspect_ratio=True)


def _title_size(pdf: FPDF, text: str, size: float, smallest: float) -> float:
    """Shrink a title towards `smallest` so it fits on one line; past that it wraps."""
    pdf.set_font(FONT_FAMILY, "B", size)
    one_line = size * pdf.epw / max(pdf.get_string_width(_nfc(text)), 1e-6)
    return max(smallest, min(size, one_line * 0.98))


def _draw_poster(pdf: FPDF, place: PlaceLink, logo: Path | None) -> None:
    pdf.add_page()
    scale = pdf.w / PAGE_SIZES["a4"][0]  # A4 and A5 have one shape: lay out on A4, scale for A5
    pdf.set_margins(15 * scale, 15 * scale)
    pdf.set_y(18 * scale)
    _text(pdf, place.unit_name, _title_size(pdf, place.unit_name, 26 * scale, 18 * scale), bold=True)
    if place.counter_name:
        _text(pdf, place.counter_name, 20 * scale)
    pdf.ln(6 * scale)
    _text(pdf, INSTRUCTION, 17 * scale, bold=True)
    _text(pdf, INSTRUCTION_EN, 11 * scale, grey=True)
    footer_top = pdf.h - 16 * scale
    room = footer_top - pdf.get_y() - 16 * scale  # what the code and its URL line may use
    width = min(170 * scale, room)
    top = pdf.get_y() + (room - width) / 2
    _draw_code(pdf, place.url, (pdf.w - width) / 2, top, width, logo)
    pdf.set_y(top + width)
    _text(pdf, place.url, 8.5 * scale, grey=True, wrap_anywhere=True)
    pdf.set_y(footer_top)
    _text(pdf, FOOTER, 9 * scale, grey=True)


def poster_pdf(place: PlaceLink, size: str = "a4", *, logo: Path | None = None) -> bytes:
    """A printable poster: unit, counter, instruction, the code, and its URL under it."""
    pdf = _new_pdf(size, f"{place.unit_name} — {place.counter_name or ''}")
    _draw_poster(pdf, place, logo)
    return bytes(pdf.output())


def label_sheet_pdf(places: Sequence[PlaceLink]) -> bytes:
    """A4 pages of small labelled codes with dashed cutting lines, SHEET_COLUMNS × SHEET_ROWS a page."""
    pdf = _new_pdf("a4", t("poster.labels_title"))
    cell_w = (pdf.w - 2 * SHEET_MARGIN_MM) / SHEET_COLUMNS
    cell_h = (pdf.h - 2 * SHEET_MARGIN_MM) / SHEET_ROWS
    code_w = cell_h * 0.74
    for index, place in enumerate(places):
        slot = index % (SHEET_COLUMNS * SHEET_ROWS)
        if slot == 0:
            pdf.add_page()
            pdf.set_dash_pattern(dash=1, gap=1)
            pdf.set_draw_color(160, 160, 160)
        x = SHEET_MARGIN_MM + (slot % SHEET_COLUMNS) * cell_w
        y = SHEET_MARGIN_MM + (slot // SHEET_COLUMNS) * cell_h
        pdf.rect(x, y, cell_w, cell_h)
        _draw_code(pdf, place.url, x + (cell_w - code_w) / 2, y + 1, code_w, None)
        pdf.set_xy(x + 2, y + 1 + code_w)
        _text(pdf, place.unit_name, 7.5, bold=True, width=cell_w - 4)
        pdf.set_x(x + 2)
        _text(pdf, place.counter_name or "", 7, width=cell_w - 4)
    return bytes(pdf.output())


# -- bulk ----------------------------------------------------------------------------------------

def _file_part(text: str) -> str:
    # Ids come from an imported CSV: keep archive paths plain and inside the archive.
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "_"


def poster_file_name(place: PlaceLink, size: str) -> str:
    return f"{_file_part(place.unit_id)}/{_file_part(place.counter_id or 'don-vi')}-{size}.pdf"


def posters_zip(places: Sequence[PlaceLink], size: str = "a4", *, logo: Path | None = None) -> bytes:
    """A ZIP of one poster per place, plus danh-sach.csv listing each file and its link."""
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(["unit_id", "unit_name", "counter_id", "counter_name", "url", "file"])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for place in places:
            name = poster_file_name(place, size)
            archive.writestr(name, poster_pdf(place, size, logo=logo))
            writer.writerow([neutralise(cell) for cell in (place.unit_id, place.unit_name, place.counter_id or "",
                                                           place.counter_name or "", place.url, name)])
        archive.writestr("danh-sach.csv", "\ufeff" + index.getvalue())  # BOM: Excel then reads UTF-8
    return out.getvalue()


# -- on screen -----------------------------------------------------------------------------------

def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_FILES["B" if bold else ""]), size)


def _fitted(draw: ImageDraw.ImageDraw, text: str, size: int, max_width: int, *,
            bold: bool = False) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` that puts `text` on one line of `max_width` pixels."""
    font = _font(size, bold=bold)
    while size > 12 and draw.textlength(text, font=font) > max_width:
        size = int(size * 0.9)
        font = _font(size, bold=bold)
    return font


def screen_png(place: PlaceLink, *, width: int = 1920, height: int = 1080) -> bytes:
    """A full-screen picture for a counter monitor: unit name, counter, a large code, instruction."""
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    lines = [(_nfc(place.unit_name), height // 14, True), (_nfc(place.counter_name or ""), height // 22, False)]
    y = height // 40
    for text, size, bold in lines:
        font = _fitted(draw, text, size, int(width * 0.94), bold=bold)
        draw.text((width // 2, y), text, font=font, fill="black", anchor="ma")
        y += int(font.size * 1.3)
    footer = _fitted(draw, INSTRUCTION, height // 24, int(width * 0.94), bold=True)
    room = height - y - int(footer.size * 1.6)
    modules = _symbol(place.url).modules_count + 2 * QUIET_ZONE
    code = qr_image(place.url, box_size=max(1, room // modules))
    canvas.paste(code, ((width - code.width) // 2, y + (room - code.height) // 2))
    draw.text((width // 2, height - int(footer.size * 0.6)), INSTRUCTION, font=footer, fill="black", anchor="md")
    return _png(canvas)
