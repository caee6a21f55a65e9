"""The embedded engine, the default: one DuckDB file that one process owns.

Inside that process one root connection; every reader takes a cursor of it, the writer thread its
own. Checkpointed at close; a second process cannot open the file and gets a one-line message.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from survey_app.core import files
from survey_app.db.store import (
    Admit,
    DatabaseBusy,
    Instruments,
    Store,
    StoreUnavailable,
    apply_migrations,
    in_vietnam_time,
    register_instruments,
    require_migrated,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
_LOCK_HOLDER = re.compile(r"PID (\d+)")


def _storage_problem(exc: BaseException, path: Path) -> StoreUnavailable | None:
    """A clear message for what the file system refused (full disk, read-only folder), else None."""
    text = str(exc)
    if any(sign in text for sign in ("No space left", "File too large", "Disk quota exceeded")):
        return StoreUnavailable("store.disk_full", folder=path.parent)
    if any(sign in text for sign in ("Permission denied", "Operation not permitted", "Read-only file system")):
        return StoreUnavailable("store.read_only_folder", folder=path.parent)
    return None


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        try:
            # The process that writes the database writes citizens' data: whatever it creates from
            # now on (the write-ahead log, backups, exports) is for its own user only.
            os.umask(0o077)
            files.private_dir(path.parent)
            # DuckDB opens a file in a read-only folder and only fails at the first commit, when it
            # cannot create the write-ahead log beside it: find out now, before anyone is thanked.
            tempfile.TemporaryFile(dir=path.parent).close()
        except OSError as exc:
            raise _storage_problem(exc, path) or StoreUnavailable(
                "store.no_folder", folder=path.parent, why=exc.strerror) from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = _LOCK_HOLDER.search(text)
            who = f" (PID {holder.group(1)})" if holder else ""
            raise DatabaseBusy("store.held", path=path, who=who) from None
        raise _storage_problem(exc, path) or StoreUnavailable("store.cannot_open", path=path, why=text) from None
    if not read_only:
        files.make_private(path, path.with_name(path.name + ".wal"))  # files made before the umask
    return in_vietnam_time(con)


class DuckStore(Store):
    """The database in one DuckDB file."""

    backend = "duckdb"

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection, instruments: Instruments,
                 read_only: bool, admit: Admit | None = None) -> None:
        super().__init__(path, instruments, read_only, admit)
        self._con = con
        self._writer_con: duckdb.DuckDBPyConnection | None = None
        self._start_writer()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return in_vietnam_time(self._con.cursor())

    def _transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        if self._writer_con is None:  # made in the writer thread, which alone uses it
            self._writer_con = in_vietnam_time(self._con.cursor())
        con = self._writer_con
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return result

    def _storage_problem(self, exc: BaseException) -> StoreUnavailable | None:
        assert isinstance(self.path, Path)
        return _storage_problem(exc, self.path)

    def _finish_writer(self) -> None:
        if self._writer_con is not None:
            self._writer_con.close()

    def _close_engine(self) -> None:
        if self._writer is not None:
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:  # every commit is still in the write-ahead log: the next open replays it
                log.error("checkpoint of %s failed at close: %s", self.path, self._storage_problem(exc) or exc)
        self._con.close()


def open_duckdb(db: Path, instruments: Instruments, *, read_only: bool = False,
                admit: Admit | None = None) -> DuckStore:
    """Open (and create or migrate) the file; start the writer unless read-only."""
    if read_only and not db.exists():
        raise StoreUnavailable("store.missing", path=db)
    con = _connect(db, read_only)
    if read_only:
        require_migrated(con, db)
        return DuckStore(db, con, instruments, read_only, admit)
    try:
        assert not callable(instruments)
        apply_migrations(con)
        register_instruments(con, instruments)
    except Exception as exc:
        con.close()
        problem = _storage_problem(exc, db)
        if problem is not None:
            raise problem from None
        raise
    return DuckStore(db, con, instruments, read_only, admit)
