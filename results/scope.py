"""Which responses count, and how they are grouped: the `scope` CTE every aggregate query starts from.

Only responses of one instrument, submitted in the period (Vietnam time), whose status counts
(`ok`, plus `flagged` only when an admin asks for it; `excluded` never) enter a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from survey_app.core.periods import Period
from survey_app.db.store import Readable, open_cursor

# What results read from: the store, a leader's slice of it, or a plain DuckDB connection.
Source = Readable

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

# `p` tells the period: 0 the period asked for, 1 the one it is compared with (when there is one).
_SCOPE = """
    SELECT r.response_id, {group} AS g, {version} AS version, r.channel,
           CASE WHEN r.submitted_at >= ? AND r.submitted_at < ? THEN 0 ELSE 1 END AS p
    FROM responses r JOIN units u ON u.unit_id = r.unit_id {keys}
    WHERE r.instrument_id = ? AND ({periods})
      AND (r.status = 'ok' OR (? AND r.status = 'flagged'))
"""
_PERIOD = "(r.submitted_at >= ? AND r.submitted_at < ?)"
# Once the group keys (and versions) are known, each gets a small integer: carrying and grouping an
# INTEGER through the join of 20 million answers costs a quarter less than a VARCHAR.
_KEYS = " JOIN (VALUES {rows}) AS k(g, gi) ON k.g = {key}"
_VERSIONS = " JOIN (VALUES {rows}) AS ver(version, vi) ON ver.version = r.instrument_version"


def numbered(values: Sequence[str]) -> tuple[str, list[Any]]:
    """A VALUES list giving each of `values` its position: (value, 0), (value, 1), …"""
    return ", ".join(["(?, ?)"] * len(values)), [v for i, value in enumerate(values) for v in (value, i)]


@dataclass(frozen=True)
class Scope:
    cur: duckdb.DuckDBPyConnection
    period: Period
    by: str
    instrument_id: str
    include_flagged: bool = False
    split_versions: bool = True  # False: the `version` column is ONE_CODING for every response
    keys: tuple[str, ...] = ()  # the groups with responses, once a first query has found them
    previous: Period | None = None  # also the responses of this period, with p = 1
    versions: tuple[str, ...] = ()  # when given, `version` is the position of the response's version

    @property
    def statuses(self) -> tuple[str, ...]:
        return ("ok", "flagged") if self.include_flagged else ("ok",)

    def _sql(self) -> tuple[str, list[Any]]:
        key = GROUP_KEYS[self.by]
        periods = [self.period] + ([self.previous] if self.previous else [])
        params: list[Any] = [self.period.start, self.period.end]
        joins, group, version = "", key, _VERSION[self.split_versions]
        if self.keys:
            rows, numbers = numbered(self.keys)
            joins, group = _KEYS.format(rows=rows, key=key), "k.gi"
            params += numbers
        if self.versions:
            rows, numbers = numbered(self.versions)
            joins, version = joins + _VERSIONS.format(rows=rows), "ver.vi"
            params += numbers
        params += [self.instrument_id, *(v for p in periods for v in (p.start, p.end)), self.include_flagged]
        sql = _SCOPE.format(group=group, version=version, keys=joins,
                            periods=" OR ".join([_PERIOD] * len(periods)))
        return sql, params

    def query(self, template: str, params: Sequence[Any] = (), **fragments: str) -> list[tuple[Any, ...]]:
        """Run `template`, which starts `WITH scope AS ({scope})` and returns the group `g` first;
        `params` follow the scope's own. The group comes back as its key whichever way it was carried."""
        rows = self._execute(template, params, fragments).fetchall()
        if self.keys:
            rows = [(self.keys[row[0]], *row[1:]) for row in rows]
        return rows

    def arrays(self, template: str, params: Sequence[Any] = (), **fragments: str) -> dict[str, Any]:
        """`template`'s columns as numpy arrays (groups and versions as their numbers): for results
        of one row per respondent, which would be slow as Python tuples."""
        return self._execute(template, params, fragments).fetchnumpy()

    def _execute(self, template: str, params: Sequence[Any], fragments: dict[str, str]) -> duckdb.DuckDBPyConnection:
        scope_sql, scope_params = self._sql()
        return self.cur.execute(template.format(scope=scope_sql, **fragments), [*scope_params, *params])


__all__ = ["GROUP_KEYS", "ONE_CODING", "Scope", "Source", "numbered", "open_cursor"]
