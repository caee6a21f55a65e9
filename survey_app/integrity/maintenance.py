"""Integrity services over stored data: scanning what was written in bulk, a unit's opening hours,
and purging contact details past retention. Each change is audited in its own transaction.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from survey_app.admin import audit
from survey_app.core import clock, config
from survey_app.core.formats import count, number
from survey_app.core.i18n import Refused, both
from survey_app.core.instruments import Instrument
from survey_app.db.store import Store
from survey_app.integrity.admission import FACT_COLUMNS, FACT_WIDTH, facts_from_rows
from survey_app.integrity.rules import Context, judge, parse_hours, top_pattern


def fill_patterns(con: duckdb.DuckDBPyConnection, instruments: Mapping[str, Instrument]) -> None:
    """ResponseRecord.answer_pattern for rows written in bulk, from the answers table.

    One conditional aggregate per item of the instrument, in item-id order: an aggregate with its
    own ORDER BY (string_agg … ORDER BY) needs tens of GB for a million responses.
    """
    for instrument in instruments.values():
        items = sorted(instrument.answer_items)
        ratings = ", ".join(["coalesce(CAST(max(value) FILTER (WHERE item_id = ?) AS VARCHAR), '-')"] * len(items))
        con.execute(
            "UPDATE responses SET answer_pattern = p.pattern"
            f" FROM (SELECT response_id, concat({ratings}) AS pattern FROM answers"
            "       WHERE response_id IN (SELECT response_id FROM responses"
            "                             WHERE answer_pattern IS NULL AND instrument_id = ?)"
            "       GROUP BY response_id) AS p"
            " WHERE responses.response_id = p.response_id",
            [*items, instrument.id],
        )


def _audit(con: duckdb.DuckDBPyConnection, action: str, detail: str) -> None:
    audit.record(con, "integrity", action, None, detail)


@dataclass(frozen=True)
class ScanResult:
    examined: int
    flagged: int
    reasons: dict[str, int]
    seconds: float

    def __str__(self) -> str:
        why = ", ".join(f"{reason} {count(n)}" for reason, n in sorted(self.reasons.items())) or "—"
        return both("integrity.scanned", examined=count(self.examined), flagged=count(self.flagged), why=why,
                    seconds=number(self.seconds, 1))


def _flag(con: duckdb.DuckDBPyConnection, verdicts: Sequence[tuple[Any, str]], chunk: int = 500) -> None:
    for start in range(0, len(verdicts), chunk):
        part = verdicts[start:start + chunk]
        con.execute(
            "UPDATE responses SET status = 'flagged', flag_reasons = f.reasons"
            f" FROM (VALUES {', '.join(['(?, ?)'] * len(part))}) AS f(response_id, reasons)"
            " WHERE responses.response_id = CAST(f.response_id AS UUID)"
            "  AND responses.status = 'ok' AND responses.flag_reasons IS NULL",  # never undo an admin's review
            [v for row in part for v in (str(row[0]), row[1])],
        )


def scan(store: Store) -> ScanResult:
    """Judge every stored response as `submit` would have, and flag the suspect ones never judged
    (status 'ok' without reasons). Run it after importing or generating data in bulk."""
    begun = time.perf_counter()
    store.write(lambda con: fill_patterns(con, store.instruments))
    context = Context(store.flag_rules, {i.id: top_pattern(i) for i in store.instruments.values()},
                      dict(store.query("SELECT unit_id, hours FROM opening_hours")))
    examined, verdicts = 0, []
    for (unit_id,) in store.query("SELECT DISTINCT unit_id FROM responses ORDER BY unit_id"):
        rows = store.query(f"SELECT {FACT_COLUMNS}, status = 'ok' AND flag_reasons IS NULL FROM responses"
                           " WHERE unit_id = ? ORDER BY submitted_at, response_id", [unit_id])
        unjudged = {row[0] for row in rows if row[FACT_WIDTH]}
        examined += len(rows)
        judged = judge(facts_from_rows(rows), context, unjudged)
        verdicts += [(f.response_id, ",".join(reasons)) for f, reasons in judged if reasons]
    reasons = Counter(reason for _, found in verdicts for reason in found.split(","))

    def work(con: duckdb.DuckDBPyConnection) -> None:
        _flag(con, verdicts)
        if verdicts:
            _audit(con, "integrity.scan", f"{len(verdicts)} flagged: {dict(sorted(reasons.items()))}")

    store.write(work)
    return ScanResult(examined, len(verdicts), dict(reasons), time.perf_counter() - begun)


def set_opening_hours(store: Store, unit_id: str, spec: str | None) -> None:
    """A unit's own opening hours; None or "" returns it to SIPAS_FLAG_OPENING_HOURS."""
    if spec:
        parse_hours(spec)  # refuse a bad spelling before anything is written

    def work(con: duckdb.DuckDBPyConnection) -> None:
        if not con.execute("SELECT count(*) FROM units WHERE unit_id = ?", [unit_id]).fetchone()[0]:
            raise Refused("admin.unknown_unit", unit=unit_id)
        con.execute("DELETE FROM opening_hours WHERE unit_id = ?", [unit_id])
        if spec:
            con.execute("INSERT INTO opening_hours (unit_id, hours) VALUES (?, ?)", [unit_id, spec])

    store.write(work)


def purge_contacts(store: Store, *, days: float | None = None, now: datetime | None = None) -> int:
    """Delete contact details older than the retention period (SIPAS_CONTACT_RETENTION_DAYS); the
    responses themselves stay. Returns how many were deleted."""
    days = config.CONTACT_RETENTION_DAYS if days is None else days
    if days < 0:
        raise Refused("integrity.negative_retention")
    cutoff = (now or clock.now()) - timedelta(days=days)

    def work(con: duckdb.DuckDBPyConnection) -> int:
        count = con.execute("SELECT count(*) FROM contacts WHERE consent_at < ?", [cutoff]).fetchone()[0]
        if count:
            con.execute("DELETE FROM contacts WHERE consent_at < ?", [cutoff])
            _audit(con, "contacts.purge", f"{count} before {cutoff:%Y-%m-%d %H:%M} (retention {days:g} days)")
        return count

    return store.write(work)
