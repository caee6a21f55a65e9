"""Cases in the results: per unit or block and period, how many opened, the share answered by the
deadline, the median time to answer. Read with this module's own SQL on the `cases` table
(results imports nothing above storage, so not survey_app.cases).

A case counts in the period it was opened. Its deadline is "decided" once it is answered or has
passed; the on-time share is the answered-by-deadline cases among the decided ones, so cases
still inside their deadline neither help nor hurt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from survey_app.core import clock
from survey_app.core.periods import Period

PENDING = ("mo", "dang_xu_ly")  # survey_app.cases.rules.PENDING: the statuses waiting for the unit
_KEYS = {"unit": "c.unit_id", "block": "u.block"}


@dataclass(frozen=True)
class CaseStats:
    opened: int
    decided: int  # answered, or past the deadline
    on_time: int  # answered by the deadline
    overdue: int  # still waiting past the deadline
    median_hours: float | None  # from opening to the (latest) answer, over the answered cases

    @property
    def on_time_pct(self) -> float | None:
        return 100.0 * self.on_time / self.decided if self.decided else None


def case_stats(cur: duckdb.DuckDBPyConnection, period: Period, by: str = "unit",
               at: datetime | None = None) -> dict[str, CaseStats]:
    """Each unit's (or block's) cases opened in `period`, judged at `at` (default now)."""
    if by not in _KEYS:
        return {}
    at = at or clock.now()
    rows = cur.execute(
        f"SELECT {_KEYS[by]} AS g, count(*),"
        "  count(*) FILTER (WHERE c.replied_at IS NOT NULL OR c.due_at < ?),"
        "  count(*) FILTER (WHERE c.replied_at IS NOT NULL AND c.replied_at <= c.due_at),"
        "  count(*) FILTER (WHERE c.status IN (?, ?) AND c.due_at < ?),"
        "  median(date_diff('second', c.opened_at, c.replied_at)) / 3600.0"
        " FROM cases c JOIN units u ON u.unit_id = c.unit_id"
        " WHERE c.opened_at >= ? AND c.opened_at < ? GROUP BY g",
        [at, *PENDING, at, period.start, period.end]).fetchall()
    return {row[0]: CaseStats(*row[1:5], None if row[5] is None else float(row[5])) for row in rows}


def recent_comments(cur: duckdb.DuckDBPyConnection, unit_id: str, period: Period, limit: int = 3) -> list[str]:
    """The unit's newest comments of the period (stored scrubbed of phones, IDs and e-mails)."""
    rows = cur.execute(
        "SELECT m.text FROM comments m JOIN responses r ON r.response_id = m.response_id"
        " WHERE r.unit_id = ? AND r.submitted_at >= ? AND r.submitted_at < ? AND r.status <> 'excluded'"
        " ORDER BY r.submitted_at DESC LIMIT ?", [unit_id, period.start, period.end, limit]).fetchall()
    return [row[0] for row in rows]
