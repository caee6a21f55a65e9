"""Properties that hold for any data (hypothesis): shares, bounds, N/A, monotonicity, statuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from results import Method, compute
from results.aggregate import group_indices, item_results
from results.catalog import load_catalog
from results.formulas import criterion_index
from results.margins import influence_coefficients
from results.model import Results
from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.store import Store, open_store
from tests.results_fixtures import ELEMENTS, add, at, dvc, set_status

UNITS = ("so-tai-chinh", "so-noi-vu", "q-cau-giay")
PERIOD = "2026-03"
ITEM_IDS = [f"{e}{i}" for e, k in ELEMENTS.items() for i in range(1, k + 1)]
SMALL = Method(name="small", min_sample=2)


@pytest.fixture(scope="module")
def shared() -> Iterator[Store]:
    """One in-memory database for all examples; each example starts by emptying it."""
    with open_store(":memory:") as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        yield store


def reset(store: Store) -> None:
    store.write(lambda con: con.execute("DELETE FROM answers; DELETE FROM choices; DELETE FROM responses"))


rating = st.integers(1, 5)
respondent = st.fixed_dictionaries({
    "unit": st.sampled_from(UNITS),
    "values": st.lists(rating, min_size=len(ITEM_IDS), max_size=len(ITEM_IDS)),
    "pa": st.lists(st.none() | rating, min_size=3, max_size=3),
    "stage": st.sampled_from(["da_nhan", "chua_nhan"]),
    "harassment": st.none() | st.sampled_from(["khong", "co"]),
    "contacts": st.none() | st.sampled_from(["0", "1", "tren_1"]),
    "wishes": st.lists(st.sampled_from(["thai_do", "cntt", "giam_phi", "tru_so"]), max_size=3, unique=True),
    "status": st.sampled_from(["ok", "ok", "ok", "flagged", "excluded"]),
})
respondents = st.lists(respondent, min_size=1, max_size=25)


def response(r: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, int | None] = dict(zip(ITEM_IDS, r["values"], strict=True))
    answers.update({f"PA{i}": v for i, v in enumerate(r["pa"], start=1)})
    answers["HL"] = r["values"][0]
    choices = {"gay_phien_ha": r["harassment"], "so_lan_lien_he": r["contacts"], "mong_doi": r["wishes"]}
    return dvc(r["unit"], answers, when=at(2026, 3, 15), stage=r["stage"], choices=choices)


def load(store: Store, people: list[dict[str, Any]]) -> None:
    reset(store)
    ids = add(store, [response(r) for r in people])
    for status in ("flagged", "excluded"):
        set_status(store, [i for i, r in zip(ids, people, strict=True) if r["status"] == status], status)


def every_index(results: Results) -> list[float]:
    values: list[float | None] = []
    for g in results.groups:
        values += [g.sipas, *g.elements.values(), *(i.index for i in g.items.values())]
        values += [g.overall.index if g.overall else None]
        values += [s for c in g.questions.values() for s in c.shares.values()]
    return [v for v in values if v is not None]


@settings(max_examples=25, deadline=None)
@given(people=respondents)
def test_single_choice_shares_sum_to_100_and_every_index_is_within_0_100(shared: Store, people: list) -> None:
    load(shared, people)
    for by in ("unit", "block"):
        results = compute(shared, PERIOD, by=by, method=SMALL)
        assert all(0 <= v <= 100 for v in every_index(results))
        for group in results.groups:
            for question in group.perceptions.values():
                assert sum(s for s in question.shares.values() if s is not None) == pytest.approx(100.0)


@settings(max_examples=20, deadline=None)
@given(people=respondents)
def test_flagged_and_excluded_responses_never_count(shared: Store, people: list) -> None:
    load(shared, people)
    mixed = compute(shared, PERIOD, method=SMALL)
    shared.write(lambda con: con.execute(
        "DELETE FROM answers WHERE response_id IN (SELECT response_id FROM responses WHERE status <> 'ok');"
        "DELETE FROM choices WHERE response_id IN (SELECT response_id FROM responses WHERE status <> 'ok');"
        "DELETE FROM responses WHERE status <> 'ok'"))
    only_ok = compute(shared, PERIOD, method=SMALL)
    for a, b in zip(mixed.groups, only_ok.groups, strict=True):
        assert (a.n, a.sipas, a.elements, a.items, a.questions) == (b.n, b.sipas, b.elements, b.items, b.questions)
        # Σ z_r² is a parallel SQL sum: its order, hence the last bit, may differ between two runs.
        assert a.moe is None if b.moe is None else a.moe == pytest.approx(b.moe, rel=1e-12)


@settings(max_examples=20, deadline=None)
@given(people=respondents)
def test_one_more_satisfied_answer_never_lowers_an_item_index(shared: Store, people: list) -> None:
    load(shared, people)
    before = compute(shared, PERIOD, margins=False, choices=False)
    add(shared, [dvc(r, dict.fromkeys([*ITEM_IDS, "HL"], 5), when=at(2026, 3, 16)) for r in UNITS])
    after = compute(shared, PERIOD, margins=False, choices=False)
    for unit_before, unit_after in zip(before.groups, after.groups, strict=True):
        for item_id, item in unit_before.items.items():
            if item.index is not None:
                assert unit_after.items[item_id].index >= item.index - 1e-12


@settings(max_examples=200)
@given(answered=st.integers(0, 10_000), data=st.data())
def test_criterion_index_rises_with_a_satisfied_answer(answered: int, data: st.DataObject) -> None:
    satisfied = data.draw(st.integers(0, answered))
    after = criterion_index(satisfied + 1, answered + 1)
    assert 0 <= after <= 100
    if answered:
        assert after >= criterion_index(satisfied, answered)


count_rows = st.lists(st.tuples(st.sampled_from(ITEM_IDS), rating, st.integers(1, 50)), min_size=1, max_size=60)


@settings(max_examples=100, deadline=None)
@given(rows=count_rows, na=st.lists(st.tuples(st.sampled_from(ITEM_IDS), st.integers(1, 50)), min_size=1))
def test_adding_an_na_changes_nothing(shared: Store, rows: list, na: list) -> None:
    with shared.cursor() as cur:
        version = shared.instruments["sipas-dvc"].version
        catalog = load_catalog(cur, "sipas-dvc", [version], Method())
    (coding,) = {c for c, _ in catalog.codes}  # one version: its counts come back under one coding label
    plain = [("g", coding, item, value, count) for item, value, count in rows]
    with_na = plain + [("g", coding, item, None, count) for item, count in na]
    items, items_na = item_results(plain, catalog)["g"], item_results(with_na, catalog)["g"]
    assert items and set(items) == {item for item, _, _ in rows}
    assert {i: r.index for i, r in items.items()} == {i: items_na[i].index for i in items}
    assert group_indices(items, catalog, Method()) == group_indices(items_na, catalog, Method())
    n = sum(count for _, _, count in rows)
    assert influence_coefficients(items, catalog.elements, Method(), n) == influence_coefficients(
        items_na, catalog.elements, Method(), n)
