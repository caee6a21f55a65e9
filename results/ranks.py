"""Rankings that admit uncertainty: a 95 % interval for each unit's rank, its standing against the
block's mean, and tied bands of units that cannot be told apart (SIPAS.md §4b, "Honest rankings").

Rank interval — a parametric bootstrap. Each unit's SIPAS is, by the linearisation of
results/margins.py, approximately normal around its estimate with the standard error `se` (the same
variance a bootstrap over the unit's respondents estimates; tests/test_results_margins.py checks
the two agree). Units are sampled independently (their respondents are different people), so one
draw of every unit's index from N(SIPAS_u, se_u²), ranked within the block the way the published
ranking ranks (highest first), is one bootstrap replicate of the ranking; the 2.5th and 97.5th
percentiles of a unit's rank over the draws are its 95 % rank interval. References: Goldstein &
Spiegelhalter (1996), "League tables and their limitations", JRSS A 159(3); Hall & Miller (2009),
"Using the bootstrap to quantify the authority of an empirical ranking", Ann. Statist. 37(6B).

Standing against the block — d_u = SIPAS_u − m, m the mean of the ranked units of the block (the
published block index is that mean). With k units, Var(d_u) = (1 − 1/k)² se_u² + Σ_{v≠u} se_v² / k²;
`above` when d_u − z·√Var > 0, `below` when d_u + z·√Var < 0, else `same`.

Tied bands — units in rank order; a unit joins the current band while its rank interval overlaps
the interval of the band's first unit, else it opens the next band. A band of one unit is a place
the data supports; a band of several is a tie however the point ranks fall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from results.model import GroupResult

RANK_DRAWS = 4000  # enough for the 2.5 % tails of 52 units to settle to a rank, and ~0.1 s
RANK_SEED = 20260101  # fixed: the same data always gives the same published intervals
STANDINGS = ("above", "below", "same")


@dataclass(frozen=True)
class RankStanding:
    rank_low: int
    rank_high: int
    vs_block: str  # one of STANDINGS
    band: int  # 1 = the top band of the block


def _ranked(groups: Sequence[GroupResult]) -> dict[str, list[GroupResult]]:
    blocks: dict[str, list[GroupResult]] = {}
    for g in groups:
        if g.rank is not None and g.block and g.sipas is not None:
            blocks.setdefault(g.block, []).append(g)
    return {block: sorted(units, key=lambda g: (g.rank, g.key)) for block, units in blocks.items()}


def rank_intervals(units: Sequence[GroupResult], *, draws: int = RANK_DRAWS, seed: int = RANK_SEED,
                   confidence: float = 0.95) -> dict[str, tuple[int, int]]:
    """The rank interval of each unit among `units` (one block), from normal draws of every index."""
    sipas = np.array([g.sipas for g in units], dtype=float)
    se = np.array([g.se or 0.0 for g in units], dtype=float)
    sample = np.random.default_rng(seed).normal(sipas, se, size=(draws, len(units)))
    # Rank 1 = highest; ties are vanishingly rare in continuous draws.
    ranks = 1 + np.argsort(np.argsort(-sample, axis=1, kind="stable"), axis=1)
    tail = (1 - confidence) / 2
    low = np.floor(np.quantile(ranks, tail, axis=0, method="lower"))
    high = np.ceil(np.quantile(ranks, 1 - tail, axis=0, method="higher"))
    out = {}
    for g, lo, hi in zip(units, low, high, strict=True):
        assert g.rank is not None
        # The point rank is the published one (ties on two decimals share a rank): keep it inside.
        out[g.key] = (min(int(lo), g.rank), max(int(hi), g.rank))
    return out


def block_standing(units: Sequence[GroupResult], z: float = 1.96) -> dict[str, str]:
    """Each unit above, below or not different from the mean of its block's ranked units, at `z`."""
    k = len(units)
    mean = sum(g.sipas or 0.0 for g in units) / k
    variances = [(g.se or 0.0) ** 2 for g in units]
    total = sum(variances)
    out = {}
    for g, var in zip(units, variances, strict=True):
        d = (g.sipas or 0.0) - mean
        sd = math.sqrt((1 - 1 / k) ** 2 * var + (total - var) / k ** 2)
        out[g.key] = "above" if d - z * sd > 0 else "below" if d + z * sd < 0 else "same"
    return out


def tied_bands(units: Sequence[GroupResult], intervals: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Band numbers in rank order: a unit shares the band of the first unit whose interval it overlaps."""
    bands: dict[str, int] = {}
    band, head = 0, None
    for g in units:
        low, _ = intervals[g.key]
        if head is None or low > intervals[head][1]:
            band, head = band + 1, g.key
        bands[g.key] = band
    return bands


def standings(groups: Sequence[GroupResult], z: float = 1.96, *, draws: int = RANK_DRAWS,
              seed: int = RANK_SEED) -> dict[str, RankStanding]:
    """Rank interval, standing against the block and tied band of every ranked unit."""
    out: dict[str, RankStanding] = {}
    for units in _ranked(groups).values():
        intervals = rank_intervals(units, draws=draws, seed=seed)
        vs_block = block_standing(units, z)
        bands = tied_bands(units, intervals)
        for g in units:
            out[g.key] = RankStanding(*intervals[g.key], vs_block[g.key], bands[g.key])
    return out


def with_standings(groups: list[GroupResult], z: float = 1.96) -> list[GroupResult]:
    """The groups with rank_low, rank_high, vs_block and rank_band set where a unit is ranked."""
    found = standings(groups, z)
    return [replace(g, rank_low=s.rank_low, rank_high=s.rank_high, vs_block=s.vs_block, rank_band=s.band)
            if (s := found.get(g.key)) else g for g in groups]
