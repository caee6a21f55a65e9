"""`python -m results`: outputs and exit codes (0 ok, 2 bad input with one Vietnamese-first line, 1 unexpected)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from factories import golden_unit
from openpyxl import load_workbook

from results import cli
from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.store import open_store

RULES = str(config.PROJECT_DIR / "results" / "rules" / "vi-du-ha-noi.yaml")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A closed database with the golden unit's four responses in Q1/2026."""
    path = tmp_path_factory.mktemp("cli") / "sipas.duckdb"
    with open_store(path) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        golden_unit(store)
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compute_json_prints_one_object_per_unit(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compute", "--db", db, "--period", "2026-Q1", "--format", "json")
    assert code == 0
    units = {o["unit_id"]: o for o in json.loads(out)}
    assert len(units) == 52
    assert units["so-tai-chinh"]["sipas"] == pytest.approx((56.25 + 50 + 55 + 200 / 3 + 50) / 5)


def test_compute_table_csv_and_xlsx(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compute", "--db", db, "--from", "2026-01-01", "--to", "2026-03-31", "--by", "block")
    assert code == 0 and "Khối Sở, ban, ngành" in out
    csv_file = tmp_path / "out.csv"
    assert run(capsys, "compute", "--db", db, "--period", "2026-Q1", "--format", "csv", "--out", str(csv_file))[0] == 0
    assert csv_file.read_text(encoding="utf-8").startswith("rank,key,name,block,n")
    xlsx = tmp_path / "out.xlsx"
    assert run(capsys, "compute", "--db", db, "--period", "2026-Q1", "--format", "xlsx", "--out", str(xlsx))[0] == 0
    assert "Tiêu chí" in load_workbook(xlsx).sheetnames


def test_cchc_and_report(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cchc", "--db", db, "--rules", RULES, "--period", "2026-Q1", "--format", "json")
    assert code == 0 and "VÍ DỤ" in err
    assert next(u for u in json.loads(out) if u["unit_id"] == "so-tai-chinh")["rules_example"] is True
    pdf = tmp_path / "bao-cao.pdf"
    assert run(capsys, "report", "--db", db, "--period", "2026-Q1", "--rules", RULES, "--out", str(pdf))[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(("argv", "message"), [
    (["compute", "--period", "2026-Q5"], "Lỗi: kỳ '2026-Q5' không hợp lệ"),
    (["compute", "--from", "2026-01-01"], "Lỗi: --from và --to phải đi cùng nhau"),
    (["compute", "--from", "2026-02-30", "--to", "2026-03-01"], "Lỗi: ngày '2026-02-30' không hợp lệ"),
    (["compute", "--from", "2026-03-01", "--to", "2026-02-01"], "Lỗi: ngày kết thúc"),
    (["compute", "--period", "2026", "--from", "2026-01-01", "--to", "2026-02-01"], "Lỗi: dùng --period hoặc"),
    (["compute", "--format", "xlsx"], "Lỗi: định dạng xlsx cần --out"),
    (["compute", "--instrument", "khong-co"], "Lỗi: bộ câu hỏi 'khong-co' không có"),
    (["compute", "--method", "/khong/co.yaml"], "Lỗi: không đọc được tệp quy tắc"),
    (["cchc", "--rules", "/khong/co.yaml"], "Lỗi: không đọc được bảng quy tắc"),
    (["report", "--out", "x.txt"], "Lỗi: --out phải là tệp .pdf"),
])
def test_bad_input_exits_2_with_one_vietnamese_line(db: str, capsys: pytest.CaptureFixture[str],
                                                     argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv, "--db", db)
    assert code == 2 and out == ""
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_missing_database_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compute", "--db", str(tmp_path / "none.duckdb"))
    assert code == 2 and err.startswith("Lỗi: Chưa có cơ sở dữ liệu")


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["compute", "--by", "province"])
    assert exit_.value.code == 2


def test_unexpected_failure_exits_1_and_is_logged(db: str, capsys: pytest.CaptureFixture[str],
                                                 caplog: pytest.LogCaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(cli, "compute", broken)
    assert run(capsys, "compute", "--db", db)[0] == 1
    assert "unexpected failure" in caplog.text


def test_database_held_by_another_process_exits_2(db: str, tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({db!r})
            print("held", flush=True)
            sys.stdin.read()  # holds the file until the test closes this pipe
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=config.PROJECT_DIR)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        done = subprocess.run([sys.executable, "-m", "results", "compute", "--db", db], capture_output=True,
                              text=True, cwd=config.PROJECT_DIR, timeout=60)
    finally:
        holder.kill()
        holder.wait()
        holder.stdin.close()
    assert done.returncode == 2
    assert done.stderr.startswith("Lỗi: Cơ sở dữ liệu") and "đang được ứng dụng SIPAS" in done.stderr
    assert "Traceback" not in done.stderr
