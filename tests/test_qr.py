"""QR codes and posters: every code decodes back to exactly its link, names keep their diacritics."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from survey_app.admin.units import import_units_file
from survey_app.cli import main
from survey_app.collection import links, qr
from survey_app.core import config
from survey_app.store import Store, open_store

UNIT_NAME = "Sở Lao động - Thương binh và Xã hội"


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "keys")
    monkeypatch.delenv("SIPAS_SECRET", raising=False)


@pytest.fixture
def place() -> links.PlaceLink:
    token = links.make_token("so-ldtbxh", "quay-1", "sipas-dvc")
    return links.PlaceLink("so-ldtbxh", UNIT_NAME, "quay-1", "Quầy 1", links.survey_url(token))


@pytest.fixture
def logo(tmp_path: Path) -> Path:
    path = tmp_path / "logo.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(path)
    return path


@pytest.fixture
def small_tree(tmp_path: Path) -> Iterator[Store]:
    """Four units: one with two counters, one with its only counter closed, one closed, one district."""
    units = tmp_path / "units.csv"
    units.write_text("unit_id,name,block,parent_id\nso-a,Sở Tài chính,so,\nso-b,Sở Tư pháp,so,\n"
                     "so-c,Sở Nội vụ,so,\nso-d,Sở Y tế,so,\nh-e,Huyện Ba Vì,huyen,\n", encoding="utf-8")
    with open_store(tmp_path / "tree.duckdb") as store:
        import_units_file(store, units)
        store.write(lambda con: con.execute(
            "INSERT INTO counters (unit_id, counter_id, name) VALUES ('so-a', 'quay-2', 'Quầy 2 — Đất đai')"))
        store.write(lambda con: con.execute("UPDATE counters SET active = FALSE WHERE unit_id = 'so-c'"))
        store.write(lambda con: con.execute("UPDATE units SET active = FALSE WHERE unit_id = 'so-d'"))
        yield store


def decode(image: Image.Image) -> list[str]:
    # QR codes only: the poster's text can look like a linear barcode to a decoder trying every format.
    return [found.text for found in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def page_codes(pdf: bytes, dpi: int = 150) -> list[list[str]]:
    """Every code on every page, read from the page as a printer would draw it."""
    return [decode(page.render(scale=dpi / 72).to_pil()) for page in pypdfium2.PdfDocument(pdf)]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_png_decodes_to_exactly_the_link(place: links.PlaceLink, logo: Path) -> None:
    for image in (qr.qr_png(place.url), qr.qr_png(place.url, logo=logo, box_size=6)):
        assert decode(Image.open(io.BytesIO(image))) == [place.url]


def test_code_keeps_a_four_module_quiet_zone(place: links.PlaceLink) -> None:
    image = qr.qr_image(place.url, box_size=5).convert("L")
    border = qr.QUIET_ZONE * 5
    far = image.width - border  # the code is square
    for box in ((0, 0, image.width, border), (0, 0, border, image.width),
                (far, 0, image.width, image.width), (0, far, image.width, image.width)):
        assert image.crop(box).getextrema() == (255, 255)
    assert image.crop((border, border, border + 5, border + 5)).getextrema() == (0, 0)  # finder corner starts there


def test_logo_stays_under_a_quarter_of_the_width(place: links.PlaceLink, logo: Path) -> None:
    plain = qr.qr_image(place.url).convert("RGB")
    marked = qr.qr_image(place.url, logo=logo).convert("RGB")
    red_columns = {x for x in range(marked.width) for y in (marked.height // 2,)
                   if marked.getpixel((x, y)) == (200, 30, 30)}
    symbol_width = plain.width - 2 * qr.QUIET_ZONE * 10
    assert 0 < len(red_columns) < 0.25 * symbol_width


def test_svg_is_a_vector_code_with_its_quiet_zone(place: links.PlaceLink) -> None:
    svg = ElementTree.fromstring(qr.qr_svg(place.url))
    size = int(svg.get("viewBox", "").split()[2])
    modules = qr.qr_image(place.url, box_size=1).width - 2 * qr.QUIET_ZONE
    assert size == modules + 2 * qr.QUIET_ZONE
    assert svg.find("{http://www.w3.org/2000/svg}path") is not None


@pytest.mark.parametrize("size", ["a4", "a5"])
def test_poster_code_decodes_and_text_keeps_diacritics(place: links.PlaceLink, logo: Path, size: str) -> None:
    for with_logo in (None, logo):
        pdf = qr.poster_pdf(place, size, logo=with_logo)
        assert page_codes(pdf, dpi=100) == [[place.url]]
    text = pdf_text(pdf)
    assert UNIT_NAME in text and "Quầy 1" in text
    assert qr.INSTRUCTION in text
    assert place.url in text.replace("\n", "")
    width_mm = PdfReader(io.BytesIO(pdf)).pages[0].mediabox.width * 25.4 / 72
    assert round(width_mm) == qr.PAGE_SIZES[size][0]


def test_decomposed_names_are_printed_composed(place: links.PlaceLink) -> None:
    decomposed = unicodedata.normalize("NFD", UNIT_NAME)
    assert decomposed != UNIT_NAME
    pdf = qr.poster_pdf(links.PlaceLink("x", decomposed, None, None, place.url))
    assert UNIT_NAME in pdf_text(pdf)


def test_screen_image_is_large_and_decodes(place: links.PlaceLink) -> None:
    image = Image.open(io.BytesIO(qr.screen_png(place)))
    assert image.size == (1920, 1080)
    assert decode(image) == [place.url]


def test_label_sheet_holds_every_code_once(small_tree: Store) -> None:
    places = links.tree_links(small_tree, "sipas-dvc") * 4  # 16 labels: two pages
    pdf = qr.label_sheet_pdf(places)
    per_page = qr.SHEET_COLUMNS * qr.SHEET_ROWS
    pages = page_codes(pdf)
    assert len(pages) == 2
    for number, found in enumerate(pages):
        assert sorted(found) == sorted(p.url for p in places[number * per_page:(number + 1) * per_page])
    assert "Quầy 2 — Đất đai" in pdf_text(pdf)


def test_bulk_zip_covers_every_active_counter_exactly_once(small_tree: Store) -> None:
    places = links.tree_links(small_tree, "sipas-dvc", block="so")
    archive = zipfile.ZipFile(io.BytesIO(qr.posters_zip(places, "a5")))
    rows = list(csv.DictReader(io.StringIO(archive.read("danh-sach.csv").decode("utf-8-sig"))))
    assert sorted((r["unit_id"], r["counter_id"]) for r in rows) == [
        ("so-a", "quay-1"), ("so-a", "quay-2"), ("so-b", "quay-1")]
    assert sorted(archive.namelist()) == sorted([*(r["file"] for r in rows), "danh-sach.csv"])
    for row in rows:
        pdf = archive.read(row["file"])
        assert page_codes(pdf, dpi=100) == [[row["url"]]]
        assert row["unit_name"] in pdf_text(pdf)
        assert links.verify_token(row["url"].split("k=")[1].split("&")[0]).counter_id == row["counter_id"]


def test_archive_paths_stay_inside_the_archive() -> None:
    hostile = links.PlaceLink("../../etc", "X", "a/b", "Y", "http://x/?k=a")
    assert qr.poster_file_name(hostile, "a4") == "etc/a_b-a4.pdf"


@pytest.fixture
def initialised(db_path: Path) -> Path:
    assert main(["init", "--db", str(db_path)]) == 0
    return db_path


def test_cli_writes_each_kind_of_file(initialised: Path, tmp_path: Path) -> None:
    db = ["--db", str(initialised)]
    one = [*db, "--unit", "so-tu-phap", "--counter", "quay-1"]
    for name in ("code.png", "code.svg", "poster.pdf"):
        assert main(["qr", *one, "--out", str(tmp_path / name), "--size", "a5"]) == 0
    url = decode(Image.open(tmp_path / "code.png"))[0]
    assert page_codes((tmp_path / "poster.pdf").read_bytes(), dpi=100) == [[url]]
    assert "Sở Tư pháp" in pdf_text((tmp_path / "poster.pdf").read_bytes())
    tree = [*db, "--unit", "so-tu-phap"]  # a tree of one unit: its counters
    assert main(["qr", *tree, "--sheet", "--out", str(tmp_path / "labels.pdf")]) == 0
    assert page_codes((tmp_path / "labels.pdf").read_bytes()) == [[url]]
    assert main(["qr", *tree, "--out", str(tmp_path / "posters.zip")]) == 0
    assert zipfile.ZipFile(tmp_path / "posters.zip").namelist() == ["so-tu-phap/quay-1-a4.pdf", "danh-sach.csv"]


@pytest.mark.parametrize("args", [
    ["--unit", "so-tu-phap", "--out", "x.txt"],
    ["--block", "so", "--out", "x.png"],
    ["--sheet", "--block", "so", "--out", "x.zip"],
    ["--unit", "so-tu-phap", "--counter", "quay-1", "--out", "x.zip"],
    ["--unit", "so-khong-co", "--out", "x.pdf"],
    ["--unit", "so-tu-phap", "--out", "x.pdf", "--size", "a3"],
    ["--out", "x.pdf"],
])
def test_cli_refuses_bad_requests_in_one_line(initialised: Path, tmp_path: Path, args: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    assert main(["qr", "--db", str(initialised), *out]) == 2
    assert capsys.readouterr().err.startswith("Lỗi: ")
    assert not list(tmp_path.glob("x.*"))
