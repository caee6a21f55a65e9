"""Issue 14: contact details are purged every day inside the running app (one background thread per
process), and backups have a retention period: old ones are deleted, younger ones lose old contacts."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from factories import NOW, dvc_response

from survey_app import housekeeping
from survey_app.admin import administration
from survey_app.core import config
from survey_app.store import Store


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    return tmp_path


def phones(store: Store) -> list[str]:
    return sorted(row[0] for row in store.query("SELECT phone FROM contacts"))


def backup_phones(folder: Path) -> list[str]:
    with duckdb.connect() as con:
        return sorted(r[0] for r in con.execute(f"SELECT phone FROM '{folder / 'contacts.parquet'}'").fetchall())


def wait_for(condition, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the daily job did not run"
        time.sleep(0.05)


def test_the_running_app_purges_contacts_without_a_restart(store: Store, data_dir: Path) -> None:
    store.submit(dvc_response(contact={"phone": "0987654321", "consent": True}))
    scheduler = housekeeping.start(store, check_seconds=0.05)
    try:
        assert housekeeping.start(store) is scheduler  # once per process
        wait_for(lambda: scheduler.runs >= 1)
        assert phones(store) == ["0987654321"]
        # A contact that is now past retention, and a new day: the thread purges it on its own.
        store.submit(dvc_response(submitted_at=NOW - timedelta(days=200),
                                  contact={"phone": "0912345678", "consent": True}))
        scheduler.last_day = "2000-01-01"
        wait_for(lambda: phones(store) == ["0987654321"])
    finally:
        housekeeping.stop(store)
    assert not scheduler._thread.is_alive()


def test_old_backups_are_deleted_and_younger_ones_lose_old_contacts(store: Store, data_dir: Path) -> None:
    store.submit(dvc_response(submitted_at=NOW - timedelta(days=170),
                              contact={"phone": "0912345678", "consent": True}))
    store.submit(dvc_response(contact={"phone": "0987654321", "consent": True}))
    young = administration.backup(store, "test")
    old = young.with_name("sipas-20200101-000000")
    young.rename(old)
    young = administration.backup(store, "test")
    assert backup_phones(young) == ["0912345678", "0987654321"]
    later = NOW + timedelta(days=20)  # the first contact is now 190 days old
    assert housekeeping.prune_backups(later) == (1, 1)
    assert not old.exists() and backup_phones(young) == ["0987654321"]
    assert oct(os.stat(young / "contacts.parquet").st_mode & 0o777) == "0o600"
    with duckdb.connect() as con:  # the backup still restores
        con.execute(f"IMPORT DATABASE '{young}'")
        assert con.execute("SELECT count(*) FROM responses").fetchone()[0] == 2


def test_the_app_starts_the_daily_job_once(store: Store, db_path: Path, data_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    store.close()
    monkeypatch.setenv("SIPAS_DB", str(db_path))
    for _ in range(2):
        at = AppTest.from_file(str(config.PROJECT_DIR / "survey_app" / "app.py"), default_timeout=30)
        assert not at.run().exception
    started = [s for path, s in housekeeping._started.items() if path == str(db_path)]
    try:
        assert len(started) == 1 and started[0]._thread.is_alive()
    finally:
        for scheduler in started:
            housekeeping.stop(scheduler.store)
