"""Standard errors of the SIPAS index: linearisation (default) and a bootstrap over respondents.

Linearisation (SIPAS.md §3): the index is Σ_i w_i p_i, and respondent r's influence is
`z_r = Σ_{i answered by r} a_i (s_ri − c_i)`. With the plain element mean a_i = 100·w_i·n/n_i and
c_i = p_i; with the pooled element index the element is a ratio Σ satisfied / Σ answered, so every
item of element e has a_i = 100·W_e·n/N_e and c_i = S_e/100 (N_e = answers to the element's items).
The coefficients are computed here from the item counts; z_r and Σ z_r² per group are summed over
the packed respondents of tally.py, which the item counts came from too.

The bootstrap resamples whole respondents. Each respondent is reduced to two bit masks (items
answered, items satisfied), and the resampling draws from the counts of each mask pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from results.catalog import Catalog
from results.formulas import (
    element_index,
    finite_population_correction,
    linearisation_variance,
    unit_index,
)
from results.method import Method
from results.model import ItemResult
from results.tally import Tally

MAX_BITS = 62  # item bit masks are sums of 2^k in a BIGINT


@dataclass(frozen=True)
class GroupCounts:
    """What a group's standard error needs: its respondents, its item counts, its dossier count."""

    n: int
    items: Mapping[str, ItemResult]
    dossiers: int | None


def influence_coefficients(items: Mapping[str, ItemResult], elements: Sequence[tuple[str, Sequence[str]]],
                           method: Method, n: int) -> dict[str, tuple[float, float]]:
    """(a_i, c_i) per answered index item, so that z_r = Σ a_i (s_ri − c_i), in index points."""
    present = [(e, [i for i in ids if i in items and items[i].n > 0]) for e, ids in elements]
    present = [(e, ids) for e, ids in present if ids and method.weight(e) > 0]
    total_weight = sum(method.weight(e) for e, _ in present)
    out: dict[str, tuple[float, float]] = {}
    for element, ids in present:
        share = method.weight(element) / total_weight
        if method.element_index == "pooled":
            answered = sum(items[i].n for i in ids)
            pooled_p = sum(items[i].satisfied for i in ids) / answered
            out.update({i: (100.0 * share * n / answered, pooled_p) for i in ids})
        else:
            out.update({i: (100.0 * share / len(ids) * n / items[i].n, items[i].satisfied / items[i].n)
                        for i in ids})
    return out


def _index_items(catalog: Catalog) -> list[str]:
    """The index items in element order: bit k of a bootstrap pattern is item k."""
    order = [i for _, ids in catalog.elements for i in ids]
    if len(order) > MAX_BITS:
        raise ValueError(f"at most {MAX_BITS} index items are supported, {catalog.instrument.id} has {len(order)}")
    return order


def values_list(rows: Sequence[Sequence[object]]) -> tuple[str, list[object]]:
    """A parameterised VALUES list (standard SQL) for a small table handed to a query."""
    width = len(rows[0])
    row_sql = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row_sql] * len(rows)), [v for row in rows for v in row]


def _codes_at(tally: Tally, catalog: Catalog, item_id: str) -> tuple[NDArray[np.int64], NDArray[np.float64],
                                                                      NDArray[np.float64]] | None:
    """Each respondent's cell for the item in a groups × versions × slots table, and the versions ×
    slots tables rated (a code of the version's scale; N/A excluded) and satisfied; None without the item."""
    slots = tally.column(item_id)
    if slots is None:
        return None
    rated = tally.lookup(catalog, item_id, lambda spec, code: 1.0)
    satisfied = tally.lookup(catalog, item_id, lambda spec, code: float(code in spec.satisfied))
    return tally.cells + slots, rated, satisfied


def linearisation_se(tally: Tally, catalog: Catalog, method: Method,
                     groups: Mapping[str, GroupCounts]) -> dict[str, float | None]:
    """Standard error of each group's SIPAS by linearisation (with 1 − n/N when N is known).

    `tally` holds the respondents of the period; z_r = Σ a_i (s_ri − c_i) over the items r rated,
    each item's term looked up in a groups × versions × slots table."""
    coefs = {g: influence_coefficients(counts.items, catalog.elements, method, counts.n)
             for g, counts in groups.items() if counts.n}
    if not any(coefs.values()):
        return dict.fromkeys(groups)
    size = len(tally.keys)
    z, seen = np.zeros(len(tally.group)), np.zeros(len(tally.group), dtype=bool)
    for item_id in _index_items(catalog):
        found = _codes_at(tally, catalog, item_id)
        if found is None:
            continue
        at, rated, satisfied = found
        a, c = np.zeros((size, 1, 1)), np.zeros((size, 1, 1))
        for g, key in enumerate(tally.keys):
            a[g], c[g] = coefs.get(key, {}).get(item_id, (0.0, 0.0))
        z += (a * rated * (satisfied - c)).ravel()[at]
        seen |= ((a != 0) * rated).ravel()[at] > 0
    sums = np.bincount(tally.group, weights=z * z, minlength=size)
    present = np.bincount(tally.group, weights=seen, minlength=size) > 0
    totals = {key: float(sums[g]) for g, key in enumerate(tally.keys) if present[g]}
    out: dict[str, float | None] = {}
    for g, counts in groups.items():
        variance = linearisation_variance(totals.get(g, 0.0), counts.n, counts.dossiers)
        out[g] = None if variance is None or g not in totals else math.sqrt(variance)
    return out


def _patterns(tally: Tally, catalog: Catalog) -> dict[str, list[tuple[int, int, int]]]:
    """Respondents per (group, items answered, items satisfied): the sufficient statistic of a bootstrap."""
    answered = np.zeros(len(tally.group), dtype=np.int64)
    satisfied = np.zeros(len(tally.group), dtype=np.int64)
    for bit, item_id in enumerate(_index_items(catalog)):
        found = _codes_at(tally, catalog, item_id)
        if found is not None:
            at, rated, happy = found  # the tables do not depend on the group: repeat them for each
            groups = len(tally.keys)
            answered |= np.tile(rated, (groups, 1)).astype(np.int64).ravel()[at] << bit
            satisfied |= np.tile(rated * happy, (groups, 1)).astype(np.int64).ravel()[at] << bit
    rated = answered > 0  # respondents who rated no index item are the bootstrap's "silent" ones
    found, counts = np.unique(np.column_stack([tally.group[rated], answered[rated], satisfied[rated]]),
                              axis=0, return_counts=True)
    patterns: dict[str, list[tuple[int, int, int]]] = {}
    for (g, a, s), count in zip(found.tolist(), counts.tolist(), strict=True):
        patterns.setdefault(tally.keys[g], []).append((a, s, count))
    return patterns  # sorted by np.unique: the same seed gives the same resamples


def bootstrap_se(tally: Tally, catalog: Catalog, method: Method,
                 groups: Mapping[str, GroupCounts]) -> dict[str, float | None]:
    """Standard error of each group's SIPAS from `method.bootstrap_replicates` resamples of respondents."""
    patterns = _patterns(tally, catalog)
    rng = np.random.default_rng(method.bootstrap_seed)
    ordered = sorted(groups.items())  # one generator walks the groups: a fixed order keeps them reproducible
    return {g: _bootstrap_one(patterns.get(g, []), counts, catalog, method, rng) for g, counts in ordered}


def _bootstrap_one(patterns: list[tuple[int, int, int]], counts: GroupCounts, catalog: Catalog,
                   method: Method, rng: np.random.Generator) -> float | None:
    n = counts.n
    if n < 2 or not patterns:
        return None
    silent = n - sum(c for _, _, c in patterns)  # respondents who answered every index item N/A
    masks = np.array([(a, s) for a, s, _ in patterns] + [(0, 0)], dtype=np.int64)
    weights = np.array([c for _, _, c in patterns] + [silent], dtype=float) / n
    bits = np.int64(1) << np.arange(sum(len(ids) for _, ids in catalog.elements), dtype=np.int64)
    answered = (masks[:, :1] & bits) > 0  # patterns × items
    satisfied = (masks[:, 1:] & bits) > 0
    draws = rng.multinomial(n, weights, size=method.bootstrap_replicates).astype(float)  # replicates × patterns
    answered_counts, satisfied_counts = draws @ answered, draws @ satisfied
    pooled, columns, elements = method.element_index == "pooled", 0, []
    for _, ids in catalog.elements:
        part = slice(columns, columns + len(ids))
        elements.append(element_index(satisfied_counts[:, part], answered_counts[:, part], pooled=pooled))
        columns += len(ids)
    weights_e = [method.weight(e) for e, _ in catalog.elements]
    replicates = unit_index(np.column_stack(elements), weights_e)
    replicates = replicates[~np.isnan(replicates)]
    if len(replicates) < 2:
        return None
    return float(np.std(replicates, ddof=1)) * math.sqrt(finite_population_correction(n, counts.dossiers))
