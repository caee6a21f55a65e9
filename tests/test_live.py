"""The dashboard's part of results on small hand-made data: the slice a leader sees (slicing), the
headline over several units (summary), answer and choice tables (frames), and the live queries
(hour × weekday, the feed, today's count, the trend), the period list and the downloads."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime, timedelta

import openpyxl
import pypdf
import pytest

from results import Method, compute, downloads, frames, live, parse_period, summary
from results.cchc import rule_tables
from results.model import GroupResult
from results.slicing import Slice, SlicedSource
from survey_app.core.config import TIMEZONE
from survey_app.core.periods import period_between, period_choices
from survey_app.db.store import Store
from tests.results_fixtures import add, answers, at, dvc, set_dossiers, set_status

Q1 = parse_period("2026-Q1")
CAU_GIAY, BA_DINH, TAI_CHINH = "q-cau-giay", "q-ba-dinh", "so-tai-chinh"


@pytest.fixture
def two_districts(store: Store) -> Store:
    """Cầu Giấy: two mostly satisfied answers at quay-1 (the first with CC1, CC2 neutral), one
    dissatisfied with a comment at quay-2.
    Ba Đình: one neutral answer. Sở Tài chính: one excluded and one flagged response."""
    store.write(lambda con: con.execute("INSERT INTO counters VALUES (?, 'quay-2', 'Quầy 2', TRUE)", [CAU_GIAY]))
    add(store, [
        dvc(CAU_GIAY, answers(5, pa=None, CC1=3, CC2=3), when=at(2026, 2, 2, 8, 30)),  # a Monday, 08:30
        dvc(CAU_GIAY, answers(4, pa=None), when=at(2026, 2, 3, 9, 15)),
        {**dvc(CAU_GIAY, answers(2, pa=None, CC1=1), when=at(2026, 2, 4, 14, 5), counter_id="quay-2"),
         "comment": "=Phải chờ lâu"},
        dvc(BA_DINH, answers(3, pa=None), when=at(2026, 2, 5, 10, 0)),
    ])
    excluded, flagged = add(store, [dvc(TAI_CHINH, answers(1, pa=None), when=at(2026, 2, 6)),
                                    dvc(TAI_CHINH, answers(1, pa=None), when=at(2026, 2, 6))])
    set_status(store, [excluded], "excluded")
    set_status(store, [flagged], "flagged")
    return store


def sliced(store: Store, units: set[str] | None = None, counter: str | None = None) -> SlicedSource:
    return SlicedSource(store, Slice(None if units is None else frozenset(units), counter))


# -- the slice ---------------------------------------------------------------------------------------

def test_a_filter_never_widens_a_leaders_scope() -> None:
    scope = frozenset({CAU_GIAY, "p-dich-vong"})
    assert Slice().within(scope) == Slice(scope)
    assert Slice(frozenset({CAU_GIAY, BA_DINH})).within(scope) == Slice(frozenset({CAU_GIAY}))
    assert Slice(frozenset({BA_DINH}), "quay-1").within(scope) == Slice(frozenset())
    assert Slice(frozenset({CAU_GIAY}), "quay-2").within(scope) == Slice(frozenset({CAU_GIAY}), "quay-2")
    assert Slice(frozenset({BA_DINH})).within(None) == Slice(frozenset({BA_DINH}))


def test_a_counter_needs_exactly_one_unit() -> None:
    with pytest.raises(ValueError):
        Slice(None, "quay-1")
    with pytest.raises(ValueError):
        Slice(frozenset({CAU_GIAY, BA_DINH}), "quay-1")


def test_compute_through_a_slice_sees_only_its_units(two_districts: Store) -> None:
    results = compute(sliced(two_districts, {CAU_GIAY}), Q1)
    assert [(g.key, g.n) for g in results.groups] == [(CAU_GIAY, 3)]
    everything = compute(sliced(two_districts), Q1)
    assert {g.key for g in everything.groups} >= {CAU_GIAY, BA_DINH, TAI_CHINH}


def test_an_empty_slice_sees_nothing(two_districts: Store) -> None:
    assert compute(sliced(two_districts, set()), Q1).groups == ()
    assert live.data_span(sliced(two_districts, set()), "sipas-dvc") is None


def test_a_counter_slice_counts_its_counter_and_hides_the_units_dossiers(two_districts: Store) -> None:
    set_dossiers(two_districts, CAU_GIAY, "2026-Q1", 100)
    unit = compute(sliced(two_districts, {CAU_GIAY}), Q1).groups[0]
    counter = compute(sliced(two_districts, {CAU_GIAY}, "quay-2"), Q1).groups[0]
    assert (unit.n, unit.dossiers, unit.response_rate) == (3, 100, 3.0)
    # quay-2's one response against the whole unit's 100 dossiers would be a false rate: none.
    assert (counter.n, counter.dossiers, counter.response_rate) == (1, None, None)


# -- the headline ------------------------------------------------------------------------------------

def test_overview_of_one_unit_is_that_unit(two_districts: Store) -> None:
    results = compute(sliced(two_districts, {CAU_GIAY}), Q1)
    unit, overview = results.groups[0], summary.overview(results.groups, results.method)
    assert (overview.n, overview.units, overview.sipas, overview.moe) == (unit.n, 1, unit.sipas, unit.moe)


def test_overview_of_several_units_is_the_mean_of_their_indices(two_districts: Store) -> None:
    results = compute(sliced(two_districts, {CAU_GIAY, BA_DINH}), Q1)
    cau_giay, ba_dinh = results.group(CAU_GIAY), results.group(BA_DINH)
    overview = summary.overview(results.groups, results.method)
    # Cầu Giấy: each item satisfied (4 or 5) in 2 of 3 answers but CC1 and CC2 (1 of 3), PA all N/A →
    # S_TC = S_TT = S_KQ = 66.67, S_CC = (33.33 × 2 + 66.67 × 3) / 5 = 53.33, SIPAS = (66.67 × 3 + 53.33) / 4
    # = 63.33. Ba Đình: one answer of 3s → 0. The mean of the two units: 31.67.
    assert cau_giay.sipas == pytest.approx(190 / 3)
    assert ba_dinh.sipas == 0.0
    assert overview.sipas == pytest.approx(95 / 3)
    assert overview.n == 4
    # Ba Đình's single response has no margin, so neither has the mean.
    assert overview.moe is None


def test_overview_margin_is_the_root_of_the_summed_variances_over_u() -> None:
    base = GroupResult(key="a", name="A", block="so", unit_id="a", counter_id=None, n=10, sipas=80.0, se=3.0,
                       moe=None, elements={}, items={}, overall=None, questions={}, channels={}, dossiers=None,
                       required_n=100, adequate=False, response_rate=None, qd766_ratio=None, previous_sipas=70.0)
    other = replace(base, key="b", sipas=60.0, se=4.0, previous_sipas=None)
    overview = summary.overview([base, other], Method())
    assert overview.sipas == 70.0
    assert overview.moe == pytest.approx(1.96 * (3.0**2 + 4.0**2) ** 0.5 / 2)  # 1.96 × 5 / 2 = 4.9
    assert overview.previous_sipas == 70.0 and overview.change == 0.0


def test_weakest_prefers_a_unit_with_enough_responses(two_districts: Store) -> None:
    results = compute(sliced(two_districts, {CAU_GIAY, BA_DINH}), Q1, method=Method(min_sample=3))
    unit, element = summary.weakest(results.groups)
    # Ba Đình's index is lower, but from one response; Cầu Giấy's three make a sample of the minimum 3.
    assert unit.key == CAU_GIAY and element == "CC"
    assert summary.weakest([]) is None


# -- tables for the charts ---------------------------------------------------------------------------

def test_answer_distribution_counts_shares_sides_and_na_apart(two_districts: Store) -> None:
    frame = frames.answer_distribution(compute(sliced(two_districts, {CAU_GIAY}), Q1))
    cc1 = frame[frame["item_id"] == "CC1"].set_index("code", drop=False)
    assert cc1.loc[3, "count"] == 1 and cc1.loc[4, "count"] == 1 and cc1.loc[1, "count"] == 1
    assert cc1.loc[1, "share"] == pytest.approx(100 / 3)
    assert list(cc1.set_index("code")["side"].loc[[1, 2, 3, 4, 5]]) == [-1, -1, 0, 1, 1]
    pa1 = frame[(frame["item_id"] == "PA1")]
    na = pa1[pa1["code"].isna()].iloc[0]
    assert (na["count"], na["share"]) == (3, 100.0)  # all three said "not applicable"
    assert pa1[pa1["code"].notna()]["share"].isna().all()  # no ratings: no shares
    assert frame["item_id"].iloc[0] == "TC1" and "HL" in set(frame["item_id"])


def test_choice_shares_add_up_over_units(store: Store) -> None:
    add(store, [dvc(CAU_GIAY, answers(4), when=at(2026, 2, 2), choices={"gay_phien_ha": "co", "mong_doi": ["cntt"]}),
                dvc(BA_DINH, answers(4), when=at(2026, 2, 2), choices={"gay_phien_ha": "khong"}),
                dvc(BA_DINH, answers(4), when=at(2026, 2, 2), choices={"gay_phien_ha": "khong"})])
    results = compute(sliced(store), Q1)
    perceptions = frames.choice_shares(results, "perception").set_index("option_id")
    assert perceptions.loc["khong", "share"] == pytest.approx(200 / 3)
    assert perceptions.loc["co", "share"] == pytest.approx(100 / 3)
    assert perceptions.loc["khong", "question"].startswith("Công chức có gây phiền hà")
    expectations = frames.choice_shares(results, "expectation")
    assert expectations.iloc[0]["option_id"] == "cntt"  # ranked: the chosen option first


# -- SQL aggregates ----------------------------------------------------------------------------------

def test_hour_weekday_counts_in_vietnam_time_and_shares_dissatisfied_ratings(two_districts: Store) -> None:
    frame = live.hour_weekday(sliced(two_districts, {CAU_GIAY}), Q1, "sipas-dvc")
    cells = {(r.weekday, r.hour): r for r in frame.itertuples()}
    assert set(cells) == {(1, 8), (2, 9), (3, 14)}  # Monday 08, Tuesday 09, Wednesday 14 (Hà Nội)
    assert cells[1, 8].responses == 1 and cells[1, 8].dissatisfied_pct == 0.0
    # Wednesday's response: 16 index items + HL rated (PA N/A), all 2 or 1 → every rating dissatisfied.
    assert cells[3, 14].dissatisfied_pct == 100.0


def test_hour_weekday_leaves_out_excluded_and_flagged(two_districts: Store) -> None:
    assert live.hour_weekday(sliced(two_districts, {TAI_CHINH}), Q1, "sipas-dvc").empty


def test_feed_is_newest_first_with_comment_unit_counter_and_low_items(two_districts: Store) -> None:
    entries = live.feed(sliced(two_districts), Q1, "sipas-dvc")
    # Only Cầu Giấy's quay-2 response has a comment or a dissatisfied rating (Ba Đình's 3s are neutral,
    # Sở Tài chính's are excluded or flagged).
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.unit, entry.counter, entry.comment) == ("Quận Cầu Giấy", "Quầy 2", "=Phải chờ lâu")
    assert "CC1" in entry.dissatisfied_items and "HL" in entry.dissatisfied_items
    assert entry.submitted_at == at(2026, 2, 4, 14, 5)


def test_feed_orders_newest_first_and_respects_the_limit(store: Store) -> None:
    add(store, [{**dvc(CAU_GIAY, answers(4), when=at(2026, 2, d)), "comment": f"ngày {d}"} for d in (3, 9, 5)])
    entries = live.feed(sliced(store), Q1, "sipas-dvc", limit=2)
    assert [e.comment for e in entries] == ["ngày 9", "ngày 5"]


def test_feed_of_another_unit_is_not_seen(two_districts: Store) -> None:
    assert live.feed(sliced(two_districts, {BA_DINH}), Q1, "sipas-dvc") == []


def test_responses_today_counts_since_midnight_vietnam_time(store: Store) -> None:
    now = datetime.now(TIMEZONE)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    add(store, [dvc(CAU_GIAY, answers(4), when=now), dvc(CAU_GIAY, answers(4), when=midnight - timedelta(minutes=1))])
    assert live.responses_today(sliced(store), "sipas-dvc") == 1
    assert live.responses_today(sliced(store, {BA_DINH}), "sipas-dvc") == 0


def test_data_span_is_none_on_a_fresh_install(store: Store) -> None:
    assert live.data_span(store, "sipas-dvc") is None


def test_data_span_gives_first_and_last_day(two_districts: Store) -> None:
    assert live.data_span(two_districts, "sipas-dvc") == (date(2026, 2, 2), date(2026, 2, 5))


def test_trend_gives_each_month_of_the_period_and_the_one_before(store: Store) -> None:
    add(store, [dvc(CAU_GIAY, answers(5), when=at(2026, 1, 10)), dvc(CAU_GIAY, answers(1), when=at(2026, 2, 10)),
                dvc(CAU_GIAY, answers(5), when=at(2025, 12, 10))])
    points = live.trend(sliced(store), parse_period("2026-02"), "month", "sipas-dvc")
    assert [(p.start, p.n, p.sipas) for p in points] == [(date(2026, 1, 1), 1, 100.0), (date(2026, 2, 1), 1, 0.0)]
    with pytest.raises(ValueError):
        live.trend(sliced(store), Q1, "day", "sipas-dvc")


def test_period_choices_are_quarters_months_years_newest_first() -> None:
    labels = [p.label for p in period_choices(date(2025, 11, 20), date(2026, 2, 3))]
    assert labels == ["2026-Q1", "2025-Q4", "2026-02", "2026-01", "2025-12", "2025-11", "2026", "2025"]
    assert [p.label for p in period_choices(date(2026, 2, 3), date(2026, 2, 3))] == ["2026-Q1", "2026-02", "2026"]


def test_rule_tables_include_the_example_marked_as_such() -> None:
    tables = rule_tables()
    assert tables and all(table.rules for table in tables.values())
    assert any(table.example for table in tables.values())


def test_period_between_is_usable_as_a_dashboard_period(two_districts: Store) -> None:
    results = compute(sliced(two_districts, {CAU_GIAY}), period_between(date(2026, 2, 3), date(2026, 2, 4)))
    assert results.groups[0].n == 2


def test_workbook_and_report_of_a_slice_name_only_its_units(two_districts: Store) -> None:
    source = sliced(two_districts, {CAU_GIAY})
    results = compute(source, Q1)
    book = openpyxl.load_workbook(io.BytesIO(downloads.workbook(results, rule_tables()["vi-du-ha-noi-2026"])))
    cells = [str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "Quận Cầu Giấy" in cells and "Điểm CCHC" in book.sheetnames
    assert not any("Ba Đình" in c or "Tài chính" in c for c in cells)
    pdf = pypdf.PdfReader(io.BytesIO(downloads.report_pdf(source, results)))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "Quận Cầu Giấy" in text and "Ba Đình" not in text and "Tài chính" not in text


def test_instruments_used_puts_the_most_answered_first(two_districts: Store) -> None:
    quick = {**dvc(BA_DINH, {}, when=at(2026, 2, 5)), "instrument_id": "nhanh-3", "stage": None, "answers": {"HL1": 3}}
    add(two_districts, [quick])
    assert live.instruments_used(sliced(two_districts)) == ["sipas-dvc", "nhanh-3"]
    assert live.instruments_used(sliced(two_districts, {BA_DINH})) == ["nhanh-3", "sipas-dvc"]  # 1 each: by name
    assert live.instruments_used(sliced(two_districts, {TAI_CHINH})) == []  # excluded and flagged only
