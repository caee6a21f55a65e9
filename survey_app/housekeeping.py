"""The daily jobs of the running app: contact details past retention are purged, from the database
and from backups; backups past their own retention are deleted; old login-throttle rows are dropped.

`start(store)` runs them in one background thread per process (the app calls it once, when it opens
the store): at once, then whenever the Vietnamese day has changed, checked every CHECK_SECONDS. So
the retention periods hold in a server that runs for months without a restart.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from survey_app.admin import accounts, audit
from survey_app.core import clock, config, files
from survey_app.core.i18n import both
from survey_app.db.store import Store
from survey_app.integrity import maintenance

log = logging.getLogger(__name__)
CHECK_SECONDS = 3600.0
_BACKUP_NAME = re.compile(r"sipas-(\d{8}-\d{6})")
_started: dict[str, Scheduler] = {}
_start_lock = threading.Lock()


@dataclass(frozen=True)
class DailyResult:
    contacts: int  # contact details purged from the database
    backups_deleted: int
    backup_contacts: int  # contact details purged from the backups kept

    def __str__(self) -> str:
        return both("housekeeping.done", contacts=self.contacts, backup_contacts=self.backup_contacts,
                    backups=self.backups_deleted)


def _backup_time(folder: Path) -> datetime:
    match = _BACKUP_NAME.fullmatch(folder.name)
    if match:
        return datetime.strptime(match[1], "%Y%m%d-%H%M%S").replace(tzinfo=config.TIMEZONE)
    return datetime.fromtimestamp(folder.stat().st_mtime, config.TIMEZONE)


def _scrub_backup(folder: Path, cutoff: datetime) -> int:
    """Rewrite the backup's contacts table without the rows older than `cutoff`; how many went."""
    table = folder / "contacts.parquet"
    if not table.exists():
        return 0
    quoted = "'" + str(table).replace("'", "''") + "'"
    fresh = folder / ".contacts.parquet.new"
    with duckdb.connect() as con:
        before = con.execute(f"SELECT count(*) FROM read_parquet({quoted})").fetchone()[0]
        kept = con.execute(f"SELECT count(*) FROM read_parquet({quoted}) WHERE consent_at >= ?", [cutoff]
                           ).fetchone()[0]
        if kept == before:
            return 0
        target = "'" + str(fresh).replace("'", "''") + "'"
        con.execute(f"COPY (SELECT * FROM read_parquet({quoted}) WHERE consent_at >= ?) TO {target} (FORMAT parquet)",
                    [cutoff])
    fresh.replace(table)  # IMPORT DATABASE reads it by the same name
    files.make_private(table)
    return before - kept


def prune_backups(now: datetime | None = None) -> tuple[int, int]:
    """Delete backups older than SIPAS_BACKUP_RETENTION_DAYS; purge contacts past retention from the
    others. Returns (backups deleted, contact rows removed)."""
    now = now or clock.now()
    folder = Path(config.DATA_DIR) / "backups"
    if not folder.is_dir():
        return 0, 0
    deleted = purged = 0
    cutoff = now - timedelta(days=config.CONTACT_RETENTION_DAYS)
    for backup in sorted(p for p in folder.iterdir() if p.is_dir()):
        if now - _backup_time(backup) > timedelta(days=config.BACKUP_RETENTION_DAYS):
            shutil.rmtree(backup)
            deleted += 1
        else:
            purged += _scrub_backup(backup, cutoff)
    return deleted, purged


def run_daily(store: Store, now: datetime | None = None) -> DailyResult:
    now = now or clock.now()
    contacts = maintenance.purge_contacts(store, now=now)
    deleted, purged = prune_backups(now)
    if deleted or purged:
        audit.record_alone(store, "housekeeping", "backups.prune", None,
                           f"{deleted} deleted (retention {config.BACKUP_RETENTION_DAYS:g} days), {purged} contacts")
    store.write(lambda con: accounts.forget_old_attempts(con, now))
    return DailyResult(contacts, deleted, purged)


class Scheduler:
    """A daemon thread running `run_daily` at start and at each new day, until stopped."""

    def __init__(self, store: Store, check_seconds: float = CHECK_SECONDS) -> None:
        self.store, self.check_seconds = store, check_seconds
        self.last_day: str | None = None
        self.runs = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sipas-daily", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            today = clock.today().isoformat()
            if today != self.last_day:
                try:
                    log.info("daily housekeeping: %s", run_daily(self.store))
                    self.last_day = today
                except Exception:  # a full disk must not kill the thread: retried at the next check
                    log.exception("daily housekeeping failed")
                self.runs += 1
            self._stop.wait(self.check_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


def start(store: Store, check_seconds: float = CHECK_SECONDS) -> Scheduler:
    """The scheduler of this store's database, started once per process (a second call returns it)."""
    with _start_lock:
        key = str(store.path)
        if key not in _started:
            _started[key] = Scheduler(store, check_seconds)
            _started[key]._thread.start()
        return _started[key]


def stop(store: Store) -> None:
    with _start_lock:
        scheduler = _started.pop(str(store.path), None)
    if scheduler is not None:
        scheduler.stop()
