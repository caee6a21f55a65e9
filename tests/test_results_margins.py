"""Margins of error: the SQL linearisation against SIPAS.md §3 written out literally, and against a bootstrap."""

from __future__ import annotations

import math
import random

import pytest
from factories import ELEMENTS, add, at, dvc_response, set_dossiers

from results import Method, compute
from survey_app.db.store import Store

UNIT = "so-tu-phap"
ITEMS = {e: [f"{e}{i}" for i in range(1, k + 1)] for e, k in ELEMENTS.items()}


def synthetic(seed: int, n: int) -> list[dict[str, int | None]]:
    """Answers of n respondents: a personal mood plus noise, PA mostly N/A, a quarter without KQ."""
    rng = random.Random(seed)
    people = []
    for _ in range(n):
        mood = rng.gauss(3.8, 0.7)
        answers: dict[str, int | None] = {
            item: min(5, max(1, round(mood + rng.gauss(0.2 if e == "TC" else 0, 0.8))))
            for e, items in ITEMS.items() for item in items}
        if rng.random() < 0.6:
            answers.update(dict.fromkeys(ITEMS["PA"]))
        else:  # some who filed feedback never heard back: item-level N/A makes pooled ≠ mean
            answers.update({i: None for i in ITEMS["PA"][1:] if rng.random() < 0.4})
        if rng.random() < 0.25:
            answers.update(dict.fromkeys(ITEMS["KQ"]))
        answers["HL"] = 4
        people.append(answers)
    return people


def store_people(store: Store, people: list[dict[str, int | None]]) -> None:
    add(store, [dvc_response(UNIT, dict(a), when=at(2026, 6, 1),
                    stage="chua_nhan" if a["KQ1"] is None else "da_nhan") for a in people])


def literal_linearisation(people: list[dict[str, int | None]], dossiers: int | None = None) -> tuple[float, float]:
    """SIPAS.md §3 word for word: w_i = 1/(E·|items of i's element|), z_r, Var = Σz²/(n(n−1))·(1 − n/N)."""
    n = len(people)
    answered = {i: [p[i] for p in people if p[i] is not None] for items in ITEMS.values() for i in items}
    p = {i: sum(v >= 4 for v in values) / len(values) for i, values in answered.items() if values}
    present = {e: [i for i in items if i in p] for e, items in ITEMS.items()}
    present = {e: items for e, items in present.items() if items}
    w = {i: 1 / (len(present) * len(items)) for items in present.values() for i in items}
    sipas = 100 * sum(w[i] * p[i] for i in w)
    z = [sum(w[i] * ((person[i] >= 4) - p[i]) * n / len(answered[i]) for i in w if person[i] is not None)
         for person in people]
    variance = sum(v * v for v in z) / (n * (n - 1)) * (1 - n / dossiers if dossiers else 1)
    return sipas, 100 * math.sqrt(variance)


def test_sql_linearisation_matches_the_formula_written_out(store: Store) -> None:
    people = synthetic(seed=3, n=120)
    store_people(store, people)
    unit = compute(store, "2026-Q2").group(UNIT)
    sipas, se = literal_linearisation(people)
    assert unit.sipas == pytest.approx(sipas, rel=1e-12)
    assert unit.se == pytest.approx(se, rel=1e-9)
    set_dossiers(store, UNIT, "2026-Q2", 500)
    assert compute(store, "2026-Q2").group(UNIT).se == pytest.approx(literal_linearisation(people, 500)[1], rel=1e-9)


@pytest.mark.parametrize("element_index", ["mean", "pooled"])
def test_linearisation_and_bootstrap_agree(store: Store, element_index: str) -> None:
    store_people(store, synthetic(seed=11, n=400))
    linear = compute(store, "2026-Q2", method=Method(name="lin", element_index=element_index)).group(UNIT)
    boot = compute(store, "2026-Q2", method=Method(name="boot", element_index=element_index, margin="bootstrap",
                                                   bootstrap_replicates=2000)).group(UNIT)
    assert linear.sipas == boot.sipas
    assert boot.se == pytest.approx(linear.se, rel=0.08)  # bootstrap noise ≈ 1/√(2·2000) ≈ 1.6 %


def test_bootstrap_applies_the_finite_population_correction(store: Store) -> None:
    store_people(store, synthetic(seed=5, n=200))
    method = Method(name="boot", margin="bootstrap", bootstrap_replicates=500)
    before = compute(store, "2026-Q2", method=method).group(UNIT).se
    set_dossiers(store, UNIT, "2026-Q2", 400)
    after = compute(store, "2026-Q2", method=method).group(UNIT).se
    assert after == pytest.approx(before * math.sqrt(1 - 200 / 400))  # same seed, same resamples


def test_a_single_respondent_has_no_margin(store: Store) -> None:
    store_people(store, synthetic(seed=1, n=1))
    unit = compute(store, "2026-Q2").group(UNIT)
    assert unit.sipas is not None and unit.moe is None
