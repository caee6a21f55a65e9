"""The DuckDB store: migrations, the single writer thread, and the response tables' SQL.

The storage layer: it knows the tables, not the rules. What judges a batch of new responses (the
integrity rules) is handed in as `admit`; `survey_app.store.open_store` plugs the rules in.

One process owns the database file. Inside it, readers take a fresh cursor each; every write goes
through one thread that drains a queue and commits what is queued in one transaction (group
commit), so a citizen is thanked only after the commit. Modelled on datasette's `_execute_writes`.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import duckdb

from survey_app.core import config
from survey_app.core.config import FlagRules
from survey_app.core.i18n import Explained
from survey_app.core.instruments import Instrument, load_instruments
from survey_app.core.responses import InvalidResponse, ResponseRecord, validate_response

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256
_LOCK_HOLDER = re.compile(r"PID (\d+)")


# Judges a batch of new responses inside the writer's transaction: each one back (its status and
# flag reasons set) or refused. Given the connection, the batch, the instruments and the thresholds.
Admit = Callable[[duckdb.DuckDBPyConnection, Sequence[ResponseRecord], Mapping[str, Instrument], FlagRules],
                 list[ResponseRecord | InvalidResponse]]


class Readable(Protocol):
    """What reads the tables: the store, or a view of part of it (the dashboard's slice for a leader)."""

    def cursor(self) -> duckdb.DuckDBPyConnection: ...


class StoreUnavailable(Explained, RuntimeError):
    """The database cannot be opened; the message says why and what to do, in one line."""


class DatabaseBusy(StoreUnavailable):
    """Another process (normally the running app) holds the database file."""


@dataclass(frozen=True)
class SubmitResult:
    response_id: str
    status: str
    submitted_at: datetime
    duplicate: bool = False


@dataclass
class _Job:
    future: Future[Any]
    record: ResponseRecord | None = None
    work: Callable[[duckdb.DuckDBPyConnection], Any] | None = None


def _storage_problem(exc: BaseException, path: Path) -> StoreUnavailable | None:
    """A clear message for what the file system refused (full disk, read-only folder), else None."""
    text = str(exc)
    if any(sign in text for sign in ("No space left", "File too large", "Disk quota exceeded")):
        return StoreUnavailable("store.disk_full", folder=path.parent)
    if any(sign in text for sign in ("Permission denied", "Operation not permitted", "Read-only file system")):
        return StoreUnavailable("store.read_only_folder", folder=path.parent)
    return None


def in_vietnam_time(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The connection with its session in Vietnam time: periods, "today" and hours of the day are
    Vietnamese whatever the server's zone. Every connection and cursor the app reads with gets it."""
    con.execute("SET TimeZone = ?", [config.TIMEZONE_NAME])
    return con


def open_cursor(source: Readable) -> duckdb.DuckDBPyConnection:
    """A fresh cursor in Vietnam time from anything that reads (a Store, a slice, a connection)."""
    return in_vietnam_time(source.cursor())


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
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
    return in_vietnam_time(con)


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("survey_app.db") / "migrations"
    found = []
    for entry in folder.iterdir():
        number, _, name = entry.name.partition("_")
        if entry.name.endswith(".sql") and number.isdigit():
            found.append((int(number), name.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the numbered migrations not yet applied, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for number, name, sql in _migrations():
        if number in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp)", [number, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(number)
    return applied


def _register_instruments(con: duckdb.DuckDBPyConnection, instruments: Mapping[str, Instrument]) -> None:
    for inst in instruments.values():
        con.execute(
            "INSERT INTO instruments (instrument_id, version, checksum, loaded_at, definition)"
            " VALUES (?, ?, ?, current_timestamp, ?) ON CONFLICT DO NOTHING",
            [inst.id, inst.version, inst.checksum, json.dumps(inst.definition, ensure_ascii=False)],
        )


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows with one statement and one list parameter per column, unnested side by side:
    binding a VALUES list of one parameter per cell costs more than the write itself.

    `table` and `columns` are constants of the calling module, never user input.
    """
    if rows:
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(['unnest(?)'] * len(columns))}",
                    [list(column) for column in zip(*rows, strict=True)])


RESPONSE_COLUMNS = (
    "response_id", "submitted_at", "unit_id", "counter_id", "instrument_id", "instrument_version",
    "channel", "lang", "stage", "service_field", "client_hash", "seconds_taken", "status", "flag_reasons",
    "answer_pattern",
)


def place_problems(con: duckdb.DuckDBPyConnection,
                   records: Sequence[ResponseRecord]) -> dict[uuid.UUID, InvalidResponse]:
    """The responses whose unit or counter is unknown or inactive, with the refusal for each.

    Checked in the writer for a whole batch with one query (not one per submit), and in the same
    transaction as the insert, so a unit closed a moment ago takes no more responses.
    """
    units = sorted({r.unit_id for r in records})
    if not units:
        return {}
    rows = con.execute(
        "SELECT u.unit_id, c.counter_id FROM units u"
        " LEFT JOIN counters c ON c.unit_id = u.unit_id AND c.active"
        f" WHERE u.active AND u.unit_id IN ({', '.join('?' * len(units))})", units,
    ).fetchall()
    active_units, active_counters = {row[0] for row in rows}, set(rows)
    problems = {}
    for r in records:
        if r.unit_id not in active_units:
            problems[r.response_id] = InvalidResponse("unit_id", "unknown_unit",
                                                      f"{r.unit_id!r:.40} is not an active unit")
        elif r.counter_id is not None and (r.unit_id, r.counter_id) not in active_counters:
            problems[r.response_id] = InvalidResponse("counter_id", "unknown_counter",
                                                      f"{r.counter_id!r:.40} is not an active counter of the unit")
    return problems


def write_records(con: duckdb.DuckDBPyConnection, records: Sequence[ResponseRecord]) -> None:
    """Insert whole responses (ratings, choices, comment, contact) inside the caller's transaction."""
    insert_rows(con, "responses", RESPONSE_COLUMNS,
                [[getattr(r, c) for c in RESPONSE_COLUMNS] for r in records])
    insert_rows(con, "answers", ("response_id", "item_id", "value"),
                [(r.response_id, item, value) for r in records for item, value in r.answers])
    insert_rows(con, "choices", ("response_id", "question_id", "option_id"),
                [(r.response_id, q, o) for r in records for q, o in r.choices])
    insert_rows(con, "comments", ("response_id", "text"),
                [(r.response_id, r.comment) for r in records if r.comment])
    insert_rows(con, "contacts", ("response_id", "phone", "consent_at"),
                [(r.response_id, r.contact_phone, r.submitted_at) for r in records if r.contact_phone])


class Store:
    """The open database. Use `open_store`; close it with `close()` (or as a context manager)."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection,
                 instruments: dict[str, Instrument], read_only: bool, admit: Admit | None = None) -> None:
        self.path, self.instruments, self.read_only = path, instruments, read_only
        self._admit = admit
        self.flag_rules = config.flag_rules()
        self._last_stamp = datetime.now(config.TIMEZONE)
        self._con = con
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._closed = False
        if not read_only:
            self._writer = threading.Thread(target=self._write_loop, name="sipas-writer", daemon=True)
            self._writer.start()

    # -- reading -------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh connection for one reader; never share it between threads."""
        return in_vietnam_time(self._con.cursor())

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).fetchall()

    # -- writing -------------------------------------------------------------------------------
    def write(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work(connection)` in the writer thread inside one transaction; return its result."""
        return self._enqueue(_Job(Future(), work=work)).result()

    def submit(self, response: Mapping[str, Any]) -> SubmitResult:
        """Validate and store one response; wait for its commit. Raises InvalidResponse."""
        self._require_writable()
        record = validate_response(response, self.instruments)
        return self._enqueue(_Job(Future(), record=record)).result()

    def _require_writable(self) -> None:
        if self._writer is None or self._closed:
            raise StoreUnavailable("store.closed")

    def _enqueue(self, job: _Job) -> Future[Any]:
        self._require_writable()
        self._queue.put(job)
        return job.future

    def _write_loop(self) -> None:
        con = in_vietnam_time(self._con.cursor())
        while True:
            job = self._queue.get()
            if job is None:
                break
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            records = [j for j in batch if j.record is not None]
            if records:
                self._write_responses(con, records)
            for j in batch:
                if j.work is not None:
                    self._run_work(con, j)
        con.close()

    @staticmethod
    def _transaction(con: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
        con.execute("BEGIN TRANSACTION")
        try:
            result = work()
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
        return result

    def _run_work(self, con: duckdb.DuckDBPyConnection, job: _Job) -> None:
        assert job.work is not None
        try:
            job.future.set_result(self._transaction(con, lambda: job.work(con)))  # type: ignore[misc]
        except Exception as exc:
            job.future.set_exception(exc)

    def _write_responses(self, con: duckdb.DuckDBPyConnection, jobs: list[_Job]) -> None:
        try:
            results = self._transaction(con, lambda: self._insert_new(con, [j.record for j in jobs]))
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].future.set_exception(self._write_failure(exc, jobs[0].record))
                return
            for job in jobs:  # one bad record must not sink the others: retry one by one
                self._write_responses(con, [job])
            return
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, InvalidResponse):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _write_failure(self, exc: Exception, record: ResponseRecord | None) -> StoreUnavailable:
        problem = _storage_problem(exc, self.path)
        if problem is None:
            log.error("could not store response %s", record and record.response_id, exc_info=exc)
            return StoreUnavailable("store.not_stored")
        log.error("could not store response %s: %s", record and record.response_id, problem)
        return problem

    def _insert_new(self, con: duckdb.DuckDBPyConnection,
                    records: list[Any]) -> list[SubmitResult | InvalidResponse]:
        ids = [r.response_id for r in records]
        stored = {
            row[0]: SubmitResult(str(row[0]), row[1], row[2], duplicate=True)
            for row in con.execute(
                "SELECT response_id, status, submitted_at FROM responses WHERE response_id IN ("
                + ", ".join("?" * len(ids)) + ")", ids,
            ).fetchall()
        }
        fresh: dict[uuid.UUID, ResponseRecord] = {}
        for record in records:  # a double tap in one batch: the first one stands
            if record.response_id not in stored and record.response_id not in fresh:
                fresh[record.response_id] = replace(record, submitted_at=record.submitted_at or self._stamp())
        outcomes: dict[uuid.UUID, ResponseRecord | InvalidResponse] = dict(place_problems(con, list(fresh.values())))
        admitted = [r for r in fresh.values() if r.response_id not in outcomes]
        # Judged here, in the one writer, so each response is compared with every one committed before it.
        judged = self._admit(con, admitted, self.instruments, self.flag_rules) if self._admit else admitted
        outcomes.update(zip([r.response_id for r in admitted], judged, strict=True))
        write_records(con, [o for o in outcomes.values() if isinstance(o, ResponseRecord)])
        results: list[SubmitResult | InvalidResponse] = []
        for record in records:
            outcome = stored.get(record.response_id) or outcomes[record.response_id]
            if isinstance(outcome, ResponseRecord):
                results.append(SubmitResult(str(outcome.response_id), outcome.status, outcome.submitted_at))
                stored[record.response_id] = replace(results[-1], duplicate=True)
            else:
                results.append(outcome)
        return results

    def _stamp(self) -> datetime:
        """Now, and always later than the previous stamp: two responses never share a time."""
        self._last_stamp = max(datetime.now(config.TIMEZONE), self._last_stamp + timedelta(microseconds=1))
        return self._last_stamp

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Drain the queue, checkpoint, close. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            try:
                self._con.execute("CHECKPOINT")
            except duckdb.Error as exc:  # every commit is still in the write-ahead log: the next open replays it
                log.error("checkpoint of %s failed at close: %s", self.path, _storage_problem(exc, self.path) or exc)
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(path: str | Path | None = None, *, read_only: bool = False,
               questions_dir: Path | None = None, admit: Admit | None = None) -> Store:
    """Open (and create or migrate) the database; start the writer unless read-only.

    Without `admit` every valid response is stored as 'ok': use `survey_app.store.open_store`,
    which judges them by the integrity rules."""
    db = config.db_path(path)
    instruments = load_instruments(questions_dir)
    if read_only and not db.exists():
        raise StoreUnavailable("store.missing", path=db)
    con = _connect(db, read_only)
    try:
        if not read_only:
            apply_migrations(con)
            _register_instruments(con, instruments)
    except Exception as exc:
        con.close()
        problem = _storage_problem(exc, db)
        if problem is not None:
            raise problem from None
        raise
    return Store(db, con, instruments, read_only, admit)
