"""Which responses count, and how they are grouped: the `scope` CTE every aggregate query starts from.

Only responses of one instrument, submitted in the period (Vietnam time), whose status counts
(`ok`, plus `flagged` only when an admin asks for it; `excluded` never) enter a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from results.periods import Period
from survey_app.config import TIMEZONE_NAME
from survey_app.store import Store

Source = Store | duckdb.DuckDBPyConnection

# The group key of each grouping. Constants picked by name, never text from a user.
GROUP_KEYS = {
    "unit": "r.unit_id",
    "block": "u.block",
    "counter": "r.unit_id || '/' || coalesce(r.counter_id, '')",
    "field": "coalesce(r.service_field, '')",
    # Calendar buckets in the session time zone (Vietnam), keyed by their first day: trends.
    "month": "CAST(CAST(date_trunc('month', r.submitted_at) AS DATE) AS VARCHAR)",
    "week": "CAST(CAST(date_trunc('week', r.submitted_at) AS DATE) AS VARCHAR)",
}

# When every answered version codes its items alike, versions are not told apart: a narrower
# GROUP BY, about a quarter less work on a million responses.
ONE_CODING = "*"
_VERSION = {True: "r.instrument_version", False: f"'{ONE_CODING}'"}

_SCOPE = """
    SELECT r.response_id, {key} AS g, {version} AS version, r.channel
    FROM responses r JOIN units u ON u.unit_id = r.unit_id
    WHERE r.instrument_id = ? AND r.submitted_at >= ? AND r.submitted_at < ?
      AND (r.status = 'ok' OR (? AND r.status = 'flagged'))
"""


def open_cursor(source: Source) -> duckdb.DuckDBPyConnection:
    """A fresh cursor in Vietnam time, from a Store or a plain DuckDB connection."""
    cur = source.cursor()
    cur.execute("SET TimeZone = ?", [TIMEZONE_NAME])
    return cur


@dataclass(frozen=True)
class Scope:
    cur: duckdb.DuckDBPyConnection
    period: Period
    by: str
    instrument_id: str
    include_flagged: bool = False
    split_versions: bool = True  # False: the `version` column is ONE_CODING for every response

    @property
    def statuses(self) -> tuple[str, ...]:
        return ("ok", "flagged") if self.include_flagged else ("ok",)

    def query(self, template: str, params: Sequence[Any] = (), **fragments: str) -> list[tuple[Any, ...]]:
        """Run `template`, which starts `WITH scope AS ({scope})`; `params` follow the scope's own."""
        scope_sql = _SCOPE.format(key=GROUP_KEYS[self.by], version=_VERSION[self.split_versions])
        scope_params = [self.instrument_id, self.period.start, self.period.end, self.include_flagged]
        sql = template.format(scope=scope_sql, **fragments)
        return self.cur.execute(sql, [*scope_params, *params]).fetchall()
