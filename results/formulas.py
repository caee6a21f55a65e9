"""The SIPAS formulas of ../shared/SIPAS.md §3, one function each.

They take numpy arrays whose last axis runs over the parts being combined, so the same function
serves one unit (1-d) and a bootstrap's thousand replicates at once (2-d). "No value" is NaN inside
the arithmetic and None at the edges of the package.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def criterion_index(satisfied: ArrayLike, answered: ArrayLike) -> Array:
    """S_i = 100 × (n4 + n5) / (n1 + … + n5); NaN where nobody rated the item (N/A excluded)."""
    satisfied, answered = np.asarray(satisfied, float), np.asarray(answered, float)
    out = np.full(np.broadcast(satisfied, answered).shape, np.nan)
    np.divide(100.0 * satisfied, answered, out=out, where=answered > 0)
    return out


def element_index(satisfied: ArrayLike, answered: ArrayLike, *, pooled: bool = False) -> Array:
    """S_e over the element's items (last axis): mean of the S_i, or pooled 100·Σ(n4+n5)/Σn."""
    satisfied, answered = np.asarray(satisfied, float), np.asarray(answered, float)
    if pooled:
        return criterion_index(satisfied.sum(axis=-1), answered.sum(axis=-1))
    return _mean_ignoring_nan(criterion_index(satisfied, answered), np.ones(answered.shape[-1]))


def unit_index(element_indices: ArrayLike, weights: ArrayLike | None = None) -> Array:
    """Unit SIPAS: (weighted) mean of the element indices that have answers (last axis)."""
    values = np.asarray(element_indices, float)
    return _mean_ignoring_nan(values, np.ones(values.shape[-1]) if weights is None else np.asarray(weights, float))


def group_index(unit_indices: ArrayLike) -> Array:
    """A block or the province: the plain mean of its units' indices (pooled mode re-aggregates counts)."""
    values = np.asarray(unit_indices, float)
    return _mean_ignoring_nan(values, np.ones(values.shape[-1]))


def _mean_ignoring_nan(values: Array, weights: Array) -> Array:
    present = ~np.isnan(values)
    total = np.where(present, weights, 0.0).sum(axis=-1)
    weighted = np.where(present, values * weights, 0.0).sum(axis=-1)
    out = np.full(total.shape, np.nan)
    np.divide(weighted, total, out=out, where=total > 0)
    return out


def choice_share(count: int, answered: int) -> float | None:
    """Perceptions: share of one option among valid answers; expectations: among respondents."""
    return 100.0 * count / answered if answered else None


def required_sample(dossiers: int | None, error: float, minimum: int) -> int:
    """n = N / (1 + N·e²), rounded up (N = 10 000, e = 0.05 → 385); without N the configured minimum."""
    if dossiers is None:
        return minimum
    return math.ceil(dossiers / (1 + dossiers * error**2))


def finite_population_correction(n: int, dossiers: int | None) -> float:
    """1 − n/N when the dossier count is known (never below 0 if more responses than dossiers)."""
    return 1.0 if not dossiers else max(0.0, 1.0 - n / dossiers)


def linearisation_variance(sum_z_squared: float, n: int, dossiers: int | None) -> float | None:
    """Var(SIPAS) ≈ Σ_r z_r² / (n (n − 1)) × (1 − n/N); the z_r are summed in SQL (margins.py)."""
    if n < 2:
        return None
    return sum_z_squared / (n * (n - 1)) * finite_population_correction(n, dossiers)


def margin_of_error(variance: float | None, z: float) -> float | None:
    """The 95 % margin in index points: z · √Var."""
    return None if variance is None else z * math.sqrt(variance)


def response_rate(responses: int, dossiers: int | None) -> float | None:
    """Responses ÷ dossiers, in percent."""
    return 100.0 * responses / dossiers if dossiers else None


def qd766_satisfaction_ratio(dissatisfied: int, dossiers: int | None) -> float | None:
    """QĐ 766 TTHC-satisfaction ratio: (dossiers − dissatisfied ratings) / dossiers × 100."""
    return 100.0 * (dossiers - dissatisfied) / dossiers if dossiers else None


def as_float(value: ArrayLike) -> float | None:
    """A 0-d result as a Python float, NaN as None."""
    number = float(np.asarray(value))
    return None if math.isnan(number) else number
