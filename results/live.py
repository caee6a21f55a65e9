"""What the live dashboard needs beside `compute()`: a leader's slice of the data, the headline over
several units, answer distributions, the trend, hour × weekday traffic and the recent-feedback feed.

Every function aggregates in SQL or works on `Results`; none returns raw response rows except the
feed, which is bounded. Never imports Streamlit.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from results.aggregate import compute
from results.catalog import _codes, load_catalog
from results.cchc import RuleTable, cchc_points, load_rules
from results.export import write_xlsx
from results.formulas import choice_share, group_index, margin_of_error, response_rate
from results.margins import _values
from results.method import Method
from results.model import GroupResult, Results
from results.report import write_report
from results.scope import Scope, Source, open_cursor
from survey_app.core.config import TIMEZONE
from survey_app.core.periods import Period, parse_period, period_between

TREND_GRAINS = ("week", "month")
FEED_LIMIT = 50
RULES_DIR = Path(__file__).parent / "rules"


# -- the slice a viewer may see --------------------------------------------------------------------

@dataclass(frozen=True)
class Slice:
    """The responses one dashboard view covers: some units (None = every unit) and maybe one counter."""

    unit_ids: frozenset[str] | None = None
    counter_id: str | None = None  # a counter of the single unit in `unit_ids`

    def __post_init__(self) -> None:
        if self.counter_id is not None and (self.unit_ids is None or len(self.unit_ids) != 1):
            raise ValueError("a counter can only be chosen within exactly one unit")

    def within(self, scope: frozenset[str] | None) -> Slice:
        """This slice cut down to a viewer's scope (None = sees all): a filter can never widen a scope."""
        if scope is None:
            return self
        units = scope if self.unit_ids is None else self.unit_ids & scope
        return Slice(units, self.counter_id if units == self.unit_ids else None)


# Each view shadows the table of the same name for one cursor (a temporary object is found before
# the database's own, in DuckDB as in PostgreSQL), so every query run through the cursor — compute()
# included — sees only the slice without knowing about it. {db} is the database's quoted name.
_SLICE_VIEWS = {
    "responses": "SELECT r.* FROM {db}.main.responses r JOIN slice_units s ON s.unit_id = r.unit_id"
                 " WHERE s.counter_id IS NULL OR s.counter_id = r.counter_id",
    "units": "SELECT u.* FROM {db}.main.units u WHERE u.unit_id IN (SELECT unit_id FROM slice_units)",
    "counters": "SELECT c.* FROM {db}.main.counters c JOIN slice_units s ON s.unit_id = c.unit_id"
                " WHERE s.counter_id IS NULL OR s.counter_id = c.counter_id",
    # A counter's responses against its unit's dossiers would give a false response rate: none then.
    "dossier_counts": "SELECT d.* FROM {db}.main.dossier_counts d JOIN slice_units s ON s.unit_id = d.unit_id"
                      " WHERE s.counter_id IS NULL",
}


@dataclass(frozen=True)
class SlicedSource:
    """A source for `compute()` and this module whose cursors see only `slice` of the database."""

    source: Source
    slice: Slice

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.source.cursor()
        if self.slice.unit_ids is None:
            return cur
        cur.execute("CREATE TEMP TABLE slice_units (unit_id VARCHAR NOT NULL, counter_id VARCHAR)")
        rows = [(u, self.slice.counter_id) for u in sorted(self.slice.unit_ids)]
        if rows:
            sql, params = _values(rows)
            cur.execute(f"INSERT INTO slice_units VALUES {sql}", params)
        name = cur.execute("SELECT current_database()").fetchone()[0]
        db = '"' + name.replace('"', '""') + '"'
        for table, view in _SLICE_VIEWS.items():
            cur.execute(f"CREATE TEMP VIEW {table} AS {view.format(db=db)}")
        return cur


def sliced(source: Source, scope: frozenset[str] | None, chosen: Slice) -> SlicedSource:
    """The source a viewer with `scope` gets for the units and counter they `chosen`."""
    return SlicedSource(source, chosen.within(scope))


# -- periods -----------------------------------------------------------------------------------------

def today() -> date:
    return datetime.now(TIMEZONE).date()


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


def period_choices(first: date, last: date) -> list[Period]:
    """Quarters, then months, then years from `last` back to `first`, newest first: the filter's list."""
    quarters, months, years = [], [], []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        months.append(parse_period(f"{year}-{month:02d}"))
        if month % 3 == 0 or (year, month) == (last.year, last.month):
            quarters.append(parse_period(f"{year}-Q{(month - 1) // 3 + 1}"))
        if month == 12 or (year, month) == (last.year, last.month):
            years.append(parse_period(str(year)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    if not quarters or quarters[-1].first > first:  # the oldest quarter started before its last month
        quarters.append(parse_period(f"{first.year}-Q{(first.month - 1) // 3 + 1}"))
    return list(dict.fromkeys([*quarters, *months, *years]))


# -- the headline over several units ---------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """The selection as one figure: SIPAS.md §3 "group of units" — the mean of the unit indices."""

    n: int
    units: int  # units with an index
    sipas: float | None
    moe: float | None
    previous_sipas: float | None
    dossiers: int | None
    response_rate: float | None

    @property
    def change(self) -> float | None:
        if self.sipas is None or self.previous_sipas is None:
            return None
        return self.sipas - self.previous_sipas


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(group_index(present)) if present else None


def overview(groups: Sequence[GroupResult], method: Method) -> Overview:
    """One unit's own figures, or the mean of several (their samples are independent, so the
    variance of the mean is Σ se² / U²)."""
    indexed = [g for g in groups if g.sipas is not None]
    errors = [g.se for g in indexed]
    se = math.sqrt(sum(e**2 for e in errors)) / len(errors) if errors and None not in errors else None
    n = sum(g.n for g in groups)
    dossiers = sum(g.dossiers for g in groups) if groups and all(g.dossiers is not None for g in groups) else None
    return Overview(
        n=n, units=len(indexed), sipas=_mean(g.sipas for g in indexed),
        moe=margin_of_error(None if se is None else se**2, method.confidence_z),
        previous_sipas=_mean(g.previous_sipas for g in indexed), dossiers=dossiers,
        response_rate=response_rate(n, dossiers),
    )


def weakest(groups: Sequence[GroupResult]) -> tuple[GroupResult, str] | None:
    """The unit (or counter) with the lowest index and its lowest element: where to look first.
    Units with an adequate sample come first, as a small sample's low index may be chance."""
    indexed = [g for g in groups if g.sipas is not None]
    if not indexed:
        return None
    unit = min(indexed, key=lambda g: (not g.adequate, g.sipas))
    elements = {e: v for e, v in unit.elements.items() if v is not None}
    return unit, min(elements, key=elements.__getitem__)


# -- tables for charts, from Results -----------------------------------------------------------------

def answer_distribution(results: Results) -> pd.DataFrame:
    """Per item (questionnaire order) and code: answers summed over the groups, each code's share of
    the item's ratings, its side (-1 dissatisfied, 0 neutral, 1 satisfied, by the rule set) and its
    label; N/A as code None with its share of all the item's answers, to be shown apart."""
    counts: dict[str, dict[int | None, int]] = {}
    for g in results.groups:
        for item in [*g.items.values(), *([g.overall] if g.overall else [])]:
            tally = counts.setdefault(item.item_id, {})
            for code, count in [*item.counts.items(), (None, item.na)]:
                tally[code] = tally.get(code, 0) + count
    rows = []
    for order, (item_id, item) in enumerate(results.instrument.answer_items.items()):
        tally = counts.get(item_id, {})
        codes = _codes(item, results.instrument.id, results.method)
        labels = dict(item.scale.options)
        rated = sum(n for code, n in tally.items() if code is not None)
        for code in (*codes.codes, None):
            count = tally.get(code, 0)
            base = rated if code is not None else rated + count
            side = 1 if code in codes.satisfied else -1 if code in codes.dissatisfied else 0
            label = labels[code]["vi"] if code is not None else (item.na_text or {"vi": "N/A"})["vi"]
            rows.append((order, item_id, item.text["vi"], code, label, side, count,
                         100.0 * count / base if base else None))
    return pd.DataFrame(rows, columns=["order", "item_id", "item", "code", "label", "side", "count", "share"])


def choice_shares(results: Results, section: str) -> pd.DataFrame:
    """Perceptions or expectations over the groups: per question and option, count and share of the
    question's base (its valid answers; its respondents when several options may be chosen),
    ranked within each question."""
    answered: dict[str, int] = {}
    picked: dict[tuple[str, str], int] = {}
    for g in results.groups:
        for question in g.section(section).values():
            answered[question.question_id] = answered.get(question.question_id, 0) + question.base
            for option, count in question.counts.items():
                picked[question.question_id, option] = picked.get((question.question_id, option), 0) + count
    rows = []
    for (question_id, option_id), count in picked.items():
        question = results.instrument.question(question_id)
        texts = {o.id: o.text["vi"] for o in question.options} if question else {}
        rows.append((question_id, question.text["vi"] if question else question_id, option_id,
                     texts.get(option_id, option_id), count, choice_share(count, answered[question_id])))
    frame = pd.DataFrame(rows, columns=["question_id", "question", "option_id", "option", "count", "share"])
    return frame.sort_values(["question_id", "share"], ascending=[True, False], ignore_index=True)


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


# -- SQL aggregates of this module ---------------------------------------------------------------------

def _scope_with_dissatisfied(cur: duckdb.DuckDBPyConnection, period: Period,
                             instrument_id: str) -> tuple[Scope, str, list[object]]:
    """The period's scope and, as a VALUES list, every (version, item, code) that is dissatisfied by
    results' rules, with versions told apart exactly when results' catalog tells them apart."""
    versions = [v for (v,) in cur.execute(
        "SELECT version FROM instruments WHERE instrument_id = ?", [instrument_id]).fetchall()]
    catalog = load_catalog(cur, instrument_id, versions, Method())
    codes = sorted((v, item, code) for (v, item), spec in catalog.codes.items() for code in spec.dissatisfied)
    codes_sql, params = _values(codes or [("", "", -1)])  # VALUES needs a row; this one matches nothing
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


def rule_tables(folder: Path = RULES_DIR) -> dict[str, RuleTable]:
    """The CCHC rule tables a leader may pick, by name (results/rules/*.yaml; an example says so)."""
    tables = (load_rules(path) for path in sorted(folder.glob("*.yaml")))
    return {table.name: table for table in tables}


# -- downloads of a slice ----------------------------------------------------------------------------

def workbook(results: Results, table: RuleTable | None = None) -> bytes:
    """results.export's XLSX of these (sliced) results, with CCHC points when a rule table is given."""
    out = io.BytesIO()
    write_xlsx(results, out, cchc_points(results, table) if table else None, table)
    return out.getvalue()


def report_pdf(source: Source, results: Results, table: RuleTable | None = None) -> bytes:
    """results.report's PDF of the period for the slice `source` sees (its blocks computed through it)."""
    blocks = compute(source, results.period, by="block", instrument_id=results.instrument.id, method=results.method,
                     include_flagged="flagged" in results.statuses, choices=False, compare=False)
    with tempfile.TemporaryDirectory() as folder:  # write_report writes to a path, not a stream
        path = Path(folder) / "report.pdf"
        write_report(results, blocks, path, cchc_points(results, table) if table else None, table)
        return path.read_bytes()
