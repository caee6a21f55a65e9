"""From scores to decisions (results/priorities.py, ranks.py, targets.py): formulas on hand-computed
cases, a simulation where one element drives the overall rating, and properties."""

from __future__ import annotations

import json
import math
import random
from dataclasses import replace
from datetime import date

import numpy as np
import pytest
from factories import add, at, dvc_answers, dvc_response
from hypothesis import given, settings
from hypothesis import strategies as st

from results import compute, parse_period
from results.cli import main as results_main
from results.model import GroupResult
from results.priorities import importance, pairwise_correlations, priorities, relative_weights
from results.ranks import block_standing, rank_intervals, tied_bands
from results.targets import outlook, year_elapsed
from survey_app.store import Store

YEAR = parse_period("2026")


# -- relative weights, by hand ------------------------------------------------------------------------

def test_uncorrelated_predictors_split_r2_by_their_squared_correlations() -> None:
    corr = np.array([[[1, 0, 0.6], [0, 1, 0.3], [0.6, 0.3, 1]]])
    share, r2 = relative_weights(corr)
    assert r2[0] == pytest.approx(0.36 + 0.09)
    assert share[0] == pytest.approx([0.36 / 0.45, 0.09 / 0.45])


def test_two_alike_correlated_predictors_share_equally_and_r2_is_the_regression_r2() -> None:
    corr = np.array([[[1, 0.5, 0.6], [0.5, 1, 0.6], [0.6, 0.6, 1]]])
    share, r2 = relative_weights(corr)
    assert r2[0] == pytest.approx(2 * 0.36 / 1.5)  # r' R⁻¹ r
    assert share[0] == pytest.approx([0.5, 0.5])


def test_pairwise_correlations_use_the_rows_each_pair_has() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    x[:, 1] += x[:, 0]
    full = pairwise_correlations(x, np.ones((1, 200)))[0]
    assert full == pytest.approx(np.corrcoef(x, rowvar=False))
    x[:50, 2] = np.nan  # a skipped element removes those rows only from its own pairs
    holed = pairwise_correlations(x, np.ones((1, 200)))[0]
    assert holed[0, 1] == pytest.approx(full[0, 1])
    assert holed[0, 2] == pytest.approx(np.corrcoef(x[50:, 0], x[50:, 2])[0, 1])


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=2, max_value=5))
def test_relative_weights_lie_in_0_1_and_sum_to_1(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, k + 1))
    x[:, -1] += x[:, :k] @ rng.uniform(0, 1, k)
    share, r2 = relative_weights(pairwise_correlations(x, np.ones((1, 300))))
    assert np.all(share >= -1e-12) and np.all(share <= 1 + 1e-12)
    assert share.sum() == pytest.approx(1.0)
    assert 0 <= r2[0] <= 1 + 1e-9


def test_the_m_out_of_n_interval_of_a_large_unit_matches_the_full_bootstrap() -> None:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(6000, 4))
    x[:, 3] = x[:, 0] + 0.5 * x[:, 1] + rng.normal(size=6000)
    _, _, full = importance(x, rows=6000, draws=200)
    _, _, sub = importance(x, rows=1500, draws=200)
    for a, b in zip(full, sub, strict=True):
        assert a is not None and b is not None and a[0] == b[0]  # the same point estimate
        assert b[1] <= b[0] <= b[2]
        if a[0] > 0.1:  # away from the boundary at 0, about the same width
            assert b[2] - b[1] == pytest.approx(a[2] - a[1], rel=0.4)


def test_small_samples_fall_back_to_spearman_with_an_interval() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, size=(60, 3)).astype(float)
    x[:, 2] = x[:, 0]  # the outcome follows the first element exactly
    method, r2, found = importance(x)
    assert method == "spearman" and r2 is None
    assert found[0] is not None and found[0][0] == pytest.approx(1.0)
    assert found[1] is not None and found[1][1] <= found[1][0] <= found[1][2]


# -- the simulation: HL follows one element ------------------------------------------------------------

def _simulated(store: Store, unit_id: str, n: int, seed: int, month: int = 3) -> None:
    """CC drives HL; PA is rated low by everyone but has no effect on HL; the rest is noise."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        cc = rng.randint(1, 5)
        hl = max(1, min(5, cc + rng.choice((-1, 0, 0, 0, 1))))
        given = dvc_answers(rng.randint(3, 5), pa=rng.choice((1, 2, 2, 3)), hl=hl,
                        **{f"CC{i}": max(1, min(5, cc + rng.choice((-1, 0, 1)))) for i in range(1, 6)},
                        **{f"TC{i}": rng.randint(3, 5) for i in range(1, 5)})
        rows.append(dvc_response(unit_id, given, when=at(2026, month, 1 + len(rows) % 28)))
    add(store, rows)


def test_the_element_that_drives_the_overall_rating_comes_first(store: Store) -> None:
    _simulated(store, "so-tai-chinh", 600, seed=7)
    (unit,) = priorities(store, YEAR, unit_id="so-tai-chinh")
    assert unit.method == "relative_weights" and unit.note is None
    first = next(e for e in unit.elements if e.priority == 1)
    assert first.element == "CC"
    pa = next(e for e in unit.elements if e.element == "PA")
    assert pa.performance is not None and pa.performance < 30  # the worst scores …
    assert pa.priority != 1 and pa.importance is not None and pa.importance < 0.1  # … and no effect on HL
    assert first.importance_low is not None and first.importance_low > 0.5
    assert sum(e.importance or 0 for e in unit.elements) == pytest.approx(1.0)
    assert first.quadrant in ("concentrate", "keep_up")
    assert set(first.items) == {f"CC{i}" for i in range(1, 6)}


def test_a_unit_below_the_required_sample_gets_a_note_and_no_priorities(store: Store) -> None:
    _simulated(store, "so-tu-phap", 20, seed=1)
    (unit,) = priorities(store, YEAR, unit_id="so-tu-phap")
    assert unit.elements == () and unit.method is None
    assert "chưa đủ mẫu" in (unit.note or "") and "20" in (unit.note or "")


def test_priorities_command_prints_the_json_contract(store: Store, db_path, capsys) -> None:
    _simulated(store, "so-tai-chinh", 300, seed=2)
    store.close()
    assert results_main(["priorities", "--db", str(db_path), "--period", "2026", "--format", "json"]) == 0
    (unit,) = json.loads(capsys.readouterr().out)
    assert {"unit_id", "n", "method", "elements"} <= unit.keys() and unit["unit_id"] == "so-tai-chinh"
    for element in unit["elements"]:
        assert {"element", "performance", "importance", "importance_low", "importance_high",
                "points_at_stake", "priority"} <= element.keys()
    assert sorted(e["priority"] for e in unit["elements"]) == [1, 2, 3, 4, 5]
    assert results_main(["priorities", "--db", str(db_path), "--unit", "khong-co"]) == 2


# -- rank intervals, standing, bands -------------------------------------------------------------------

def _unit(key: str, sipas: float, se: float, rank: int, block: str = "so") -> GroupResult:
    g = GroupResult(key=key, name=key, block=block, unit_id=key, counter_id=None, n=400, sipas=sipas, se=se,
                    moe=1.96 * se, elements={}, items={}, overall=None, questions={}, channels={}, dossiers=None,
                    required_n=100, adequate=True, response_rate=None, qd766_ratio=None)
    return replace(g, rank=rank)


def test_far_apart_units_have_exact_ranks_and_close_ones_share_a_band() -> None:
    units = [_unit("a", 95, 0.5, 1), _unit("b", 80.2, 1.0, 2), _unit("c", 80.0, 1.0, 3), _unit("d", 60, 0.5, 4)]
    intervals = rank_intervals(units)
    assert intervals["a"] == (1, 1) and intervals["d"] == (4, 4)
    assert intervals["b"] == (2, 3) and intervals["c"] == (2, 3)
    assert tied_bands(units, intervals) == {"a": 1, "b": 2, "c": 2, "d": 3}


def test_block_standing_by_hand() -> None:
    # mean 80; for "a": d = 10, Var = (2/3)²·1 + (1 + 1)/9 = 0.6667, sd 0.8165 → above.
    units = [_unit("a", 90, 1, 1), _unit("b", 80, 1, 2), _unit("c", 70, 1, 3)]
    assert block_standing(units) == {"a": "above", "b": "same", "c": "below"}
    noisy = [_unit("a", 82, 5, 1), _unit("b", 80, 5, 2), _unit("c", 78, 5, 3)]
    assert set(block_standing(noisy).values()) == {"same"}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(50, 100), st.floats(0.1, 6)), min_size=2, max_size=12))
def test_every_rank_interval_holds_the_point_rank(values: list[tuple[float, float]]) -> None:
    order = sorted(values, key=lambda v: -round(v[0], 2))
    units = [_unit(f"u{i}", s, se, 1 + sum(1 for o, _ in order if round(o, 2) > round(s, 2)))
             for i, (s, se) in enumerate(order)]
    for g in units:
        low, high = rank_intervals(units, draws=400)[g.key]
        assert low <= g.rank <= high


def test_compute_json_gains_rank_interval_and_standing(store: Store, db_path, capsys) -> None:
    for unit_id, seed in (("so-tai-chinh", 1), ("so-tu-phap", 2), ("so-y-te", 3)):
        _simulated(store, unit_id, 150, seed)
    store.close()
    assert results_main(["compute", "--db", str(db_path), "--period", "2026", "--format", "json"]) == 0
    ranked = [g for g in json.loads(capsys.readouterr().out) if g["rank"] is not None]
    assert len(ranked) == 3
    for g in ranked:
        assert g["rank_low"] <= g["rank"] <= g["rank_high"] and g["vs_block"] in ("above", "below", "same")
        assert "target" not in g  # no target set


# -- targets -------------------------------------------------------------------------------------------

def test_outlook_by_hand() -> None:
    found = outlook(90.0, 2.0, 92.0, elapsed=0.75, year=2026)
    spread = 2.0 * math.sqrt(0.25)
    assert found.gap == pytest.approx(-2.0) and found.projected == 90.0
    assert found.projected_low == pytest.approx(90 - 1.96 * spread)
    assert found.p_target == pytest.approx(0.5 * (1 + math.erf(-2 / math.sqrt(2))))  # Φ(−2) ≈ 0.0228
    assert outlook(90.0, 2.0, 92.0, elapsed=1.0, year=2025).p_target == 0.0  # the year is over


@given(st.floats(0, 100), st.floats(0.01, 10), st.floats(0, 100), st.floats(0, 1))
def test_a_target_already_met_is_reached_with_probability_at_least_half(sipas: float, se: float, target: float,
                                                                           elapsed: float) -> None:
    found = outlook(sipas, se, target, elapsed, 2026)
    assert found.p_target is not None and 0 <= found.p_target <= 1
    if sipas >= target:
        assert found.p_target >= 0.5


def test_year_elapsed_only_for_the_year_so_far() -> None:
    assert year_elapsed(YEAR, date(2026, 7, 2)) == pytest.approx(183 / 365)
    assert year_elapsed(YEAR, date(2027, 3, 1)) == 1.0
    assert year_elapsed(parse_period("2026-Q3"), date(2026, 8, 1)) is None


def test_compute_reports_the_target_of_the_period_year(store: Store) -> None:
    _simulated(store, "so-tai-chinh", 200, seed=5)
    store.write(lambda con: con.execute(
        "INSERT INTO targets (unit_id, year, sipas, updated_at) VALUES ('so-tai-chinh', 2026, 99.5, now())"))
    unit = compute(store, YEAR, today=date(2026, 6, 30)).group("so-tai-chinh")
    assert unit.outlook is not None and unit.outlook.target == 99.5
    assert unit.outlook.gap == pytest.approx(unit.sipas - 99.5)
    assert unit.outlook.p_target is not None and unit.outlook.p_target < 0.5
    first = compute(store, parse_period("2026-Q1"), today=date(2026, 6, 30)).group("so-tai-chinh")
    assert first.outlook is not None and first.outlook.year_elapsed == pytest.approx(90 / 365)  # the year to 31/3
    _simulated(store, "so-tai-chinh", 50, seed=6, month=5)
    later = compute(store, parse_period("2026-Q2"), today=date(2026, 6, 30)).group("so-tai-chinh")
    assert later.outlook is not None and later.outlook.gap == pytest.approx(later.sipas - 99.5)
    assert later.outlook.p_target is None  # a quarter later in the year says too little: the gap only
