"""What to fix first: importance × performance for each element of each unit (SIPAS.md §4b).

**Performance** of element e is its index S_e (results/aggregate.py).

**Derived importance** of e is the share of the variance of the overall question `HL` that e
explains when the elements are considered together, by *relative weights* (Johnson, J. W. (2000),
"A heuristic method for estimating the relative weight of predictor variables in multiple
regression", Multivariate Behavioral Research 35(1), 1–19). Each respondent's score on an element
is the mean of their ratings of its items (N/A left out). With R_xx the correlation matrix of the
element scores and r_xy their correlations with HL (pairwise complete: a respondent who skipped
KQ still counts for the others):

    R_xx = V diag(λ) Vᵀ,   Λ = V diag(√λ) Vᵀ     (correlations of the elements with their closest
                                                 orthogonal counterparts Z)
    β = Λ⁻¹ r_xy                                  (regression of HL on Z)
    ε_j = Σ_k Λ_jk² β_k²,   Σ_j ε_j = R²           importance_j = ε_j / R²  ∈ [0, 1], Σ = 1

Unlike raw regression weights this copes with correlated elements (it agrees closely with the
Shapley decomposition of R²). The 95 % interval of each importance comes from a bootstrap over
respondents (Poisson weights, `draws` replicates, fixed seed; m-out-of-n for large units).
With fewer than `RELATIVE_WEIGHTS_MIN_N` respondents the fallback is Spearman's ρ between element
score and HL (clipped to [0, 1]), with the Fisher-z interval of Fieller, Hartley & Pearson (1957),
se = √(1.06 / (n − 3)).

**Improvement potential** = importance × (100 − S_e); **priority** orders the elements by it
(1 = fix first; ties by the CCHC points at stake). **Points at stake** = the CCHC points the unit
would gain with the element at 100, under the rule table (results/cchc.py). **Quadrant**
(importance–performance analysis, Martilla, J. A. & James, J. C. (1977), Journal of Marketing
41(1), 77–79): cross-hairs at the mean importance and the mean performance of the unit's elements —
high importance and low performance is "concentrate here".

Units below the required sample get no priorities, only a note saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from results.aggregate import compute
from results.cchc import RuleTable, cchc_points
from results.method import Method
from results.model import GroupResult, Results
from results.scope import Scope, Source, open_cursor
from survey_app.core.config import DEFAULT_INSTRUMENT
from survey_app.core.i18n import both
from survey_app.core.periods import Period

RELATIVE_WEIGHTS_MIN_N = 150  # below this the eigen-decomposition of 5 correlations is noise
IMPORTANCE_DRAWS = 100
IMPORTANCE_SEED = 20260102
BOOTSTRAP_ROWS = 2000  # respondents resampled per unit for the interval (m-out-of-n above it)
QUADRANTS = ("concentrate", "keep_up", "low_priority", "possible_overkill")


@dataclass(frozen=True)
class ElementPriority:
    element: str
    name: str
    performance: float | None  # S_e
    importance: float | None
    importance_low: float | None
    importance_high: float | None
    potential: float | None  # importance × (100 − S_e)
    points_at_stake: float | None  # CCHC points gained with the element at 100
    priority: int | None  # 1 = fix first
    quadrant: str | None  # one of QUADRANTS
    items: dict[str, float | None]  # S_i of the items behind the element


@dataclass(frozen=True)
class UnitPriorities:
    unit_id: str
    name: str
    block: str | None
    n: int
    method: str | None  # "relative_weights", "spearman", or None (no priorities: see `note`)
    r_squared: float | None
    note: str | None
    elements: tuple[ElementPriority, ...]


# -- statistics on arrays -----------------------------------------------------------------------------

def _pairs(v: int) -> list[tuple[int, int]]:
    return [(j, k) for j in range(v) for k in range(j + 1, v)]


def pairwise_correlations(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Correlation matrices (one per row of `weights`) of the columns of `x` (NaN = not answered),
    each pair over the rows where both are answered. x: (n, v); weights: (b, n) → (b, v, v)."""
    v = x.shape[1]
    present = ~np.isnan(x)
    x0 = np.where(present, x, 0.0)
    m = present.astype(float)
    pairs = _pairs(v)
    j, k = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    features = np.concatenate([m[:, j] * m[:, k], x0[:, j] * m[:, k], x0[:, k] * m[:, j],
                               x0[:, j] ** 2 * m[:, k], x0[:, k] ** 2 * m[:, j], x0[:, j] * x0[:, k]], axis=1)
    sums = (weights @ features).reshape(weights.shape[0], 6, len(pairs))
    count, sj, sk, sjj, skk, sjk = (sums[:, i] for i in range(6))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sjk / count - sj * sk / count ** 2
        var_j = sjj / count - (sj / count) ** 2
        var_k = skk / count - (sk / count) ** 2
        r = cov / np.sqrt(var_j * var_k)
    out = np.repeat(np.eye(v)[None], weights.shape[0], axis=0)
    out[:, j, k] = out[:, k, j] = np.nan_to_num(np.clip(r, -1, 1))
    return out


def relative_weights(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Johnson's relative weights from correlation matrices whose last variable is the outcome.
    corr: (b, v, v) → (importance (b, v−1), summing to 1 per row; R² (b,))."""
    rxx, rxy = corr[:, :-1, :-1], corr[:, :-1, -1]
    values, vectors = np.linalg.eigh(rxx)
    values = np.clip(values, 1e-9, None)  # pairwise matrices can be slightly indefinite
    lam = vectors @ (np.sqrt(values)[..., None] * np.swapaxes(vectors, 1, 2))
    beta = np.linalg.solve(lam, rxy[..., None])[..., 0]
    raw = (lam ** 2) @ (beta ** 2)[..., None]
    raw = raw[..., 0]
    r2 = raw.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(r2[:, None] > 0, raw / r2[:, None], np.nan)
    return share, r2


def _ranks(column: np.ndarray) -> np.ndarray:
    """Average ranks of the answered values (NaN stays NaN)."""
    out = np.full(column.shape, np.nan)
    present = ~np.isnan(column)
    values = column[present]
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    out[present] = (sums / counts)[inverse]
    return out


def spearman_importance(x: np.ndarray, z: float = 1.96) -> list[tuple[float, float, float] | None]:
    """Spearman's ρ of each predictor column with the last column, clipped to [0, 1], and its
    Fisher-z interval; None where fewer than 4 respondents answered both."""
    out: list[tuple[float, float, float] | None] = []
    outcome = x[:, -1]
    for j in range(x.shape[1] - 1):
        both = ~np.isnan(x[:, j]) & ~np.isnan(outcome)
        n = int(both.sum())
        if n < 4:
            out.append(None)
            continue
        a, b = _ranks(x[both, j]), _ranks(outcome[both])
        rho = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0
        half = z * math.sqrt(1.06 / (n - 3))
        fisher = math.atanh(max(-0.999999, min(0.999999, rho)))
        low, high = math.tanh(fisher - half), math.tanh(fisher + half)
        out.append((max(0.0, rho), max(0.0, low), min(1.0, max(0.0, high))))
    return out


def _bootstrap_interval(data: np.ndarray, point: np.ndarray, n: int, draws: int, seed: int,
                        rows: int) -> tuple[np.ndarray, np.ndarray]:
    """95 % interval of the relative weights: a bootstrap over respondents (Poisson weights). Above
    `rows` respondents it resamples a random subset of `rows` and scales the replicates' spread by
    √(rows / n) — the m-out-of-n bootstrap (Bickel & Sakov (2008), Statistica Sinica 18(3)), which
    holds for smooth statistics like these and keeps 52 units × 1 M respondents within seconds."""
    rng = np.random.default_rng(seed)
    sub = data if len(data) <= rows else data[rng.choice(len(data), rows, replace=False)]
    weights = rng.poisson(1.0, (draws, len(sub))).astype(np.float32)
    boot, _ = relative_weights(pairwise_correlations(sub, weights))
    centre, _ = relative_weights(pairwise_correlations(sub, np.ones((1, len(sub)), dtype=np.float32)))
    scale = math.sqrt(len(sub) / n)
    low, high = np.nanpercentile(boot - centre, [2.5, 97.5], axis=0)
    return np.clip(point + scale * low, 0, 1), np.clip(point + scale * high, 0, 1)


def importance(x: np.ndarray, *, corr: np.ndarray | None = None, n: int | None = None,
               draws: int = IMPORTANCE_DRAWS, seed: int = IMPORTANCE_SEED, z: float = 1.96,
               rows: int = BOOTSTRAP_ROWS) -> tuple[str, float | None, list[tuple[float, float, float] | None]]:
    """(method, R², [(importance, low, high) per predictor column]) for one unit.

    x: (m, v) — respondents' element scores, then HL last: all of them, or a random sample of a
    large unit whose full pairwise correlation matrix `corr` and size `n` are given (from SQL)."""
    n = n or x.shape[0]
    if n < RELATIVE_WEIGHTS_MIN_N:
        return "spearman", None, spearman_importance(x, z)
    if corr is None:
        corr = pairwise_correlations(x, np.ones((1, x.shape[0])))[0]
    used = np.flatnonzero(~np.isnan(x[:, :-1]).all(axis=0))
    keep = [*used, x.shape[1] - 1]
    point, r2 = relative_weights(corr[np.ix_(keep, keep)][None])
    low, high = _bootstrap_interval(x[:, keep], point[0], n, draws, seed, rows)
    found: list[tuple[float, float, float] | None] = [None] * (x.shape[1] - 1)
    for slot, column in enumerate(used):
        found[column] = (float(point[0, slot]), float(low[slot]), float(high[slot]))
    return "relative_weights", float(r2[0]), found


# -- per unit -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitScores:
    """One unit's respondents for the importance: how many, the pairwise correlations of their
    element scores and HL (HL last), and a random sample of their rows for the bootstrap."""

    n: int
    corr: np.ndarray  # (E + 1, E + 1)
    sample: np.ndarray  # (≤ BOOTSTRAP_ROWS, E + 1), NaN = not answered


_RESPONDENTS = """
CREATE TEMP TABLE sipas_respondent_scores AS
WITH scope AS ({scope}),
element_of(item_id, e) AS (VALUES {elements})
SELECT s.g AS unit_id, a.response_id, {columns}, max(a.value) FILTER (WHERE a.item_id = ?) AS v{outcome}
FROM answers a JOIN scope s ON s.response_id = a.response_id
LEFT JOIN element_of el ON el.item_id = a.item_id
WHERE a.value IS NOT NULL
GROUP BY s.g, a.response_id
"""


def respondent_scores(scope: Scope, results: Results, rows: int = BOOTSTRAP_ROWS) -> dict[str, UnitScores]:
    """unit_id → its respondents' scores: each respondent's mean rating per element (N/A left out),
    then their overall rating HL. The correlations are computed by DuckDB over every respondent
    (its corr() skips rows where either value is missing: pairwise complete); only a sample of
    `rows` per unit crosses into Python, for the bootstrap."""
    assert results.instrument.overall is not None
    k = len(results.elements)
    # Item ids come from the stored questionnaire (checked by its schema), never from a user.
    mapping = ", ".join(f"('{item}', {i})" for i, (_, items) in enumerate(results.elements) for item in items)
    columns = ", ".join(f"avg(a.value) FILTER (WHERE el.e = {i}) AS v{i}" for i in range(k))
    scope.query(_RESPONDENTS, [results.instrument.overall.id], elements=mapping, columns=columns, outcome=str(k))
    cur = scope.cur
    try:
        pairs = [(i, j) for i in range(k + 1) for j in range(i + 1, k + 1)]
        corrs = cur.execute(
            f"SELECT unit_id, count(*), {', '.join(f'corr(v{i}, v{j})' for i, j in pairs)}"
            " FROM sipas_respondent_scores GROUP BY unit_id").fetchall()
        names = ["unit_id", *(f"v{i}" for i in range(k + 1))]
        data = cur.execute(
            f"SELECT {', '.join(names)} FROM sipas_respondent_scores"
            " QUALIFY row_number() OVER (PARTITION BY unit_id ORDER BY hash(response_id)) <= ?"
            " ORDER BY unit_id", [rows]).fetchnumpy()
    finally:
        cur.execute("DROP TABLE IF EXISTS sipas_respondent_scores")
    samples = _by_unit(data["unit_id"], np.column_stack(
        [np.ma.filled(np.ma.asarray(data[c], dtype=float), np.nan) for c in names[1:]]))
    out = {}
    for unit_id, n, *values in corrs:
        corr = np.eye(k + 1)
        for (i, j), r in zip(pairs, values, strict=True):
            corr[i, j] = corr[j, i] = 0.0 if r is None or math.isnan(r) else r
        out[unit_id] = UnitScores(n, corr, samples[unit_id])
    return out


def _by_unit(units: np.ndarray, matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Rows sorted by unit → the block of rows of each unit."""
    if len(units) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    ends = np.r_[starts[1:], len(units)]
    return {str(units[a]): matrix[a:b] for a, b in zip(starts, ends, strict=True)}


def _quadrants(performance: dict[str, float], weight: dict[str, float]) -> dict[str, str]:
    if not performance or not weight:
        return {}
    mean_perf = sum(performance.values()) / len(performance)
    mean_imp = sum(weight.values()) / len(weight)
    out = {}
    for e in performance.keys() & weight.keys():
        high, good = weight[e] >= mean_imp, performance[e] >= mean_perf
        out[e] = ("keep_up" if good else "concentrate") if high else ("possible_overkill" if good else "low_priority")
    return out


def _unit_priorities(group: GroupResult, results: Results, scores: UnitScores | None,
                     stake: dict[str, float], z: float) -> UnitPriorities:
    names = {e.id: e.text["vi"] for e in results.instrument.elements}

    def none(note: str) -> UnitPriorities:
        return UnitPriorities(group.key, group.name, group.block, group.n, None, None, note, ())

    if not group.adequate:
        return none(both("results.priorities.too_few", n=group.n, required=group.required_n))
    if scores is None or np.isnan(scores.sample[:, -1]).all():
        return none(both("results.priorities.no_overall"))
    method, r2, found = importance(scores.sample, corr=scores.corr, n=scores.n, z=z)
    element_ids = [e for e, _ in results.elements]
    weight = {e: f[0] for e, f in zip(element_ids, found, strict=True) if f is not None}
    performance = {e: v for e, v in group.elements.items() if v is not None}
    potential = {e: weight[e] * (100 - performance[e]) for e in weight.keys() & performance.keys()}
    order = sorted(potential, key=lambda e: (-potential[e], -stake.get(e, 0.0), element_ids.index(e)))
    quadrant = _quadrants({e: performance[e] for e in weight.keys() & performance.keys()}, weight)
    items = dict(results.elements)
    rows = tuple(ElementPriority(
        element=e, name=names.get(e, e), performance=group.elements.get(e),
        importance=f[0] if f else None, importance_low=f[1] if f else None, importance_high=f[2] if f else None,
        potential=potential.get(e), points_at_stake=stake.get(e), priority=order.index(e) + 1 if e in order else None,
        quadrant=quadrant.get(e), items={i: group.items[i].index if i in group.items else None for i in items[e]},
    ) for e, f in zip(element_ids, found, strict=True))
    return UnitPriorities(group.key, group.name, group.block, group.n, method, r2, None,
                          tuple(sorted(rows, key=lambda r: (r.priority is None, r.priority or 0))))


def priorities(source: Source, period: Period, *, unit_id: str | None = None,
               instrument_id: str = DEFAULT_INSTRUMENT, method: Method | None = None,
               rules: RuleTable | None = None, results: Results | None = None) -> list[UnitPriorities]:
    """Priorities of every unit (or one) with responses in `period`; pass `results` (by unit, same
    period and instrument) when the caller has computed them already."""
    method = method or Method()
    results = results or compute(source, period, by="unit", instrument_id=instrument_id, method=method,
                                 choices=False, compare=False)
    groups = [g for g in results.groups if g.n and (unit_id is None or g.key == unit_id)]
    stakes = {p.group.key: p.element_costs for p in cchc_points(results, rules)} if rules else {}
    if not groups or len(results.elements) < 2 or results.instrument.overall is None:
        return [_unit_priorities(g, results, None, stakes.get(g.key, {}), method.confidence_z) for g in groups]
    with open_cursor(source) as cur:
        scores = respondent_scores(Scope(cur, period, "unit", instrument_id), results)
    return [_unit_priorities(g, results, scores.get(g.key), stakes.get(g.key, {}), method.confidence_z)
            for g in groups]

