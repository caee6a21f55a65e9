"""Exports: JSON per DESIGN.md §6, CSV and table, XLSX sheets, PDF report, formula neutralisation."""

from __future__ import annotations

import csv
import io
import json
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


def test_pdf_without_a_vietnamese_font_fails_clearly(results: Results, store: Store, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report, "FONT_DIRS", (tmp_path,))
    blocks = compute(store, "2026-Q1", by="block")
    with pytest.raises(report.FontMissing, match="fonts-dejavu-core"):
        report.write_report(results, blocks, tmp_path / "x.pdf")
