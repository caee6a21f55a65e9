"""The dashboard's own queries beside `compute()`, on a (sliced) source: the span of the data, the
questionnaires in use, the trend, hour × weekday traffic, the recent-feedback feed, today's count.

Each aggregates in SQL; none returns raw response rows except the feed, which is bounded. Run them
on a `results.slicing.SlicedSource` and they see only the viewer's slice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pandas as pd

from results.aggregate import compute
from results.catalog import load_catalog
from results.margins import values_list
from results.method import Method
from results.scope import Scope, Source, open_cursor
from survey_app.core.config import DEFAULT_INSTRUMENT
from survey_app.core.periods import Period, period_between, today

TREND_GRAINS = ("week", "month")
FEED_LIMIT = 50


# -- what there is to choose from -------------------------------------------------------------------

def data_span(source: Source, instrument_id: str) -> tuple[date, date] | None:
    """First and last day (Vietnam time) with a counted response, or None on a fresh install."""
    with open_cursor(source) as cur:
        first, last = cur.execute(
            "SELECT CAST(min(submitted_at) AS DATE), CAST(max(submitted_at) AS DATE) FROM responses"
            " WHERE instrument_id = ? AND status = 'ok'", [instrument_id]).fetchone()
    return None if first is None else (first, last)


def instruments_used(source: Source) -> list[str]:
    """Questionnaires with counted responses, the most answered first: a unit on `nhanh-3` opens on it."""
    with open_cursor(source) as cur:
        rows = cur.execute("SELECT instrument_id FROM responses WHERE status = 'ok'"
                           " GROUP BY instrument_id ORDER BY count(*) DESC, instrument_id").fetchall()
    return [instrument_id for (instrument_id,) in rows]


def instrument_menu(used: Sequence[str], known: Iterable[str]) -> list[str]:
    """The `known` questionnaires to offer: those `used` (most answered first), then the others, the
    default questionnaire first among them."""
    known = set(known)
    others = sorted(known - set(used), key=lambda i: (i != DEFAULT_INSTRUMENT, i))
    return [i for i in used if i in known] + others


# -- the trend -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrendPoint:
    start: date  # first day of the week or month
    n: int
    sipas: float | None
    moe: float | None


def trend(source: Source, period: Period, grain: str, instrument_id: str) -> list[TrendPoint]:
    """SIPAS with its margin per week or month over `period` and the period before it (so the
    change shows). Each bucket pools its respondents, as results does for `by=week|month`."""
    if grain not in TREND_GRAINS:
        raise ValueError(f"grain must be one of {TREND_GRAINS}")
    span = period_between(period.previous().first, period.last)
    results = compute(source, span, by=grain, instrument_id=instrument_id, choices=False, compare=False)
    return sorted((TrendPoint(date.fromisoformat(g.key), g.n, g.sipas, g.moe) for g in results.groups if g.n),
                  key=lambda p: p.start)


# -- SQL aggregates --------------------------------------------------------------------------------------

def _scope_with_dissatisfied(cur: duckdb.DuckDBPyConnection, period: Period,
                             instrument_id: str) -> tuple[Scope, str, list[object]]:
    """The period's scope and, as a VALUES list, every (version, item, code) that is dissatisfied by
    results' rules, with versions told apart exactly when results' catalog tells them apart."""
    versions = [v for (v,) in cur.execute(
        "SELECT version FROM instruments WHERE instrument_id = ?", [instrument_id]).fetchall()]
    catalog = load_catalog(cur, instrument_id, versions, Method())
    codes = sorted((v, item, code) for (v, item), spec in catalog.codes.items() for code in spec.dissatisfied)
    codes_sql, params = values_list(codes or [("", "", -1)])  # VALUES needs a row; this one matches nothing
    return Scope(cur, period, "unit", instrument_id, split_versions=catalog.split_versions), codes_sql, params


# Responses per weekday and hour, and the share of their ratings that are dissatisfied codes.
_HOUR_WEEKDAY = """
WITH scope AS ({scope})
, dis(version, item_id, value) AS (VALUES {codes})
, cell AS (
    SELECT s.response_id, s.version, EXTRACT(isodow FROM r.submitted_at) AS weekday,
           EXTRACT(hour FROM r.submitted_at) AS hour
    FROM scope s JOIN responses r ON r.response_id = s.response_id)
, rated AS (
    SELECT c.weekday, c.hour, count(*) AS rated, count(dis.value) AS dissatisfied
    FROM answers a JOIN cell c ON c.response_id = a.response_id
    LEFT JOIN dis ON dis.version = c.version AND dis.item_id = a.item_id AND dis.value = a.value
    WHERE a.value IS NOT NULL
    GROUP BY c.weekday, c.hour)
SELECT c.weekday, c.hour, count(*) AS responses, max(rated.rated), max(rated.dissatisfied)
FROM cell c LEFT JOIN rated ON rated.weekday = c.weekday AND rated.hour = c.hour
GROUP BY c.weekday, c.hour
ORDER BY c.weekday, c.hour
"""


def hour_weekday(source: Source, period: Period, instrument_id: str) -> pd.DataFrame:
    """weekday (1 = Monday … 7 = Sunday), hour (0–23, Vietnam time), responses, and the
    dissatisfied share (%) of the ratings given in that hour."""
    with open_cursor(source) as cur:
        scope, codes_sql, codes = _scope_with_dissatisfied(cur, period, instrument_id)
        rows = scope.query(_HOUR_WEEKDAY, codes, codes=codes_sql)
    frame = pd.DataFrame(rows, columns=["weekday", "hour", "responses", "rated", "dissatisfied"])
    frame["dissatisfied_pct"] = 100.0 * frame["dissatisfied"] / frame["rated"].where(frame["rated"] > 0)
    return frame.drop(columns=["rated", "dissatisfied"]).astype({"weekday": int, "hour": int, "responses": int})


@dataclass(frozen=True)
class FeedEntry:
    submitted_at: datetime
    unit: str
    counter: str
    comment: str | None
    dissatisfied_items: tuple[str, ...]


# The newest responses that carry a comment or a dissatisfied rating. Comments and ratings are
# joined here only to be shown together to the leaders of that unit; contacts never are.
_FEED = """
WITH scope AS ({scope})
, dis(version, item_id, value) AS (VALUES {codes})
, low AS (
    SELECT a.response_id, string_agg(a.item_id, ', ' ORDER BY a.item_id) AS items
    FROM answers a JOIN scope s ON s.response_id = a.response_id
    JOIN dis ON dis.version = s.version AND dis.item_id = a.item_id AND dis.value = a.value
    GROUP BY a.response_id)
, recent AS (
    SELECT r.response_id, r.submitted_at, r.unit_id, r.counter_id
    FROM scope s JOIN responses r ON r.response_id = s.response_id
    WHERE r.response_id IN (SELECT response_id FROM low)
       OR r.response_id IN (SELECT c.response_id FROM comments c JOIN scope t ON t.response_id = c.response_id)
    ORDER BY r.submitted_at DESC
    LIMIT ?)
SELECT recent.submitted_at, u.name, coalesce(k.name, recent.counter_id, ''), c.text, low.items
FROM recent
JOIN units u ON u.unit_id = recent.unit_id
LEFT JOIN counters k ON k.unit_id = recent.unit_id AND k.counter_id = recent.counter_id
LEFT JOIN comments c ON c.response_id = recent.response_id
LEFT JOIN low ON low.response_id = recent.response_id
ORDER BY recent.submitted_at DESC
"""


def feed(source: Source, period: Period, instrument_id: str, limit: int = FEED_LIMIT) -> list[FeedEntry]:
    """The `limit` newest comments and dissatisfied answers of the period, newest first."""
    with open_cursor(source) as cur:
        scope, codes_sql, codes = _scope_with_dissatisfied(cur, period, instrument_id)
        rows = scope.query(_FEED, [*codes, limit], codes=codes_sql)
    return [FeedEntry(at, unit, counter, text, tuple(items.split(", ")) if items else ())
            for at, unit, counter, text, items in rows]


def responses_today(source: Source, instrument_id: str) -> int:
    """Counted responses since midnight, Vietnam time."""
    day = today()
    with open_cursor(source) as cur:
        scope = Scope(cur, period_between(day, day), "unit", instrument_id)
        return scope.query("WITH scope AS ({scope}) SELECT count(*) FROM scope")[0][0]
