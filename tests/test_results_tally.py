"""The one scan of the answers (results/tally.py): packing codes into integers loses nothing."""

from __future__ import annotations

import pytest
from factories import add, at, dvc_answers, dvc_response, golden_unit

from results import Method, compute, tally
from results.model import Results
from results.tally import Packing
from survey_app.db.store import Store


def _figures(results: Results) -> list[tuple[object, ...]]:
    """Everything counted, exactly; the standard error to rounding (DuckDB returns respondents in any
    order, and a sum of squares in another order may differ in its last bit)."""
    return [(g.key, g.n, g.sipas, None if g.se is None else pytest.approx(g.se, rel=1e-12), g.items, g.overall,
             g.previous_sipas, g.rank) for g in results.groups]


@pytest.fixture
def two_quarters(store: Store) -> Store:
    golden_unit(store)  # 2026-Q1
    golden_unit(store, "so-noi-vu", when=at(2026, 3, 31, 23, 59))
    add(store, [dvc_response("so-tai-chinh", dvc_answers(4, pa=None, TC2=5), when=at(2025, 12, 31, 23, 59)),  # Q4
                dvc_response("so-noi-vu", dvc_answers(1, pa=None, hl=5), when=at(2025, 10, 1, 0, 0),
                             stage="chua_nhan")])
    return store


@pytest.mark.parametrize("margin", ["linearisation", "bootstrap"])
def test_results_do_not_depend_on_how_many_items_share_an_integer(two_quarters: Store, margin: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    method = Method(name="m", margin=margin, min_sample=2, bootstrap_replicates=50)
    one_column = compute(two_quarters, "2026-Q1", method=method)
    monkeypatch.setattr(tally, "BITS", 7)  # two items per integer: ten packed columns for sipas-dvc
    assert _figures(compute(two_quarters, "2026-Q1", method=method)) == _figures(one_column)
    assert one_column.group("so-tai-chinh").previous_sipas is not None  # the period before, from the same scan


def test_both_periods_come_from_one_scan_as_if_counted_apart(two_quarters: Store) -> None:
    together = compute(two_quarters, "2026-Q1", method=Method(name="m", min_sample=2))
    before = compute(two_quarters, "2025-Q4", method=Method(name="m", min_sample=2), compare=False)
    for g in together.groups:
        earlier = before.group(g.key)
        assert (g.previous_sipas, g.previous_rank) == (earlier.sipas, earlier.rank)
    noi_vu = before.group("so-noi-vu")
    assert noi_vu.items["TC1"].counts[1] == 1 and noi_vu.overall.counts[5] == 1
    assert (noi_vu.items["KQ1"].na, noi_vu.items["KQ1"].n) == (1, 0)  # not received yet: stored as N/A


@pytest.mark.parametrize(("low", "high"), [(1, 5), (1, 3), (0, 10)])
def test_every_code_and_na_have_their_own_slot(low: int, high: int) -> None:
    packing = Packing(("a", "b"), low, (high - low + 2).bit_length())
    slots = [packing.slot(code) for code in [*range(low, high + 1), None]]
    assert 0 not in slots and len(set(slots)) == len(slots) and max(slots) == packing.na
    assert [packing.value(s) for s in slots] == [*range(low, high + 1), None]
