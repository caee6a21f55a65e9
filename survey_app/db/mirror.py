"""The local DuckDB copy that a PostgreSQL store reads with: the aggregation stays DuckDB SQL.

Kept in memory, one per app process, and brought up to date when a reader asks and it is older
than SIPAS_PG_REFRESH_SECONDS. Rows travel through DuckDB's `postgres` extension (installed offline
from the `duckdb-extension-postgres` wheel; a plain INSTALL would try the network):

- responses by a high-water mark on their insertion sequence (`seq`, migration 007), with their
  answers, choices and comments: only what is new crosses the wire;
- status and flag reasons of the few responses not plainly 'ok' (an admin's review, a scan), so a
  change of status shows too;
- the small tables (units, counters, dossier counts, …) whole.

Accounts, contacts, receipts and the audit log are never copied: nothing aggregates them, and they
are read live through `Store.query`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

import duckdb
import duckdb_extensions

from survey_app.core import clock
from survey_app.db.store import apply_migrations, in_vietnam_time

log = logging.getLogger(__name__)
REFRESH_SECONDS = float(os.environ.get("SIPAS_PG_REFRESH_SECONDS", "2"))
# A sequence number below the newest copied but not seen yet: a transaction still in flight, or one
# that rolled back and never will be. Waited for this long, then passed over.
GAP_PATIENCE_SECONDS = 60.0
PULLED = ("responses", "answers", "choices", "comments")
NOT_COPIED = frozenset({"users", "contacts", "receipts", "audit_log", "schema_migrations"})


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """No progress bar: a long copy or query would draw it on stdout, into a command's JSON output."""
    con.execute("SET enable_progress_bar = false")
    return con


class Mirror:
    """An in-memory DuckDB database with the tables of the migrations, filled from PostgreSQL."""

    def __init__(self, url: str, max_age: float = REFRESH_SECONDS) -> None:
        self._con = duckdb.connect(":memory:")
        duckdb_extensions.import_extension("postgres", con=self._con)
        self._con.execute("LOAD postgres")
        self._con.execute(f"ATTACH {_quote(url)} AS pg (TYPE postgres, READ_ONLY)")
        apply_migrations(self._con)
        self._con.execute("ALTER TABLE responses ADD COLUMN seq BIGINT")
        in_vietnam_time(self._con)
        self.max_age = max_age
        self.synced_at: datetime | None = None
        self._synced_clock = float("-inf")
        self._hwm = 0
        self._gap: tuple[int, float] | None = None
        self._lock = threading.Lock()
        self._columns = {table: [row[0] for row in self._con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'memory' AND table_name = ?"
            " ORDER BY column_index", [table]).fetchall()] for table in self._tables()}

    def _tables(self) -> list[str]:
        remote = {row[0] for row in self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'pg'").fetchall()}
        local = {row[0] for row in self._con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory'").fetchall()}
        return sorted((local & remote) - NOT_COPIED)

    # -- reading -------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        if time.monotonic() - self._synced_clock > self.max_age:
            self._refresh_if_free()
        return in_vietnam_time(_quiet(self._con.cursor()))

    def _refresh_if_free(self) -> None:
        """Refresh, unless another reader is at it: then read what is there (it was fresh a moment ago)
        — except before the first copy, which every reader waits for."""
        if not self._lock.acquire(blocking=self.synced_at is None):
            return
        try:
            self._refresh()
        except duckdb.Error as exc:  # PostgreSQL out of reach: serve the last copy, its time says how old
            if self.synced_at is None:
                raise
            log.error("could not refresh the copy of PostgreSQL (last at %s): %s", self.synced_at, exc)
        finally:
            self._lock.release()

    # -- copying -------------------------------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        cur = _quiet(self._con.cursor())
        try:
            cur.execute("BEGIN TRANSACTION")  # readers see the copy before or after, never half of it
            for table in self._columns:
                if table not in PULLED:
                    names = ", ".join(self._columns[table])
                    cur.execute(f"DELETE FROM {table}")
                    cur.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM pg.public.{table}")
            self._pull_new(cur)
            self._pull_marks(cur)
            cur.execute("COMMIT")
            self._advance(cur)
        finally:
            cur.close()
        self.synced_at, self._synced_clock = clock.now(), time.monotonic()

    def _remote(self, sql: str) -> str:
        """A query PostgreSQL runs itself (its filter and join stay there), as a DuckDB table expression."""
        return f"postgres_query('pg', {_quote(sql)})"

    def _pull_new(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Responses past the high-water mark not copied yet, then the rows that belong to them."""
        names = ", ".join(self._columns["responses"])
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE fresh AS SELECT {names} FROM"
            f" {self._remote(f'SELECT {names} FROM responses WHERE seq > {self._hwm:d}')}"
            f" WHERE response_id NOT IN (SELECT response_id FROM responses WHERE seq > {self._hwm:d})")
        cur.execute(f"INSERT INTO responses ({names}) SELECT {names} FROM fresh")
        for table in PULLED[1:]:
            columns = ", ".join(self._columns[table])
            joined = ", ".join(f"c.{c}" for c in self._columns[table])
            # The children of rows committed since `fresh` was read are left for the next refresh.
            remote = self._remote(f"SELECT {joined} FROM {table} c JOIN responses r USING (response_id)"
                                  f" WHERE r.seq > {self._hwm:d}")
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {remote}"
                        " WHERE response_id IN (SELECT response_id FROM fresh)")
        cur.execute("DROP TABLE fresh")

    def _pull_marks(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Status and reasons of every response not plainly 'ok' — few — so that reviews and scans show."""
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE marked AS SELECT * FROM "
            + self._remote("SELECT response_id, status, flag_reasons FROM responses"
                           " WHERE status <> 'ok' OR flag_reasons IS NOT NULL"))
        cur.execute("UPDATE responses SET status = 'ok', flag_reasons = NULL"
                    " WHERE (status <> 'ok' OR flag_reasons IS NOT NULL)"
                    "  AND response_id NOT IN (SELECT response_id FROM marked)")
        cur.execute("UPDATE responses SET status = m.status, flag_reasons = m.flag_reasons FROM marked m"
                    " WHERE responses.response_id = m.response_id"
                    "  AND (responses.status <> m.status OR responses.flag_reasons IS DISTINCT FROM m.flag_reasons)")
        cur.execute("DROP TABLE marked")

    def _advance(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Move the high-water mark over the unbroken run of copied sequence numbers above it. A gap
        is waited for GAP_PATIENCE_SECONDS (a transaction still committing fills it), then passed."""
        while True:
            first, run_end = cur.execute(
                "SELECT min(seq), min(seq) FILTER (WHERE next_seq IS DISTINCT FROM seq + 1) FROM"
                " (SELECT seq, lead(seq) OVER (ORDER BY seq) AS next_seq FROM responses WHERE seq > ?)",
                [self._hwm]).fetchone()
            if first is None:
                self._gap = None
                return
            if first == self._hwm + 1:
                self._hwm, self._gap = run_end, None
                continue
            if self._gap is None or self._gap[0] != self._hwm:
                self._gap = (self._hwm, time.monotonic())
                return
            if time.monotonic() - self._gap[1] < GAP_PATIENCE_SECONDS:
                return
            self._hwm = first - 1

    def close(self) -> None:
        self._con.close()
