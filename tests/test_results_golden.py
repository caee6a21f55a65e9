"""Indices of small fixtures computed by hand; the arithmetic is written next to each assertion.

The golden unit (factories.golden_unit), Sở Tài chính, Q1/2026, four respondents:
  R1 every item 5, PA N/A, HL 5                 (qr,    gay_phien_ha khong, mong_doi thai_do + cntt)
  R2 every item 4, PA1 2, PA2 4, PA3 N/A, HL 4  (qr,    khong, mong_doi thai_do)
  R3 every item 3 but CC1 5, PA N/A, HL 3       (kiosk, co)
  R4 not yet received (KQ not asked), every item 2 but TC1 4, PA1 5, PA2 5, PA3 1, HL 2  (qr)
Satisfied = 4 or 5.
"""

from __future__ import annotations

import json

import pytest
from factories import add, at, dvc_answers, dvc_response, golden_unit, quick_response, set_dossiers, set_status

from results import Method, compute
from results.formulas import required_sample
from survey_app.db.store import Store

UNIT = "so-tai-chinh"
TC = (75 + 50 + 50 + 50) / 4  # TC1 R1,R2,R4 satisfied → 3/4; TC2..TC4 R1,R2 → 2/4
TT = 50.0  # each TT item: R1, R2 of 4
CC = (75 + 4 * 50) / 5  # CC1: R1, R2, R3 → 3/4; CC2..CC5: 2/4
KQ = 100 * 2 / 3  # R4 did not answer KQ: R1, R2 of 3
PA = (50 + 100 + 0) / 3  # PA1: R2=2, R4=5 → 1/2; PA2: R2=4, R4=5 → 2/2; PA3: R4=1 → 0/1
PA_POOLED = 100 * (1 + 2 + 0) / (2 + 2 + 1)  # 60
SIPAS = (TC + TT + CC + KQ + PA) / 5  # 55.5833…


@pytest.fixture
def golden(store: Store) -> Store:
    golden_unit(store)
    return store


def test_item_counts_and_criterion_index(golden: Store) -> None:
    unit = compute(golden, "2026-Q1").group(UNIT)
    tc1 = unit.items["TC1"]
    assert tc1.counts == {1: 0, 2: 0, 3: 1, 4: 2, 5: 1}  # R3=3, R2=4, R4=4, R1=5
    assert (tc1.n, tc1.na, tc1.satisfied) == (4, 0, 3)
    assert tc1.index == pytest.approx(75.0)
    pa1 = unit.items["PA1"]
    assert (pa1.counts[2], pa1.counts[5], pa1.na, pa1.n) == (1, 1, 2, 2)
    kq1 = unit.items["KQ1"]
    assert (kq1.n, kq1.na) == (3, 1)  # skipped at stage chua_nhan, stored as N/A


def test_element_indices_and_unit_sipas_by_hand(golden: Store) -> None:
    unit = compute(golden, "2026-Q1").group(UNIT)
    assert unit.elements == pytest.approx({"TC": 56.25, "TT": 50.0, "CC": 55.0, "KQ": KQ, "PA": 50.0})
    assert unit.sipas == pytest.approx(SIPAS)
    assert unit.sipas == pytest.approx(55.583333, abs=1e-6)
    assert unit.n == 4


def test_overall_question_is_reported_alone_never_in_the_index(golden: Store) -> None:
    unit = compute(golden, "2026-Q1").group(UNIT)
    assert "HL" not in unit.items
    assert unit.overall is not None
    assert unit.overall.index == pytest.approx(50.0)  # HL 5, 4, 3, 2 → 2 of 4
    assert unit.overall.dissatisfied == 1  # only R4's 2 is below the middle of the scale


def test_pooled_element_index_is_configurable(golden: Store) -> None:
    unit = compute(golden, "2026-Q1", method=Method(name="pooled", element_index="pooled")).group(UNIT)
    assert unit.elements["PA"] == pytest.approx(PA_POOLED)
    assert unit.sipas == pytest.approx((TC + TT + CC + KQ + PA_POOLED) / 5)  # 57.5833…


def test_element_weights_are_configurable(golden: Store) -> None:
    method = Method(name="tc-double", element_weights={"TC": 2})
    unit = compute(golden, "2026-Q1", method=method).group(UNIT)
    assert unit.sipas == pytest.approx((2 * TC + TT + CC + KQ + PA) / 6)


def test_satisfied_codes_are_configurable(golden: Store) -> None:
    method = Method(name="only-5", satisfied={"sipas-dvc": [5]})
    unit = compute(golden, "2026-Q1", method=method).group(UNIT)
    assert unit.items["TC1"].index == pytest.approx(25.0)  # only R1 gave 5
    assert unit.items["PA2"].index == pytest.approx(50.0)  # R2=4, R4=5


def test_perceptions_share_valid_answers_expectations_share_respondents(golden: Store) -> None:
    unit = compute(golden, "2026-Q1").group(UNIT)
    harassment = unit.perceptions["gay_phien_ha"]
    assert harassment.base == 3  # R4 left it blank
    assert harassment.shares == pytest.approx({"khong": 100 * 2 / 3, "co": 100 * 1 / 3})
    wishes = unit.expectations["mong_doi"]
    assert wishes.base == 4  # every respondent of the unit
    assert wishes.counts["thai_do"] == 2
    assert wishes.shares["thai_do"] == pytest.approx(50.0)
    assert wishes.shares["cntt"] == pytest.approx(25.0)


def test_channels_are_counted(golden: Store) -> None:
    assert compute(golden, "2026-Q1").group(UNIT).channels == {"qr": 3, "kiosk": 1}


def test_dossiers_give_required_sample_response_rate_and_qd766_ratio(golden: Store) -> None:
    set_dossiers(golden, UNIT, "2026-Q1", 10)
    unit = compute(golden, "2026-Q1").group(UNIT)
    assert unit.dossiers == 10
    assert unit.required_n == 10  # ceil(10 / (1 + 10 × 0.05²)) = ceil(9.756)
    assert not unit.adequate and unit.rank is None
    assert unit.response_rate == pytest.approx(40.0)  # 4 / 10
    assert unit.qd766_ratio == pytest.approx(90.0)  # (10 − 1 dissatisfied HL) / 10


def test_required_sample_formula() -> None:
    assert required_sample(10_000, 0.05, 100) == 385  # SIPAS.md: N = 10 000 → 385
    assert required_sample(None, 0.05, 100) == 100


def test_dossiers_of_a_quarter_add_up_from_its_months(golden: Store) -> None:
    for month, count in (("2026-01", 3), ("2026-02", 4), ("2026-03", 5)):
        set_dossiers(golden, UNIT, month, count)
    assert compute(golden, "2026-Q1").group(UNIT).dossiers == 12
    set_dossiers(golden, UNIT, "2026-Q1", 20)  # a row for the period itself wins
    assert compute(golden, "2026-Q1").group(UNIT).dossiers == 20


def test_margin_of_error_by_hand(store: Store) -> None:
    # Each respondent gives one value to every item: 5, 4, 3, 2 (PA N/A). Every p_i = 1/2, n_i = n = 4,
    # Σ w_i = 1, so z_r = 100 × (s_r − 1/2) = ±50 and Σ z_r² = 4 × 2500 = 10 000.
    add(store, [dvc_response(UNIT, dvc_answers(v, pa=None), when=at(2026, 3, 1)) for v in (5, 4, 3, 2)])
    unit = compute(store, "2026-Q1").group(UNIT)
    assert unit.sipas == pytest.approx(50.0)
    assert unit.se == pytest.approx((10_000 / (4 * 3)) ** 0.5)  # √833.33 = 28.87
    assert unit.moe == pytest.approx(1.96 * (10_000 / 12) ** 0.5)  # 56.58
    set_dossiers(store, UNIT, "2026-Q1", 10)  # finite population: × (1 − 4/10)
    assert compute(store, "2026-Q1").group(UNIT).moe == pytest.approx(1.96 * (10_000 / 12 * 0.6) ** 0.5)


def test_block_is_the_mean_of_its_units_or_pooled(golden: Store) -> None:
    add(golden, [dvc_response("so-noi-vu", dvc_answers(4, pa=None), when=at(2026, 2, 11)) for _ in range(2)])
    blocks = compute(golden, "2026-Q1", by="block")
    assert blocks.group("so").sipas == pytest.approx((SIPAS + 100.0) / 2)  # Sở Nội vụ: 100 everywhere
    assert blocks.group("so").n == 6 and blocks.group("so").units == 22
    assert blocks.group("huyen").sipas is None
    # Pooled over the 6 respondents: TC1 5/6, TC2..4 4/6 → TC 70.83; TT 4/6; CC1 5/6, CC2..5 4/6 → 70;
    # KQ (2+2)/(3+2) = 80; PA only the golden unit's answers → 50.
    pooled = compute(golden, "2026-Q1", by="block", method=Method(name="pooled-group", group_index="pooled"))
    tc = (100 * 5 / 6 + 3 * 100 * 4 / 6) / 4
    cc = (100 * 5 / 6 + 4 * 100 * 4 / 6) / 5
    assert pooled.group("so").sipas == pytest.approx((tc + 100 * 4 / 6 + cc + 80 + 50) / 5)  # 67.5


def test_only_ok_responses_count_unless_flagged_are_included(golden: Store) -> None:
    flagged = add(golden, [dvc_response(UNIT, dvc_answers(1, pa=1), when=at(2026, 2, 12))])
    excluded = add(golden, [dvc_response(UNIT, dvc_answers(1, pa=1), when=at(2026, 2, 12))])
    set_status(golden, flagged, "flagged")
    set_status(golden, excluded, "excluded")
    assert compute(golden, "2026-Q1").group(UNIT).sipas == pytest.approx(SIPAS)
    with_flagged = compute(golden, "2026-Q1", include_flagged=True)
    assert with_flagged.group(UNIT).n == 5  # the excluded one never counts
    assert with_flagged.statuses == ("ok", "flagged")


def test_period_is_cut_in_vietnam_time(store: Store) -> None:
    # 23:30 on 31 March in Hà Nội is 16:30 UTC: still Q1. 00:30 on 1 April is Q2.
    add(store, [dvc_response(UNIT, dvc_answers(5, pa=None), when=at(2026, 3, 31, 23, 30)),
                dvc_response(UNIT, dvc_answers(1, pa=None), when=at(2026, 4, 1, 0, 30))])
    assert compute(store, "2026-Q1").group(UNIT).n == 1
    assert compute(store, "2026-Q2").group(UNIT).sipas == pytest.approx(0.0)


def test_ranking_within_block_excludes_inadequate_units_and_shows_change(store: Store) -> None:
    method = Method(name="small", min_sample=2)
    add(store, [dvc_response("so-noi-vu", dvc_answers(5, pa=None), when=at(2026, 5, 1)) for _ in range(2)]
        + [dvc_response("so-tu-phap", dvc_answers(4, pa=None, TC1=2), when=at(2026, 5, 1)) for _ in range(2)]
        + [dvc_response("so-gtvt", dvc_answers(5, pa=None), when=at(2026, 5, 1))]  # 1 < 2: not ranked
        + [dvc_response("q-cau-giay", dvc_answers(2, pa=None), when=at(2026, 5, 1)) for _ in range(2)]
        + [dvc_response("so-noi-vu", dvc_answers(2, pa=None), when=at(2026, 2, 1)) for _ in range(2)])  # Q1: 0
    results = compute(store, "2026-Q2", method=method)
    noi_vu, tu_phap, gtvt = (results.group(u) for u in ("so-noi-vu", "so-tu-phap", "so-gtvt"))
    assert (noi_vu.rank, tu_phap.rank, gtvt.rank) == (1, 2, None)
    assert tu_phap.sipas == pytest.approx((75 + 100 + 100 + 100) / 4)  # only TC is below 100: 3 of 4 items
    assert not gtvt.adequate and gtvt.sipas == pytest.approx(100.0)
    assert results.group("q-cau-giay").rank == 1  # ranked within its own block
    assert results.previous_period is not None and results.previous_period.label == "2026-Q1"
    assert noi_vu.previous_sipas == pytest.approx(0.0) and noi_vu.change == pytest.approx(100.0)
    assert results.group("so-tai-chinh").n == 0 and results.group("so-tai-chinh").rank is None


def test_every_result_names_rule_set_and_instrument_versions(golden: Store) -> None:
    results = compute(golden, "2026-Q1")
    version = golden.instruments["sipas-dvc"].version
    assert results.instrument_versions == (version,)
    assert results.method.name == "sipas-default"
    assert "sipas-default" in results.provenance and version in results.provenance


def test_each_version_is_counted_by_its_own_satisfied_codes(golden: Store) -> None:
    # An older version of sipas-dvc in which only 5 counted as satisfied.
    current = golden.instruments["sipas-dvc"]
    old = json.loads(json.dumps(current.definition))
    old["scales"]["sat5"]["satisfied"] = [5]

    golden.write(lambda con: con.execute(
        "INSERT INTO instruments VALUES ('sipas-dvc', 'old-v1', 'x', TIMESTAMPTZ '2020-01-01', ?)", [json.dumps(old)]))
    ids = add(golden, [dvc_response(UNIT, dvc_answers(4, pa=None), when=at(2026, 2, 13))])
    golden.write(lambda con: con.execute("UPDATE responses SET instrument_version = 'old-v1' WHERE response_id = ?",
                                         [ids[0]]))
    results = compute(golden, "2026-Q1")
    assert results.instrument_versions == ("old-v1", current.version)
    tt1 = results.group(UNIT).items["TT1"]
    assert (tt1.n, tt1.satisfied) == (5, 2)  # the old-version 4 is not satisfied under its rules


def test_grouping_by_counter_field_and_month(store: Store) -> None:
    add(store, [dvc_response(UNIT, dvc_answers(5, pa=None), when=at(2026, 1, 5), service_field="dat_dai"),
                dvc_response(UNIT, dvc_answers(1, pa=None), when=at(2026, 2, 5), service_field="ho_tich")])
    by_counter = compute(store, "2026-Q1", by="counter")
    assert [g.key for g in by_counter.groups] == [f"{UNIT}/quay-1"]
    assert by_counter.groups[0].sipas == pytest.approx(50.0)
    by_field = compute(store, "2026-Q1", by="field")
    assert {g.key: g.sipas for g in by_field.groups} == {"dat_dai": 100.0, "ho_tich": 0.0}
    assert by_field.group("dat_dai").name == "Đất đai"
    by_month = compute(store, "2026-Q1", by="month")
    assert {g.key: g.n for g in by_month.groups} == {"2026-01-01": 1, "2026-02-01": 1}


def test_nhanh3_counts_both_satisfied_faces(store: Store) -> None:
    add(store, [quick_response(UNIT, v, when=at(2026, 1, 9), channel="kiosk") for v in (1, 2, 3)])
    set_dossiers(store, UNIT, "2026-01", 30)
    unit = compute(store, "2026-01", instrument_id="nhanh-3").group(UNIT)
    assert unit.items["HL1"].counts == {1: 1, 2: 1, 3: 1}
    assert unit.sipas == pytest.approx(100 * 2 / 3)  # faces 2 and 3 are satisfied
    assert unit.qd766_ratio == pytest.approx(100 * (30 - 1) / 30)  # one "Không hài lòng"


def test_sipas_2024_harassment_shares_are_reproduced(store: Store) -> None:
    # SIPAS 2024: no trouble 90.06 %, some 8.98 %, a lot 0.96 % — as 4 503, 449 and 48 of 5 000 answers,
    # here on the three-option "contacts needed" question (sipas-dvc asks harassment as Không / Có).
    options = ["0"] * 4503 + ["1"] * 449 + ["tren_1"] * 48
    add(store, [dvc_response(UNIT, dvc_answers(4, pa=None), when=at(2026, 1, 20), choices={"so_lan_lien_he": o})
                for o in options])
    shares = compute(store, "2026-01", margins=False, compare=False).group(UNIT).perceptions["so_lan_lien_he"].shares
    assert {o: round(s, 2) for o, s in shares.items()} == {"0": 90.06, "1": 8.98, "tren_1": 0.96}
    assert round(sum(shares.values()), 2) == 100.00
