"""The audit log (`audit_log`): who did what and when — every admin action, export, login and change
of a response's status. Rows are only ever appended.

Write the row inside the transaction of the change it records (pass the connection `store.write`
hands you), so a change is never committed without its row, nor a row without its change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from survey_app.db.store import Store


@dataclass(frozen=True)
class AuditEntry:
    logged_at: datetime
    actor: str
    action: str
    target: str | None
    detail: str | None


def record(con: duckdb.DuckDBPyConnection, actor: str, action: str,
           target: str | None = None, detail: str | None = None) -> None:
    """Append one row inside the caller's transaction (the connection `store.write` hands you)."""
    con.execute(
        "INSERT INTO audit_log (logged_at, actor, action, target, detail) VALUES (current_timestamp, ?, ?, ?, ?)",
        [actor, action, target, detail],
    )


def record_alone(store: Store, actor: str, action: str, target: str | None = None, detail: str | None = None) -> None:
    """Append one row in a transaction of its own: for what changes no table (a login, a file written)."""
    store.write(lambda con: record(con, actor, action, target, detail))


def read(store: Store, *, actor: str | None = None, action: str | None = None, limit: int = 500) -> list[AuditEntry]:
    """The newest rows first; `action` matches a whole action or its family ("unit" → "unit.rename")."""
    rows = store.query(
        "SELECT logged_at, actor, action, target, detail FROM audit_log"
        " WHERE (? IS NULL OR actor = ?) AND (? IS NULL OR action = ? OR action LIKE ? || '.%')"
        " ORDER BY logged_at DESC LIMIT ?",
        [actor, actor, action, action, action, limit],
    )
    return [AuditEntry(*row) for row in rows]
