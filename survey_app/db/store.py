"""The store, whatever the engine: migrations, the writer thread, and the response tables' SQL.

The storage layer: it knows the tables, not the rules. What judges a batch of new responses (the
integrity rules) is handed in as `admit`; `survey_app.store.open_store` plugs the rules in.

Readers take a fresh DuckDB cursor each; every write goes through one thread per process that
drains a queue and commits what is queued in one transaction (group commit), so a citizen is
thanked only after the commit. Modelled on datasette's `_execute_writes`. What differs between
engines (how to connect, run a transaction, read, close) is in the two subclasses of `Store`:
`survey_app.db.duck` (the embedded file, the default) and `survey_app.db.postgres` (a server that
several app processes share); `survey_app.db.backends.open_store` picks one from `--db`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import duckdb

from survey_app.core import clock, config
from survey_app.core.config import FlagRules
from survey_app.core.i18n import Explained
from survey_app.core.instruments import Instrument
from survey_app.core.responses import InvalidResponse, ResponseRecord, validate_response

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256


class Connection(Protocol):
    """What a write runs on: a DuckDB connection, or `postgres.PgConnection`, which takes the same
    `?` placeholders. `execute` returns something with `fetchall()`/`fetchone()`."""

    def execute(self, query: str, parameters: Any = None, /) -> Any: ...


# Judges a batch of new responses inside the writer's transaction: each one back (its status and
# flag reasons set) or refused. Given the connection, the batch, the instruments and the thresholds.
Admit = Callable[[Any, Sequence[ResponseRecord], Mapping[str, Instrument], FlagRules],
                 list[ResponseRecord | InvalidResponse]]


# The questionnaires by id, or how to load them when first asked (a read-only store may never need them).
Instruments = dict[str, Instrument] | Callable[[], dict[str, Instrument]]


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
    work: Callable[[Any], Any] | None = None


class _Raced(Exception):
    """Another process stored one of the batch's responses after this batch looked: retry it."""


def in_vietnam_time(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """The connection with its session in Vietnam time: periods, "today" and hours of the day are
    Vietnamese whatever the server's zone. Every connection and cursor the app reads with gets it."""
    con.execute("SET TimeZone = ?", [config.TIMEZONE_NAME])
    return con


def open_cursor(source: Readable) -> duckdb.DuckDBPyConnection:
    """A fresh cursor in Vietnam time from anything that reads (a Store, a slice, a connection)."""
    return in_vietnam_time(source.cursor())


def _migrations(backend: str) -> list[tuple[int, str, str]]:
    """The numbered migrations for `backend`. `NNN_name.sql` holds for both engines; where one needs
    something the other lacks, `NNN_name.<backend>.sql` replaces it for that engine alone."""
    folder = resources.files("survey_app.db") / "migrations"
    chosen: dict[int, tuple[int, str, str, bool]] = {}
    for entry in folder.iterdir():
        number, _, rest = entry.name.partition("_")
        if not (entry.name.endswith(".sql") and number.isdigit()):
            continue
        name, _, engine = rest.removesuffix(".sql").partition(".")
        if engine and engine != backend:
            continue
        if int(number) not in chosen or engine:  # the engine's own variant wins
            chosen[int(number)] = (int(number), name, entry.read_text(encoding="utf-8"), bool(engine))
    return sorted((n, name, sql) for n, name, sql, _ in chosen.values())


def apply_migrations(con: Connection, backend: str = "duckdb") -> list[int]:
    """Apply the numbered migrations not yet applied, each in its own transaction."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )
    done = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for number, name, sql in _migrations(backend):
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


def require_migrated(con: Connection, db: Path | str) -> None:
    """A read-only open applies nothing: a database older than this code is refused with the fix."""
    newest = _migrations("duckdb")[-1][0]
    try:
        done = con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0
    except duckdb.CatalogException:
        done = 0
    if done < newest:
        con.close()
        raise StoreUnavailable("store.not_migrated", path=db)


def register_instruments(con: Connection, instruments: Mapping[str, Instrument]) -> None:
    for inst in instruments.values():
        con.execute(
            "INSERT INTO instruments (instrument_id, version, checksum, loaded_at, definition)"
            " VALUES (?, ?, ?, current_timestamp, ?) ON CONFLICT DO NOTHING",
            [inst.id, inst.version, inst.checksum, json.dumps(inst.definition, ensure_ascii=False)],
        )


def insert_rows(con: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                *, skip_existing: bool = False) -> int:
    """Insert rows; with `skip_existing`, those whose key is stored already are left out. Returns how
    many were inserted. `table` and `columns` are constants of the calling module, never user input.

    In DuckDB one statement with one list parameter per column, unnested side by side: binding a
    VALUES list of one parameter per cell costs more than the write itself. A connection with its own
    bulk path (PostgreSQL's COPY) uses that instead.
    """
    if not rows:
        return 0
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return con.insert_rows(table, columns, rows, skip_existing=skip_existing)  # type: ignore[attr-defined]
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    (inserted,) = con.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(['unnest(?)'] * len(columns))}{conflict}",
        [list(column) for column in zip(*rows, strict=True)]).fetchone()
    return inserted


RESPONSE_COLUMNS = (
    "response_id", "submitted_at", "unit_id", "counter_id", "instrument_id", "instrument_version",
    "channel", "lang", "stage", "service_field", "client_hash", "seconds_taken", "status", "flag_reasons",
    "answer_pattern", "address_hash",
)


def place_problems(con: Connection,
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


def write_records(con: Connection, records: Sequence[ResponseRecord]) -> None:
    """Insert whole responses (ratings, choices, comment, contact) inside the caller's transaction.
    Raises _Raced when another process stored one of them since the batch looked."""
    if insert_rows(con, "responses", RESPONSE_COLUMNS, [[getattr(r, c) for c in RESPONSE_COLUMNS] for r in records],
                   skip_existing=True) != len(records):
        raise _Raced
    insert_rows(con, "answers", ("response_id", "item_id", "value"),
                [(r.response_id, item, value) for r in records for item, value in r.answers])
    insert_rows(con, "choices", ("response_id", "question_id", "option_id"),
                [(r.response_id, q, o) for r in records for q, o in r.choices])
    insert_rows(con, "comments", ("response_id", "text"),
                [(r.response_id, r.comment) for r in records if r.comment])
    insert_rows(con, "contacts", ("response_id", "phone", "consent_at"),
                [(r.response_id, r.contact_phone, r.submitted_at) for r in records if r.contact_phone])


class Store:
    """The open database. Use `open_store`; close it with `close()` (or as a context manager).

    The engine-neutral part: the write queue, group commit, idempotent insert, place checks and the
    `admit` hook. A subclass says how to connect, run a transaction, read and close."""

    backend: ClassVar[str]

    def __init__(self, path: Path | str, instruments: Instruments, read_only: bool,
                 admit: Admit | None = None) -> None:
        self.path, self._instruments, self.read_only = path, instruments, read_only
        self._admit = admit
        self.flag_rules = config.flag_rules()
        self._last_stamp = clock.now()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._closed = False

    def _start_writer(self) -> None:
        if not self.read_only:
            self._writer = threading.Thread(target=self._write_loop, name="sipas-writer", daemon=True)
            self._writer.start()

    @property
    def instruments(self) -> dict[str, Instrument]:
        """The questionnaire files by id; a read-only store reads them only if asked (results never do)."""
        if callable(self._instruments):
            self._instruments = self._instruments()
        return self._instruments

    # -- what each engine provides ---------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh DuckDB connection for one reader (in Vietnam time); never share it between threads."""
        raise NotImplementedError

    def _transaction(self, work: Callable[[Any], T]) -> T:
        """Run `work(connection)` in one transaction on the writer's connection (writer thread only)."""
        raise NotImplementedError

    def _serialise(self, con: Connection, records: Sequence[ResponseRecord]) -> None:
        """Make writers in other processes wait while this batch is judged; one process needs nothing."""

    def _storage_problem(self, exc: BaseException) -> StoreUnavailable | None:
        """A clear message for what the storage refused (full disk, no permission), else None."""
        return None

    def _finish_writer(self) -> None:
        """Release the writer's own resources, in the writer thread, when it stops."""

    def _close_engine(self) -> None:
        raise NotImplementedError

    @property
    def freshness(self) -> datetime | None:
        """When what `cursor()` reads was last brought up to date; None: it is the live data."""
        return None

    def refresh(self) -> None:
        """Bring what `cursor()` reads up to date now; it is the live data when freshness is None."""

    # -- reading -------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).fetchall()

    # -- writing -------------------------------------------------------------------------------
    def write(self, work: Callable[[Any], T]) -> T:
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
                self._write_responses(records)
            for j in batch:
                if j.work is not None:
                    self._run_work(j)
        self._finish_writer()

    def _run_work(self, job: _Job) -> None:
        assert job.work is not None
        try:
            job.future.set_result(self._transaction(job.work))
        except Exception as exc:
            job.future.set_exception(exc)

    def _write_responses(self, jobs: list[_Job]) -> None:
        try:
            results = self._transaction(lambda con: self._insert_new(con, [j.record for j in jobs]))
        except Exception as exc:
            if len(jobs) == 1 and not isinstance(exc, _Raced):
                jobs[0].future.set_exception(self._write_failure(exc, jobs[0].record))
                return
            # One bad record must not sink the others, and a response another process stored meanwhile
            # is now visible as stored: retry one by one.
            for job in jobs:
                self._write_responses([job])
            return
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, InvalidResponse):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _write_failure(self, exc: Exception, record: ResponseRecord | None) -> StoreUnavailable:
        problem = self._storage_problem(exc)
        if problem is None:
            log.error("could not store response %s", record and record.response_id, exc_info=exc)
            return StoreUnavailable("store.not_stored")
        log.error("could not store response %s: %s", record and record.response_id, problem)
        return problem

    def _insert_new(self, con: Connection, records: list[Any]) -> list[SubmitResult | InvalidResponse]:
        self._serialise(con, records)
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
        # Judged here, in the writer, so each response is compared with every one committed before it.
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
        self._last_stamp = max(clock.now(), self._last_stamp + timedelta(microseconds=1))
        return self._last_stamp

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        """Drain the queue, then let the engine close (DuckDB checkpoints). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
        self._close_engine()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
