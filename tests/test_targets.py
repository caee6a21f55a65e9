"""Yearly targets: the CSV an admin imports (command line and admin page), checked whole first."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.admin.targets import TargetsFileError, import_targets_file, list_targets, preview_targets
from survey_app.cli import main
from survey_app.store import Store


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chi-tieu.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_spreadsheet_csv_with_decimal_commas_and_element_targets_is_imported_and_audited(store: Store,
                                                                                          tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffunit_id;year;sipas;CC;PA\nso-tai-chinh;2026;92,55;90;\nso-tu-phap;2026;95;;80.5\n")
    assert import_targets_file(store, "quan-tri", path) == 2
    found = {t.unit_id: t for t in list_targets(store, 2026)}
    assert found["so-tai-chinh"].sipas == 92.55 and found["so-tai-chinh"].elements == {"CC": 90.0}
    assert found["so-tu-phap"].elements == {"PA": 80.5}
    assert store.query("SELECT actor, action FROM audit_log") == [("quan-tri", "targets.import")]
    # A second import of the same unit and year replaces its target and its element targets.
    import_targets_file(store, "quan-tri", write(tmp_path, "unit_id,year,sipas\nso-tai-chinh,2026,93\n"))
    again = {t.unit_id: t for t in list_targets(store, 2026)}["so-tai-chinh"]
    assert again.sipas == 93 and again.elements == {}


@pytest.mark.parametrize(("text", "says"), [
    ("unit_id,sipas\nso-tai-chinh,90\n", "thiếu cột year"),
    ("unit_id,year,sipas\nkhong-co,2026,90\n", "không có đơn vị mã 'khong-co'"),
    ("unit_id,year,sipas\nso-tai-chinh,26,90\n", "năm '26' phải từ 2000 đến 2100"),
    ("unit_id,year,sipas\nso-tai-chinh,2026,101\n", "chỉ tiêu sipas '101' phải là số từ 0 đến 100"),
    ("unit_id,year,sipas,TC\nso-tai-chinh,2026,90,cao\n", "chỉ tiêu TC 'cao' phải là số"),
    ("unit_id,year,sipas\nso-tai-chinh,2026,90\nso-tai-chinh,2026,91\n", "đã có ở dòng 2"),
    ("unit_id,year,sipas\n", "tệp không có dòng dữ liệu nào"),
])
def test_a_bad_file_says_what_is_wrong_and_stores_nothing(store: Store, text: str, says: str) -> None:
    preview = preview_targets(store, text)
    assert preview.rows == [] and any(says in problem for problem in preview.problems), preview.problems
    assert store.query("SELECT count(*) FROM targets") == [(0,)]


def test_the_command_imports_and_refuses_with_exit_2(store: Store, db_path: Path, tmp_path: Path, capsys) -> None:
    store.close()
    good = write(tmp_path, "unit_id,year,sipas\nso-tai-chinh,2026,92.55\n")
    assert main(["targets", "import", str(good), "--db", str(db_path)]) == 0
    assert "Đã nhập chỉ tiêu của 1 đơn vị" in capsys.readouterr().out
    (tmp_path / "latin1.csv").write_bytes(b"unit_id,year,sipas\ns\xf4-y-t\xea,2026,90\n")
    assert main(["targets", "import", str(tmp_path / "latin1.csv"), "--db", str(db_path)]) == 2
    assert "UTF-8" in capsys.readouterr().err


def test_the_file_error_lists_every_bad_row(store: Store, tmp_path: Path) -> None:
    with pytest.raises(TargetsFileError) as refused:
        import_targets_file(store, "x", write(tmp_path, "unit_id,year,sipas\na,2026,1\nb,2026,2\n"))
    assert len(refused.value.problems) == 2
