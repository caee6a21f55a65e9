"""Importing dossier counts: every bad row named in Vietnamese, and nothing imported from a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.admin.dossiers import DossierCount, DossiersFileError, import_dossiers_file, list_dossiers
from survey_app.admin.units import import_units_file
from survey_app.cli import main
from survey_app.core import config
from survey_app.store import Store, open_store


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "dossiers.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_import_normalises_periods_and_replaces_earlier_counts(store: Store, tmp_path: Path) -> None:
    text = "unit_id,period,dossiers\nso-tai-chinh,2026-q3,1200\nq-cau-giay,2026-09,340\nso-noi-vu,2026,0\n"
    assert import_dossiers_file(store, write(tmp_path, "\ufeff" + text)) == 3
    assert import_dossiers_file(store, write(tmp_path, "unit_id;period;dossiers\nso-tai-chinh;2026-Q3;1250\n")) == 1
    assert list_dossiers(store) == [DossierCount("q-cau-giay", "2026-09", 340), DossierCount("so-noi-vu", "2026", 0),
                                    DossierCount("so-tai-chinh", "2026-Q3", 1250)]


@pytest.mark.parametrize(("row", "message"), [
    ("so-khong-co,2026-Q3,10", "không có đơn vị mã 'so-khong-co'"),
    ("so-tai-chinh,2026-Q5,10", "kỳ '2026-Q5' không hợp lệ"),
    ("so-tai-chinh,Q3/2026,10", "kỳ 'Q3/2026' không hợp lệ"),
    ("so-tai-chinh,2026-Q3,-5", "số hồ sơ '-5' phải là số nguyên không âm"),
    ("so-tai-chinh,2026-Q3,mười", "số hồ sơ 'mười' phải là số nguyên không âm"),
    ("so-tai-chinh,2026-Q3,1.5", "phải là số nguyên"),
    ("so-tai-chinh,2026-Q3,", "phải là số nguyên"),
    ("so-tai-chinh,2026-Q3,10\nso-tai-chinh,2026-q3,11", "dòng 4: so-tai-chinh kỳ 2026-Q3 đã có ở dòng 3"),
])
def test_a_bad_row_is_named_and_nothing_is_imported(store: Store, tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path, f"unit_id,period,dossiers\nso-noi-vu,2026-Q3,100\n{row}\n")
    with pytest.raises(DossiersFileError, match=message):
        import_dossiers_file(store, path)
    assert list_dossiers(store) == []


def test_every_bad_row_is_listed(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "unit_id,period,dossiers\nx,2026,1\nso-noi-vu,20266,1\nso-noi-vu,2026,-1\n")
    with pytest.raises(DossiersFileError) as error:
        import_dossiers_file(store, path)
    assert [p.split(":")[0] for p in error.value.problems] == ["dòng 2", "dòng 3", "dòng 4"]


@pytest.mark.parametrize(("text", "message"), [
    ("unit,period,count\nso-noi-vu,2026,1\n", "thiếu cột unit_id, dossiers"),
    ("unit_id,period,dossiers\n", "không có dòng dữ liệu"),
])
def test_wrong_columns_or_no_rows(store: Store, tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DossiersFileError, match=message):
        import_dossiers_file(store, write(tmp_path, text))


def test_a_file_that_is_not_utf8_is_refused(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path, "unit_id,period,dossiers\nso-noi-vu,2026,1\n# Sở Nội vụ\n", encoding="utf-16")
    with pytest.raises(DossiersFileError, match="UTF-8"):
        import_dossiers_file(store, path)


def test_command_line_import_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "sipas.duckdb"
    with open_store(db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
    good = write(tmp_path, "unit_id,period,dossiers\nso-noi-vu,2026-Q3,120\n")
    assert main(["dossiers", "import", "--db", str(db), str(good)]) == 0
    assert "Đã nhập 1 dòng" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,period,dossiers\nso-noi-vu,2026-Q3,-1\n", encoding="utf-8")
    assert main(["dossiers", "import", "--db", str(db), str(bad)]) == 2
    assert capsys.readouterr().err.startswith("Lỗi: ")
    assert main(["dossiers", "import", "--db", str(db), str(tmp_path / "none.csv")]) == 2
