"""Exports: JSON per DESIGN.md §6, CSV and table, XLSX sheets, PDF report, formula neutralisation."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from factories import add, at, dvc_answers, dvc_response, golden_unit
from openpyxl import load_workbook
from pypdf import PdfReader

from results import Method, compute, report
from results.cchc import cchc_points, load_rules
from results.export import (
    neutralise,
    ordered_groups,
    result_columns,
    to_csv,
    to_json,
    to_table,
    write_xlsx,
)
from results.model import Results
from survey_app.core import config
from survey_app.core.i18n import t
from survey_app.db.store import Store

SMALL = Method(name="small", min_sample=2)
DESIGN_KEYS = {"unit_id", "name", "block", "n", "sipas", "moe", "elements", "items", "adequate", "rank"}


@pytest.fixture
def results(store: Store) -> Results:
    store.write(lambda con: con.execute(
        "INSERT INTO units (unit_id, name, block) VALUES ('x-evil', '=HYPERLINK(\"http://x\")', 'so')"))
    golden_unit(store)
    add(store, [dvc_response("x-evil", dvc_answers(4, pa=None), when=at(2026, 2, 2)) for _ in range(2)]
        + [dvc_response("q-dong-da", dvc_answers(5, pa=5), when=at(2026, 2, 2)) for _ in range(3)])
    return compute(store, "2026-Q1", method=SMALL)


@pytest.mark.parametrize("text", ["=1+2", "+1", "-cmd", "@SUM(A1)", "\tx"])
def test_text_that_starts_a_formula_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert neutralise(-3.5) == -3.5
    assert neutralise("Sở Lao động - Thương binh và Xã hội") == "Sở Lao động - Thương binh và Xã hội"


def test_json_has_one_object_per_group_with_the_design_keys(results: Results) -> None:
    objects = json.loads(to_json(results))
    assert len(objects) == len(results.groups)
    assert all(set(o) >= DESIGN_KEYS for o in objects)
    tai_chinh = next(o for o in objects if o["unit_id"] == "so-tai-chinh")
    assert tai_chinh["items"]["TC1"] == {"n": 4, "n1": 0, "n2": 0, "n3": 1, "n4": 2, "n5": 1, "na": 0, "pct": 75.0}
    assert tai_chinh["rule_set"] == "small"
    assert tai_chinh["instrument_versions"] == list(results.instrument_versions)
    assert tai_chinh["rank"] == 2 and tai_chinh["adequate"] is True  # x-evil (100) ranks first in Khối Sở
    assert tai_chinh["questions"]["gay_phien_ha"]["pct"]["co"] == pytest.approx(100 / 3)


def test_csv_and_table(results: Results) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(result_columns(results), ordered_groups(results)))))
    evil = next(r for r in rows if r["key"] == "x-evil")
    assert evil["name"].startswith("'=")
    tai_chinh = next(r for r in rows if r["key"] == "so-tai-chinh")
    assert tai_chinh["sipas"] == "55.58" and tai_chinh["TC"] == "56.25"
    table = to_table(result_columns(results), ordered_groups(results))
    assert table.splitlines()[0].startswith("Hạng") and "Sở Tài chính" in table and "55.58" in table


def test_xlsx_has_ranking_per_block_elements_items_and_notes(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "ket-qua.xlsx"
    table = load_rules(config.PROJECT_DIR / "results" / "rules" / "vi-du-ha-noi.yaml")
    write_xlsx(results, path, cchc_points(results, table), table)
    book = load_workbook(path)
    assert book.sheetnames == ["Khối Sở, ban, ngành", "Khối quận, huyện, thị xã", "Chỉ số thành phần", "Tiêu chí",
                               "Nhận định, mong đợi", "Điểm CCHC", "Ghi chú"]
    so = book["Khối Sở, ban, ngành"]
    header = [c.value for c in so[1]]
    first = dict(zip(header, [c.value for c in so[2]], strict=True))
    assert (first["Hạng"], first["Mã"], first["Tên"]) == (1, "x-evil", "'=HYPERLINK(\"http://x\")")
    assert so.cell(row=2, column=header.index("SIPAS (%)") + 1).number_format == "0.00"
    items = book["Tiêu chí"]
    item_header = [c.value for c in items[1]]
    tc1 = next(dict(zip(item_header, [c.value for c in row], strict=True)) for row in items.iter_rows(min_row=2)
               if row[0].value == "so-tai-chinh" and row[3].value == "TC1")
    assert (tc1["n3"], tc1["n4"], tc1["n5"], tc1["Số trả lời"]) == (1, 2, 1, 4)
    notes = "\n".join(str(c.value) for row in book["Ghi chú"].iter_rows() for c in row)
    assert "small" in notes and results.instrument_versions[0] in notes and "VÍ DỤ" in notes


def test_pdf_report_has_the_title_and_block_rankings(store: Store, results: Results, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.pdf"
    blocks = compute(store, "2026-Q1", by="block", method=SMALL)
    report.write_report(results, blocks, path)
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    assert "KẾT QUẢ ĐO LƯỜNG SỰ HÀI LÒNG" in text
    assert "Xếp hạng Khối Sở, ban, ngành" in text and "Xếp hạng Khối quận, huyện, thị xã" in text
    assert "Sở Tài chính" in text and "55,58" in text and "Quận Đống Đa" in text
    assert "Quý I/2026" in text


VIETNAMESE_LETTER = re.compile(r"[À-ÃÈ-ÊÌÍÒ-ÕÙÚÝà-ãè-êìíò-õùúýĂăĐđĨĩŨũƠơƯưẠ-ỹ]")


def _headings(path: Path) -> dict[str, list[str]]:
    """Each sheet's name → its heading row and, on the notes sheet, the labels of column A."""
    book = load_workbook(path)
    notes = book.worksheets[-1]
    return {**{sheet.title: [str(c.value) for c in sheet[1]] for sheet in book.worksheets},
            "notes column A": [str(row[0].value) for row in notes.iter_rows(min_row=2)]}


def test_the_workbook_takes_its_words_from_the_catalogue_in_either_language(results: Results, tmp_path: Path) -> None:
    table = load_rules(config.PROJECT_DIR / "results" / "rules" / "vi-du-ha-noi.yaml")
    for lang in ("vi", "en"):
        write_xlsx(results, tmp_path / f"{lang}.xlsx", cchc_points(results, table), table, lang=lang)
    vi, en = _headings(tmp_path / "vi.xlsx"), _headings(tmp_path / "en.xlsx")
    assert list(vi)[:7] == ["Khối Sở, ban, ngành", "Khối quận, huyện, thị xã", "Chỉ số thành phần", "Tiêu chí",
                            "Nhận định, mong đợi", "Điểm CCHC", "Ghi chú"]  # the default: Vietnamese, as before
    assert list(en)[:7] == ["Departments", "Districts and towns", "Element indices", "Items",
                            "Perceptions, expectations", "CCHC points", "Notes"]
    assert en["Departments"][:5] == ["Rank", "Code", "Name", "Block", "Responses"]
    assert "Change since 2025-Q4" in en["Departments"] and "Against the block mean" in en["Departments"]
    for (vi_sheet, vi_words), (en_sheet, en_words) in zip(vi.items(), en.items(), strict=True):
        assert len(vi_words) == len(en_words), en_sheet  # the same columns, each heading translated
        assert not VIETNAMESE_LETTER.search(en_sheet) and not any(VIETNAMESE_LETTER.search(w) for w in en_words), \
            (en_sheet, [w for w in en_words if VIETNAMESE_LETTER.search(w)])
        assert any(VIETNAMESE_LETTER.search(w) for w in vi_words), vi_sheet
    notes = load_workbook(tmp_path / "en.xlsx")["Notes"]
    entries = {row[0].value: row[1].value for row in notes.iter_rows(min_row=2)}
    assert entries["Reporting period"] == "Quarter I 2026 (2026-Q1)"
    assert entries["  an example"] == "YES — not an official rule"


def _text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_the_report_takes_its_words_from_the_catalogue_in_either_language(store: Store, results: Results,
                                                                          tmp_path: Path) -> None:
    blocks = compute(store, "2026-Q1", by="block", method=SMALL)
    report.write_report(results, blocks, tmp_path / "vi.pdf")  # the default
    report.write_report(results, blocks, tmp_path / "en.pdf", lang="en")
    texts = {"vi": _text(tmp_path / "vi.pdf"), "en": _text(tmp_path / "en.pdf")}
    headings = ("report.title", "report.overview", "report.ranking", "report.col.band", "report.col.rank",
                "report.col.moe", "doc.cases", "report.no_cases", "doc.notes")
    for lang, other in (("vi", "en"), ("en", "vi")):
        for key in headings:  # each in its own language only ({block}: the first ranking's)
            assert t(key, lang, block=t("block.so", lang)) in texts[lang], (lang, key)
            assert t(key, other, block=t("block.so", other)) not in texts[lang], (lang, key)
    assert "Xếp hạng Khối Sở, ban, ngành" in texts["vi"] and "Ranking: Departments" in texts["en"]
    assert "Quý I/2026" in texts["vi"] and "Quarter I 2026" in texts["en"]
    assert "Trang 1/" in texts["vi"] and "page 1 of" in texts["en"] and "Trang" not in texts["en"]
    assert "55,58" in texts["en"] and "55.58" not in texts["en"]  # one number format, whatever the language


def test_pdf_without_a_vietnamese_font_fails_clearly(results: Results, store: Store, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "FONT_DIRS", (tmp_path,))
    blocks = compute(store, "2026-Q1", by="block")
    with pytest.raises(report.FontMissing, match="fonts-dejavu-core"):
        report.write_report(results, blocks, tmp_path / "x.pdf")
