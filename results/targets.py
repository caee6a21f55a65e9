"""Yearly targets beside each index: the gap, a projection to the year's end with its interval, and
the probability of reaching the target (SIPAS.md §4b, "Targets").

The model — the unit's level μ stays what it has been this year. So far the year holds n responses
with index s and standard error se (the linearisation of results/margins.py); f is the share of the
year they cover (days elapsed ÷ days of the year, 1 for a finished year). The year's index will be
s_year = f·s + (1 − f)·s_rest, where s_rest is the index of the responses still to come, about
n(1 − f)/f of them. With a flat prior on μ, μ | s ~ N(s, se²) and s_rest | μ ~ N(μ, se²·f/(1 − f)),
so the predictive distribution is

    s_year | s ~ N(s, (1 − f)² se² + (1 − f)² se² f/(1 − f)) = N(s, (1 − f)·se²)

The projection is s, its 95 % interval s ± z·se·√(1 − f), and P(target reached) =
Φ((s − target) / (se·√(1 − f))) — 1 or 0 once the year is over. A target already met has
P ≥ 0.5 by construction. Reference: the predictive distribution of a finite-population mean,
e.g. Ericson (1969), "Subjective Bayesian models in sampling finite populations", JRSS B 31(2).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import duckdb

from results.model import GroupResult, TargetOutlook
from survey_app.core.periods import Period


def year_targets(cur: duckdb.DuckDBPyConnection, year: int) -> dict[str, float]:
    """unit_id → the year's SIPAS target."""
    return dict(cur.execute("SELECT unit_id, sipas FROM targets WHERE year = ?", [year]).fetchall())


def element_targets(cur: duckdb.DuckDBPyConnection, year: int) -> dict[str, dict[str, float]]:
    """unit_id → element → the year's target for that element."""
    out: dict[str, dict[str, float]] = {}
    for unit_id, element, target in cur.execute(
            "SELECT unit_id, element_id, target FROM element_targets WHERE year = ?", [year]).fetchall():
        out.setdefault(unit_id, {})[element] = target
    return out


def year_elapsed(period: Period, today: date) -> float | None:
    """The share of the calendar year that a period starting on 1 January covers up to `today`;
    None for a period that does not start the year (a quarter's index says nothing of the year)."""
    first = date(period.first.year, 1, 1)
    if period.first != first or period.last.year != first.year:
        return None
    last = min(period.last, today)
    days = (date(first.year, 12, 31) - first).days + 1
    return min(1.0, max(0.0, ((last - first).days + 1) / days))


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def outlook(sipas: float, se: float | None, target: float, elapsed: float, year: int,
            z: float = 1.96) -> TargetOutlook:
    """Gap, projection with its interval, and P(target reached) for one unit (module docstring)."""
    spread = (se or 0.0) * math.sqrt(max(0.0, 1 - elapsed))
    # Once the year is over (or nothing varies) the index is the year's: reached or not.
    p = _normal_cdf((sipas - target) / spread) if spread > 0 else float(sipas >= target)
    return TargetOutlook(year=year, target=target, gap=sipas - target, projected=sipas,
                         projected_low=sipas - z * spread, projected_high=sipas + z * spread,
                         p_target=p, year_elapsed=elapsed)


def with_outlooks(cur: duckdb.DuckDBPyConnection, groups: list[GroupResult], period: Period, today: date,
                  z: float = 1.96) -> list[GroupResult]:
    """The unit groups with their year's target outlook, where a target is set. For a period that
    is not the year so far (a quarter, a month) only the target and the gap."""
    if period.first.year != period.last.year:
        return groups
    targets = year_targets(cur, period.first.year)
    if not targets:
        return groups
    elapsed = year_elapsed(period, today)
    year = period.first.year

    def one(g: GroupResult) -> GroupResult:
        if g.unit_id not in targets or g.sipas is None:
            return g
        target = targets[g.unit_id]
        if elapsed is None:
            return replace(g, outlook=TargetOutlook(year, target, g.sipas - target))
        return replace(g, outlook=outlook(g.sipas, g.se, target, elapsed, year, z))

    return [one(g) for g in groups]
