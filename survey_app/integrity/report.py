"""How many of each unit's responses are flagged, and why: a unit with many is a finding."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from survey_app.core import config
from survey_app.db.store import Readable, open_cursor


@dataclass(frozen=True)
class FlaggedShare:
    """How many of a unit's responses in a period are flagged, and why (a unit with many is a finding)."""

    unit_id: str
    name: str | None
    block: str | None
    responses: int
    flagged: int
    share: float  # percent of the unit's responses
    reasons: dict[str, int]


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=config.TIMEZONE)


def flagged_share(source: Readable, period_from: date, period_to: date) -> list[FlaggedShare]:
    """Per unit with responses from `period_from` to `period_to` (Vietnam dates, both included):
    responses, flagged ones, their share in percent and the reasons; highest share first."""
    bounds = [_day_start(period_from), _day_start(period_to + timedelta(days=1))]
    with open_cursor(source) as cur:
        totals = cur.execute(
            "SELECT r.unit_id, u.name, u.block, count(*), count(*) FILTER (WHERE r.status = 'flagged')"
            " FROM responses r LEFT JOIN units u ON u.unit_id = r.unit_id"
            " WHERE r.submitted_at >= ? AND r.submitted_at < ? GROUP BY r.unit_id, u.name, u.block", bounds).fetchall()
        found = cur.execute(
            "SELECT unit_id, flag_reasons, count(*) FROM responses"
            " WHERE submitted_at >= ? AND submitted_at < ? AND status = 'flagged' GROUP BY unit_id, flag_reasons",
            bounds).fetchall()
    reasons: dict[str, Counter[str]] = {}
    for unit_id, listed, n in found:
        for reason in (listed or "").split(","):
            reasons.setdefault(unit_id, Counter())[reason] += n
    shares = [FlaggedShare(unit_id, name, block, n, flagged, 100 * flagged / n, dict(reasons.get(unit_id, {})))
              for unit_id, name, block, n, flagged in totals]
    return sorted(shares, key=lambda s: (-s.share, s.unit_id))


def flagged_table(shares: list[FlaggedShare]) -> pd.DataFrame:
    """The units with flagged responses as a table: name, responses, flagged, share (percent, two
    decimals), reasons ("burst_client (3), too_fast (1)", the most frequent first)."""
    return pd.DataFrame([
        {"name": s.name or s.unit_id, "responses": s.responses, "flagged": s.flagged, "share": round(s.share, 2),
         "reasons": ", ".join(f"{reason} ({n})" for reason, n in sorted(s.reasons.items(), key=lambda r: -r[1]))}
        for s in shares if s.flagged
    ], columns=["name", "responses", "flagged", "share", "reasons"])
