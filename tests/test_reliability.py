"""Reliability: nothing acknowledged is lost — under 16 concurrent writers, after `kill -9`, on a full
disk — and a locked database or a read-only data directory gets a clear message, not a traceback."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from factories import dvc_answers, dvc_response, table_counts

from survey_app.core import config
from survey_app.store import Store, StoreUnavailable, open_store

CHILD = Path(__file__).with_name("submit_child.py")
ITEMS = 20  # ratings stored per sipas-dvc response (19 items and the overall question)


def assert_whole(store: Store, acknowledged: set[str]) -> None:
    """Every acknowledged response is there exactly once, with all its answers; none is half written."""
    ids = [str(r[0]) for r in store.query("SELECT response_id FROM responses")]
    assert len(ids) == len(set(ids))
    assert acknowledged <= set(ids), f"{len(acknowledged - set(ids))} acknowledged responses lost"
    partial = store.query("SELECT count(*) FROM (SELECT r.response_id FROM responses r LEFT JOIN answers a"
                          " USING (response_id) GROUP BY r.response_id HAVING count(a.item_id) <> ?)", [ITEMS])
    assert partial == [(0,)]


def test_sixteen_writers_store_every_acknowledged_response_once(store: Store) -> None:
    store.flag_rules = config.FlagRules()  # the integrity rules run in the writer too
    rng = random.Random(8)
    responses = [dvc_response(unit_id=rng.choice(["so-tai-chinh", "so-tu-phap", "h-ba-vi"]),
                              client_hash=f"phone-{rng.randrange(50)}", seconds_taken=rng.uniform(5, 200),
                              answers=dvc_answers(rng.randint(1, 5), TC1=rng.randint(1, 5)))
                 for _ in range(16 * 200)]
    double_taps = rng.sample(responses, 200)  # sent again while the first copy may still be queued

    def writer(n: int) -> list[str]:
        mine = responses[n::16] + double_taps[n::16]
        return [store.submit(r).response_id for r in mine]

    with ThreadPoolExecutor(16) as pool:
        acknowledged = [i for ids in pool.map(writer, range(16)) for i in ids]
    assert len(acknowledged) == 16 * 200 + 200
    assert_whole(store, set(acknowledged))
    assert table_counts(store)["responses"] == 16 * 200


def _start_child(db: Path, threads: int, *extra: str) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, str(CHILD), str(db), str(threads), *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "ready", child.stderr
    return child


@pytest.fixture
def prepared_db(store: Store, db_path: Path) -> Path:
    """The database with units, closed: a child process will own it."""
    store.close()
    return db_path


def test_kill_9_mid_load_loses_no_acknowledged_response(prepared_db: Path) -> None:
    child = _start_child(prepared_db, 8)
    assert child.stdout is not None
    acknowledged = set()
    while len(acknowledged) < 400:
        acknowledged.add(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)  # in the middle of the load: more commits are in flight
    rest, _ = child.communicate(timeout=60)
    acknowledged |= {line for line in rest.splitlines() if line}
    assert child.returncode == -signal.SIGKILL
    with open_store(prepared_db) as reopened:
        assert_whole(reopened, acknowledged)
        by_unit = reopened.query("SELECT r.unit_id, count(DISTINCT r.response_id), avg(a.value) FROM responses r"
                                 " JOIN answers a USING (response_id) GROUP BY r.unit_id")
        assert sum(n for _, n, _ in by_unit) >= len(acknowledged) and all(1 <= mean <= 5 for *_, mean in by_unit)
        reopened.submit(dvc_response())  # and it takes new responses
        counted = reopened.query("SELECT count(*) FROM responses WHERE status = 'ok'")[0][0]
    indices = subprocess.run([sys.executable, "-m", "results", "compute", "--db", str(prepared_db), "--format", "json"],
                             capture_output=True, text=True, timeout=120, cwd=config.PROJECT_DIR)
    assert indices.returncode == 0, indices.stderr
    groups = json.loads(indices.stdout)
    computed = [g["sipas"] for g in groups if g["n"]]
    assert sum(g["n"] for g in groups) == counted and computed and all(0 <= s <= 100 for s in computed)


def test_full_disk_refuses_with_a_clear_message_and_loses_nothing(prepared_db: Path) -> None:
    # Files may grow 400 kB past the database's size: the write-ahead log soon hits that, and so does
    # the checkpoint at close (which must not lose anything either).
    child = _start_child(prepared_db, 4, str(prepared_db.stat().st_size + 400_000))
    out, err = child.communicate(timeout=300)
    lines = out.splitlines()
    refusals = {line.removeprefix("refused ") for line in lines if line.startswith("refused ")}
    acknowledged = {line for line in lines if line not in ("ready", "closed") and not line.startswith("refused ")}
    assert acknowledged and refusals and lines[-1] == "closed", err[-2000:]
    assert all(r.startswith("Ổ đĩa chứa dữ liệu") and "disk" in r for r in refusals), refusals
    with open_store(prepared_db) as reopened:  # space is back: everything acknowledged is there
        assert_whole(reopened, acknowledged)


def test_locked_database_gets_one_clear_line_and_the_owner_goes_on(store: Store, db_path: Path) -> None:
    store.submit(dvc_response())
    done = subprocess.run([sys.executable, "-m", "survey_app", "integrity", "scan", "--db", str(db_path)],
                          capture_output=True, text=True, timeout=120, cwd=config.PROJECT_DIR)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "đang được ứng dụng SIPAS" in done.stderr
    assert "Traceback" not in done.stderr
    store.submit(dvc_response())
    assert table_counts(store)["responses"] == 2


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make `folder` read-only, even for root (who ignores permission bits): then it is immutable."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if os.access(folder, os.W_OK) and not immutable:
            pytest.skip("cannot make a read-only folder here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_read_only_data_directory_is_named_before_anyone_is_thanked(store: Store, db_path: Path) -> None:
    store.submit(dvc_response())
    store.close()
    before = db_path.read_bytes()
    with read_only(db_path.parent):
        for path in (db_path, db_path.parent / "new.duckdb", db_path.parent / "sub" / "new.duckdb"):
            with pytest.raises(StoreUnavailable, match="chỉ cho đọc") as caught:
                open_store(path)
            assert "SIPAS_DB" in str(caught.value) and "read-only" in str(caught.value)
        with open_store(db_path, read_only=True) as reader:  # reading (results, exports) still works
            assert reader.query("SELECT count(*) FROM responses") == [(1,)]
        cli = subprocess.run([sys.executable, "-m", "survey_app", "init", "--db", str(db_path)],
                             capture_output=True, text=True, timeout=120, cwd=config.PROJECT_DIR)
        assert cli.returncode == 2 and cli.stderr.startswith("Lỗi: Thư mục dữ liệu") and "Traceback" not in cli.stderr
    assert db_path.read_bytes() == before
    with open_store(db_path) as writable:
        writable.submit(dvc_response())
        assert table_counts(writable)["responses"] == 2

