"""PostgreSQL, for more than one app process: `--db postgresql://user@host:port/db`.

Writes go through psycopg 3 and a connection pool: each process keeps its own writer thread and
group commit, and several processes write at once. What the integrity rules look back at is
serialised across processes with advisory transaction locks (see `PgStore._serialise`); a response
id stored twice in a race is caught by its primary key (ON CONFLICT DO NOTHING) and answered as a
duplicate. Reads for aggregation run in DuckDB on a local copy (`survey_app.db.mirror`); `query()`
reads PostgreSQL itself, so what was just written is seen at once.

The SQL of the other modules keeps DuckDB's `?` placeholders: `PgConnection` translates them, the
one place that does.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar

import duckdb
import pandas as pd
import psycopg
from psycopg.types.numeric import FloatLoader
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from survey_app.core import config
from survey_app.core.instruments import Instrument
from survey_app.core.responses import ResponseRecord
from survey_app.db.mirror import Mirror
from survey_app.db.store import (
    Admit,
    Instruments,
    Store,
    StoreUnavailable,
    apply_migrations,
    register_instruments,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
POOL_SIZE = int(os.environ.get("SIPAS_PG_POOL", "8"))
CONNECT_SECONDS = 10
# Any constant: the lock that lets one process at a time migrate the schema.
_MIGRATION_LOCK = 0x5195A5
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


def _token(match: re.Match[str]) -> str:
    text = match.group(0)
    return {"?": "%s", "%": "%%"}.get(text) or text.replace("%", "%%")  # psycopg reads % inside literals too


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a `?` inside a string literal stays), every `%` doubled."""
    return _TOKENS.sub(_token, sql)


class _Result:
    """A statement's result, read as DuckDB's are: a statement without rows (UPDATE, DELETE) gives
    its row count as its one row, like DuckDB, so callers read `fetchone()[0]` from both engines."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._cursor.description is None:
            return [(self._cursor.rowcount,)]
        return self._cursor.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._cursor.description is None:
            return (self._cursor.rowcount,)
        return self._cursor.fetchone()


_PG_TYPES = {"i": "BIGINT", "u": "BIGINT", "f": "DOUBLE PRECISION", "b": "BOOLEAN"}


def _pg_type(column: pd.Series) -> str:
    """The PostgreSQL type a DataFrame column becomes, as DuckDB would read it."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return "TEXT"
    if column.dtype == object:
        first = column.dropna().head(1).tolist()
        return "UUID" if first and isinstance(first[0], uuid.UUID) else "TEXT"
    return _PG_TYPES.get(getattr(column.dtype, "numpy_dtype", column.dtype).kind, "TEXT")


class PgConnection:
    """A psycopg connection that the store's and the services' SQL runs on unchanged."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Result:
        cursor = self.raw.cursor()
        if parameters:
            cursor.execute(to_pyformat(sql), list(parameters))
        else:
            cursor.execute(sql)  # type: ignore[arg-type]  # our own constant SQL; several statements allowed
        return _Result(cursor)

    def executemany(self, sql: str, parameters: Sequence[Sequence[Any]]) -> _Result:
        cursor = self.raw.cursor()
        cursor.executemany(to_pyformat(sql), [list(row) for row in parameters])  # type: ignore[arg-type]
        return _Result(cursor)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                    skip_existing: bool = False) -> int:
        names = ", ".join(columns)
        with self.raw.cursor() as cursor:
            if skip_existing:  # a key another process stored meanwhile is skipped, and not counted
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING",  # type: ignore[arg-type]
                                   [list(row) for row in rows])
                return cursor.rowcount
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[arg-type]
                for row in rows:
                    copy.write_row(row)
        return len(rows)

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A DataFrame as a temporary table, as DuckDB's `register` makes one (the demo writes through it)."""
        columns = ", ".join(f"{column} {_pg_type(frame[column])}" for column in frame.columns)
        self.raw.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")  # type: ignore[arg-type]
        text = io.StringIO()
        # CSV, where an empty field is NULL (demo frames hold no empty texts).
        frame.to_csv(text, index=False, header=False, na_rep="")
        with self.raw.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv)") as copy:  # type: ignore[arg-type]
            copy.write(text.getvalue())

    def unregister(self, name: str) -> None:
        self.raw.execute(f"DROP TABLE IF EXISTS {name}")  # type: ignore[arg-type]


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Every pooled connection: Vietnam time, and values back as DuckDB gives them (JSON as text,
    numeric as float), so callers need not know the engine."""
    conn.adapters.register_loader("json", TextLoader)
    conn.adapters.register_loader("jsonb", TextLoader)
    conn.adapters.register_loader("numeric", FloatLoader)
    conn.execute("SELECT set_config('TimeZone', %s, false)", [config.TIMEZONE_NAME])
    conn.commit()


def _lock_key(*parts: str) -> int:
    """A 64-bit advisory-lock key, the same in every process (Python's hash() is not)."""
    return int.from_bytes(hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest(), "big", signed=True)


def _unreachable(url: str, exc: BaseException) -> StoreUnavailable:
    why = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return StoreUnavailable("store.unreachable", url=safe_url(url), why=why)


def safe_url(url: str) -> str:
    """The URL without its password, for messages and cache keys."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class PgStore(Store):
    """The database on a PostgreSQL server that several app processes share."""

    backend = "postgresql"

    def __init__(self, url: str, pool: ConnectionPool, mirror: Mirror, instruments: Instruments,
                 read_only: bool, admit: Admit | None = None) -> None:
        super().__init__(safe_url(url), instruments, read_only, admit)
        self._pool, self._mirror = pool, mirror
        self._start_writer()

    # -- reading -------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor over the local copy, brought up to date when it is older than
        SIPAS_PG_REFRESH_SECONDS: the aggregation is DuckDB SQL on both engines."""
        return self._mirror.cursor()

    @property
    def freshness(self) -> datetime | None:
        return self._mirror.synced_at

    def refresh(self) -> None:
        self._mirror.refresh()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Read PostgreSQL itself: what was just written, by any process, is there."""
        with self._pool.connection() as conn:
            return PgConnection(conn).execute(sql, params).fetchall()

    # -- writing -------------------------------------------------------------------------------
    def _transaction(self, work: Callable[[PgConnection], T]) -> T:
        with self._pool.connection() as conn, conn.transaction():
            return work(PgConnection(conn))

    def _serialise(self, con: Any, records: Sequence[ResponseRecord]) -> None:
        """Hold, until this batch commits, a lock per counter (bursts of one device or one answer set
        at a counter) and per device at a unit (a second response the same day): a writer in another
        process judging a response at the same counter or from the same device waits, then sees this
        batch's rows. Taken in key order, so two batches never wait on each other in a circle. A
        retried response id comes from the same device at the same counter, so it waits here too and
        then finds the first one stored."""
        keys = {_lock_key("counter", r.unit_id, r.counter_id or "") for r in records}
        keys |= {_lock_key("device", r.unit_id, r.client_hash) for r in records if r.client_hash}
        # One round trip; the function scan hands the keys over in array order.
        con.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::BIGINT[]) AS k", [sorted(keys)])

    # -- lifecycle -----------------------------------------------------------------------------
    def _close_engine(self) -> None:
        self._mirror.close()
        self._pool.close()


def _migrate(url: str, instruments: dict[str, Instrument]) -> None:
    """Apply the migrations and register the questionnaires, one process at a time."""
    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_SECONDS) as conn:
        _configure(conn)
        conn.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
        try:
            con = PgConnection(conn)
            apply_migrations(con, "postgresql")
            register_instruments(con, instruments)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [_MIGRATION_LOCK])


def _require_schema(url: str) -> None:
    with psycopg.connect(url, connect_timeout=CONNECT_SECONDS) as conn:
        if conn.execute("SELECT to_regclass('responses')").fetchone() == (None,):
            raise StoreUnavailable("store.missing", path=safe_url(url))


def open_postgres(url: str, instruments: Instruments, *, read_only: bool = False,
                  admit: Admit | None = None) -> PgStore:
    """Connect, migrate (unless read-only), open the pool and the local copy; start the writer."""
    try:
        if read_only:
            _require_schema(url)
        else:
            assert not callable(instruments)
            _migrate(url, instruments)
        pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, configure=_configure, open=True,
                              kwargs={"connect_timeout": CONNECT_SECONDS}, name="sipas")
        pool.wait(timeout=CONNECT_SECONDS)
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise _unreachable(url, exc) from None
    try:
        mirror = Mirror(url)
    except Exception:
        pool.close()
        raise
    return PgStore(url, pool, mirror, instruments, read_only, admit)
