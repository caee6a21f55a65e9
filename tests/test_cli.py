"""The command line: init is idempotent, demo is realistic and deterministic, errors are one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from survey_app.cli import main
from survey_app.store import open_store


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "survey_app", *args], capture_output=True, text=True, timeout=120)


def test_init_twice_is_harmless(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    assert main(["init", "--db", str(db_path)]) == 0
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.sql("SELECT count(*), count(*) FILTER (block = 'so') FROM units").fetchone() == (52, 22)
    assert con.sql("SELECT count(DISTINCT unit_id) FROM counters WHERE counter_id = 'quay-1'").fetchone() == (52,)
    assert con.sql("SELECT count(*) FROM instruments").fetchone() == (3,)
    assert "sipas-dvc@" in capsys.readouterr().out


def test_init_with_a_bad_units_file_imports_nothing(db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "units.csv"
    bad.write_text("unit_id,name,block\nso-a,Sở A,so\nso-b,,so\nso-c,Sở C,tinh\n", encoding="utf-8")
    done = run("init", "--db", str(db_path), "--units", str(bad))
    assert done.returncode == 2
    assert "dòng 3" in done.stderr and "dòng 4" in done.stderr and "Traceback" not in done.stderr
    with open_store(db_path) as store:
        assert store.query("SELECT count(*) FROM units") == [(0,)]


def _fingerprint(db: Path) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    return con.sql("SELECT count(*), sum(value), min(response_id)::VARCHAR FROM answers").fetchone()


def test_demo_is_deterministic_and_realistic(tmp_path: Path) -> None:
    dbs = [tmp_path / "a.duckdb", tmp_path / "b.duckdb"]
    for db in dbs:
        assert main(["init", "--db", str(db)]) == 0
        assert main(["demo", "--db", str(db), "--responses", "6000", "--seed", "7", "--days", "30", "--quiet"]) == 0
    assert _fingerprint(dbs[0]) == _fingerprint(dbs[1])
    con = duckdb.connect(str(dbs[0]), read_only=True)
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    assert con.sql("SELECT count(*) FROM responses").fetchone() == (6000,)
    by_unit = [r[0] for r in con.sql(
        "SELECT avg(value) FROM answers JOIN responses USING (response_id) GROUP BY unit_id").fetchall()]
    assert max(by_unit) - min(by_unit) > 0.5, "units must differ in quality"
    sundays = con.sql("SELECT count(*) FROM responses WHERE dayofweek(submitted_at) = 0").fetchone()[0]
    office = con.sql("SELECT count(*) FROM responses WHERE hour(submitted_at) BETWEEN 7 AND 17").fetchone()[0]
    assert sundays < 200 and office > 5900
    assert con.sql("SELECT count(*) FROM answers WHERE item_id LIKE 'PA%' AND value IS NULL").fetchone()[0] > 0
    assert con.sql("SELECT count(*) FROM comments").fetchone()[0] > 0
    burst = con.sql("SELECT max(c) FROM (SELECT count(*) c FROM responses GROUP BY client_hash)").fetchone()[0]
    assert burst >= 20, "a suspicious burst from one client is in the data"


def test_demo_twice_with_the_same_seed_is_refused(db_path: Path) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    assert main(["demo", "--db", str(db_path), "--responses", "100", "--quiet"]) == 0
    done = run("demo", "--db", str(db_path), "--responses", "100", "--quiet")
    assert done.returncode == 2 and "seed" in done.stderr


def test_command_on_a_held_database_says_so_and_exits_2(db_path: Path) -> None:
    with open_store(db_path):
        done = run("init", "--db", str(db_path))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Quản trị" in lines[0] and "Traceback" not in done.stderr
