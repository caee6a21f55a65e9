"""Standard errors of the SIPAS index: linearisation (default) and a bootstrap over respondents.

Linearisation (SIPAS.md §3): the index is Σ_i w_i p_i, and respondent r's influence is
`z_r = Σ_{i answered by r} a_i (s_ri − c_i)`. With the plain element mean a_i = 100·w_i·n/n_i and
c_i = p_i; with the pooled element index the element is a ratio Σ satisfied / Σ answered, so every
item of element e has a_i = 100·W_e·n/N_e and c_i = S_e/100 (N_e = answers to the element's items).
The coefficients are computed here from the item counts, the per-respondent sum z_r is done in SQL,
and only Σ z_r² per group comes back.

The bootstrap resamples whole respondents. SQL reduces each respondent to two bit masks (items
answered, items satisfied) and counts respondents per mask pair, so Python receives patterns, not rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from results.catalog import Catalog
from results.formulas import (
    element_index,
    finite_population_correction,
    linearisation_variance,
    unit_index,
)
from results.method import Method
from results.model import ItemResult
from results.scope import Scope

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


def _code_rows(catalog: Catalog) -> list[tuple[str, str, int, int, int]]:
    """(version, item, code, satisfied 0/1, item bit) for every index item: the SQL's lookup table."""
    order = [i for _, ids in catalog.elements for i in ids]
    if len(order) > MAX_BITS:
        raise ValueError(f"at most {MAX_BITS} index items are supported, {catalog.instrument.id} has {len(order)}")
    return [(v, item, code, int(code in spec.satisfied), 1 << order.index(item))
            for (v, item), spec in catalog.codes.items() if item in order for code in spec.codes]


def values_list(rows: Sequence[Sequence[object]]) -> tuple[str, list[object]]:
    """A parameterised VALUES list (standard SQL) for a small table handed to a query."""
    width = len(rows[0])
    row_sql = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row_sql] * len(rows)), [v for row in rows for v in row]


# Σ_r z_r² per group: z_r sums a_i (s_ri − c_i) over the items respondent r answered (N/A rows never join).
_SUM_Z_SQUARED = """
WITH scope AS ({scope})
, code(version, item_id, value, s, b) AS (VALUES {codes})
, coef(g, item_id, a, c) AS (VALUES {coefs})
, z AS (
    SELECT s.g, a.response_id, sum(coef.a * (code.s - coef.c)) AS z
    FROM answers a
    JOIN scope s ON s.response_id = a.response_id
    JOIN code ON code.version = s.version AND code.item_id = a.item_id AND code.value = a.value
    JOIN coef ON coef.g = s.g AND coef.item_id = a.item_id
    GROUP BY s.g, a.response_id)
SELECT g, sum(z * z) FROM z GROUP BY g
"""


def linearisation_se(scope: Scope, catalog: Catalog, method: Method,
                     groups: Mapping[str, GroupCounts]) -> dict[str, float | None]:
    """Standard error of each group's SIPAS by linearisation (with 1 − n/N when N is known)."""
    coefs = [(scope.carried(g), item, a, c) for g, counts in groups.items() if counts.n
             for item, (a, c) in influence_coefficients(counts.items, catalog.elements, method, counts.n).items()]
    if not coefs:
        return dict.fromkeys(groups)
    code_sql, code_params = values_list(_code_rows(catalog))
    coef_sql, coef_params = values_list(coefs)
    rows = scope.query(_SUM_Z_SQUARED, code_params + coef_params, codes=code_sql, coefs=coef_sql)
    sums = {g: float(total) for g, total in rows}
    out: dict[str, float | None] = {}
    for g, counts in groups.items():
        variance = linearisation_variance(sums.get(g, 0.0), counts.n, counts.dossiers)
        out[g] = None if variance is None or g not in sums else math.sqrt(variance)
    return out


# Respondents per (group, items answered, items satisfied): the sufficient statistic of a bootstrap.
_PATTERNS = """
WITH scope AS ({scope})
, code(version, item_id, value, s, b) AS (VALUES {codes})
, per AS (
    SELECT s.g, a.response_id, sum(code.b) AS answered, sum(code.b * code.s) AS satisfied
    FROM answers a
    JOIN scope s ON s.response_id = a.response_id
    JOIN code ON code.version = s.version AND code.item_id = a.item_id AND code.value = a.value
    GROUP BY s.g, a.response_id)
SELECT g, answered, satisfied, count(*) FROM per GROUP BY g, answered, satisfied
"""


def bootstrap_se(scope: Scope, catalog: Catalog, method: Method,
                 groups: Mapping[str, GroupCounts]) -> dict[str, float | None]:
    """Standard error of each group's SIPAS from `method.bootstrap_replicates` resamples of respondents."""
    code_sql, code_params = values_list(_code_rows(catalog))
    patterns: dict[str, list[tuple[int, int, int]]] = {}
    for g, answered, satisfied, count in scope.query(_PATTERNS, code_params, codes=code_sql):
        patterns.setdefault(g, []).append((int(answered), int(satisfied), int(count)))
    for found in patterns.values():
        found.sort()  # SQL returns groups in any order; the same seed must give the same resamples
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
