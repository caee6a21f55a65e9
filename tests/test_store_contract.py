"""The store's contract, held by both engines: the DuckDB file and a real PostgreSQL server.

Each test runs on both (the `any_store` fixture); what only several processes can do — race on one
response id, judge one counter's burst from two processes — runs on PostgreSQL, as a DuckDB file
takes one process only (tests/test_store.py checks that a second one is refused clearly).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import duckdb_extensions
import pytest
from factories import CHOICES, dvc_answers, dvc_response, table_counts

from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.core.responses import InvalidResponse
from survey_app.store import Store, StoreUnavailable, open_store

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture(params=["duckdb", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return str(tmp_path / "sipas.duckdb")
    return request.getfixturevalue("pg_db")


@pytest.fixture
def any_store(location: str) -> Iterator[Store]:
    with open_store(location) as opened:
        import_units_file(opened, config.DEFAULT_UNITS_CSV)
        yield opened


def read(store: Store, sql: str) -> list[tuple[object, ...]]:
    """Through a reader's cursor (on PostgreSQL: the local DuckDB copy, brought up to date first)."""
    store.refresh()
    with store.cursor() as cur:
        return cur.execute(sql).fetchall()


def test_submit_query_and_cursor_agree(any_store: Store) -> None:
    response = dvc_response(answers=dvc_answers(5, PA1=None), choices=CHOICES, comment="Cán bộ hướng dẫn tận tình.",
                            contact={"phone": "0912 345 678", "consent": True})
    result = any_store.submit(response)
    assert result.status == "ok" and not result.duplicate
    assert table_counts(any_store) == {"responses": 1, "answers": 20, "choices": 3, "comments": 1, "contacts": 1}
    assert any_store.query("SELECT value FROM answers WHERE item_id = ? AND response_id = ?",
                           ["TC1", response["response_id"]]) == [(5,)]
    assert any_store.query("SELECT count(*) FROM answers WHERE item_id LIKE 'PA%' AND value IS NULL") == [(1,)]
    assert read(any_store, "SELECT count(*), count(DISTINCT response_id) FROM answers") == [(20, 1)]
    assert read(any_store, "SELECT unit_id, status FROM responses") == [("so-tai-chinh", "ok")]


def test_a_percent_sign_and_a_question_mark_in_literals_are_text(any_store: Store) -> None:
    any_store.submit(dvc_response())
    assert any_store.query("SELECT count(*), '?' FROM answers WHERE item_id LIKE 'KQ%' AND value > ?", [0]) == [
        (3, "?")]


def test_same_response_twice_stores_it_once(any_store: Store) -> None:
    response = dvc_response()
    first = any_store.submit(response)
    again = any_store.submit(dict(response, answers=dvc_answers(1)))
    assert again.duplicate and again.submitted_at == first.submitted_at
    assert table_counts(any_store)["answers"] == 20
    assert any_store.query("SELECT DISTINCT value FROM answers WHERE item_id = 'TC1'") == [(4,)]


def test_unknown_unit_is_refused_and_nothing_written(any_store: Store) -> None:
    with pytest.raises(InvalidResponse) as refused:
        any_store.submit(dvc_response(unit_id="khong-co"))
    assert refused.value.field == "unit_id"
    assert table_counts(any_store) == {"responses": 0, "answers": 0, "choices": 0, "comments": 0, "contacts": 0}


def test_a_status_change_reaches_the_readers(any_store: Store) -> None:
    kept, excluded = any_store.submit(dvc_response()), any_store.submit(dvc_response())
    assert read(any_store, "SELECT count(*) FROM responses WHERE status = 'ok'") == [(2,)]
    any_store.write(lambda con: con.execute("UPDATE responses SET status = 'excluded' WHERE response_id = ?",
                                            [uuid.UUID(excluded.response_id)]))
    assert read(any_store, "SELECT response_id::VARCHAR, status FROM responses ORDER BY status") == [
        (excluded.response_id, "excluded"), (kept.response_id, "ok")]


def test_closed_store_refuses_and_reopens_with_everything(location: str) -> None:
    with open_store(location) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        sent = [store.submit(dvc_response()).response_id for _ in range(5)]
    with pytest.raises(StoreUnavailable):
        store.submit(dvc_response())
    with open_store(location) as reopened:
        assert {str(r[0]) for r in reopened.query("SELECT response_id FROM responses")} == set(sent)
        versions = reopened.query("SELECT max(version), count(*) FROM schema_migrations")[0]
        assert versions[0] >= 3 and reopened.query("SELECT count(*) FROM instruments")[0][0] >= 3


def test_read_only_store_reads_and_refuses_writes(location: str) -> None:
    with open_store(location) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        store.submit(dvc_response())
    with open_store(location, read_only=True) as reader:
        assert read(reader, "SELECT count(*) FROM answers") == [(20,)]
        with pytest.raises(StoreUnavailable):
            reader.submit(dvc_response())


# -- several processes at once (PostgreSQL) ------------------------------------------------------

def _race(url: str, batches: list[list[dict[str, object]]], tmp_path: Path, threads: int = 4,
          env: dict[str, str] | None = None) -> list[list[dict[str, object]]]:
    """Run one race_child per batch, released together; each one's results, in submission order."""
    go = tmp_path / "go"
    children = []
    for n, batch in enumerate(batches):
        file = tmp_path / f"batch-{n}.json"
        file.write_text(json.dumps(batch), encoding="utf-8")
        child = subprocess.Popen([sys.executable, str(TESTS / "race_child.py"), url, str(file), str(go), str(threads)],
                                 stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        children.append(child)
    go.touch()
    outputs = []
    for child in children:
        out, _ = child.communicate(timeout=300)
        assert child.returncode == 0
        outputs.append([json.loads(line) for line in out.splitlines()])
    return outputs


def test_two_processes_racing_on_the_same_ids_store_each_once(pg_db: str, tmp_path: Path) -> None:
    with open_store(pg_db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
    responses = [dvc_response(unit_id=u, client_hash=f"phone-{n}", choices=CHOICES, comment="Chờ hơi lâu.")
                 for n in range(40) for u in ("so-tai-chinh", "so-tu-phap")]
    first, second = _race(pg_db, [responses, list(reversed(responses))], tmp_path)
    sent = {str(r["response_id"]) for r in responses}
    assert {r["response_id"] for r in first} == {r["response_id"] for r in second} == sent
    stored_by = [r["response_id"] for r in first + second if not r["duplicate"]]
    assert sorted(stored_by) == sorted(sent)  # each id stored by exactly one process, acknowledged by both
    with open_store(pg_db) as store:
        assert table_counts(store) == {"responses": 80, "answers": 1600, "choices": 240, "comments": 80,
                                       "contacts": 0}


@pytest.mark.usefixtures("integrity_rules_off")  # only the burst rule, set below, judges these six
def test_a_burst_split_over_two_processes_is_judged_as_one(pg_db: str, tmp_path: Path) -> None:
    """Six responses from one phone at one counter, three through each process at the same moment:
    the rule (BURST_CLIENT=3) passes the first two committed and flags the other four, exactly as
    one process would — because each writer waits for the other's lock on that counter."""
    with open_store(pg_db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
    phone = [dvc_response(client_hash="phone-a", answers=dvc_answers(1 + n % 5)) for n in range(6)]
    env = {"SIPAS_FLAG_BURST_CLIENT": "3", "SIPAS_FLAG_BURST_MINUTES": "10"}
    outcomes = [r["status"] for out in _race(pg_db, [phone[:3], phone[3:]], tmp_path, threads=3, env=env)
                for r in out]
    assert sorted(outcomes) == ["flagged"] * 4 + ["ok"] * 2
    with open_store(pg_db) as store:
        rows = store.query("SELECT status, flag_reasons FROM responses ORDER BY submitted_at")
    assert rows == [("ok", None)] * 2 + [("flagged", "burst_client")] * 4


# -- the commands on both engines --------------------------------------------------------------

def _run(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, input=stdin,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _copy_into_duckdb(url: str, file: Path) -> None:
    """Every table of the PostgreSQL database into a DuckDB file made by `init`: the same responses."""
    con = duckdb.connect(str(file))
    duckdb_extensions.import_extension("postgres", con=con)
    con.execute("LOAD postgres")
    con.execute(f"ATTACH '{url}' AS pg (TYPE postgres, READ_ONLY)")
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'sipas' AND table_name <> 'schema_migrations'"
    ).fetchall()]
    for table in tables:
        columns = ", ".join(row[0] for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'sipas' AND table_name = ?"
            " ORDER BY column_index", [table]).fetchall())
        con.execute(f"DELETE FROM {table}")
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM pg.public.{table}")
    con.close()


def _rounded(value: object) -> object:
    """Floats to 9 decimals: DuckDB's parallel sums may differ in the last bit from run to run."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_commands_give_the_same_numbers_on_both_engines(pg_db: str, tmp_path: Path) -> None:
    file = tmp_path / "sipas.duckdb"
    assert "admin" in _run("survey_app", "init", "--db", pg_db)
    _run("survey_app", "demo", "--responses", "3000", "--seed", "7", "--db", pg_db)
    _run("survey_app", "users", "add", "lanh-dao", "--role", "leader", "--password-stdin", "--db", pg_db,
         stdin="mat-khau-rat-dai-1\n")
    _run("survey_app", "init", "--db", str(file))
    _copy_into_duckdb(pg_db, file)
    for command in (["compute", "--format", "json"], ["compute", "--by", "counter", "--format", "json"],
                    ["cchc", "--rules", "results/rules/vi-du-ha-noi.yaml", "--format", "json"]):
        on_postgres = _rounded(json.loads(_run("results", *command, "--db", pg_db)))
        on_duckdb = _rounded(json.loads(_run("results", *command, "--db", str(file))))
        assert on_postgres == on_duckdb and on_postgres
    for db, name in ((pg_db, "pg.pdf"), (str(file), "duck.pdf")):
        _run("results", "report", "--out", str(tmp_path / name), "--db", db)
        assert (tmp_path / name).read_bytes().startswith(b"%PDF")
    with open_store(pg_db) as store:
        assert store.query("SELECT role FROM users WHERE username = 'lanh-dao'") == [("leader",)]
        assert store.query("SELECT count(*) FROM responses")[0][0] == 3000


def test_an_unreachable_server_is_one_clear_line_without_the_password() -> None:
    with pytest.raises(StoreUnavailable) as refused:
        open_store("postgresql://sipas:bi-mat@127.0.0.1:1/sipas")
    message = str(refused.value)
    assert "Không kết nối được PostgreSQL" in message and "bi-mat" not in message and "\n" not in message


def test_placeholders_are_translated_outside_string_literals_only() -> None:
    from survey_app.db.postgres import to_pyformat

    assert to_pyformat("SELECT ? WHERE a LIKE 'KQ%' AND b = '?' AND c = ?") == (
        "SELECT %s WHERE a LIKE 'KQ%%' AND b = '?' AND c = %s")
    assert to_pyformat("SELECT 'it''s ?', ? % 2") == "SELECT 'it''s ?', %s %% 2"


def test_the_copy_catches_a_transaction_that_commits_after_a_later_one(pg_db: str) -> None:
    """Sequence numbers are taken at insert, not at commit: a slow transaction's row can appear below
    the copy's high-water mark. The copy waits at that gap, so the row still arrives."""
    import psycopg

    with open_store(pg_db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        slow_id = uuid.uuid4()
        with psycopg.connect(pg_db) as slow:
            slow.execute("INSERT INTO responses (response_id, submitted_at, unit_id, counter_id, instrument_id,"
                         " instrument_version, channel, lang) SELECT %s, now(), 'so-tu-phap', 'quay-1', instrument_id,"
                         " version, 'qr', 'vi' FROM instruments WHERE instrument_id = 'sipas-dvc' LIMIT 1", [slow_id])
            slow.execute("INSERT INTO answers VALUES (%s, 'TC1', 2)", [slow_id])
            quick = store.submit(dvc_response())  # a later sequence number, committed first
            assert read(store, "SELECT response_id::VARCHAR FROM responses") == [(quick.response_id,)]
            slow.commit()
        assert read(store, "SELECT count(*), count(DISTINCT r.response_id) FROM responses r JOIN answers USING"
                           " (response_id)") == [(21, 2)]
        assert read(store, "SELECT count(*) FROM responses") == [(2,)]
