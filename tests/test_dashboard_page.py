"""The leaders' dashboard run by AppTest on a temporary database: what a leader sees, what each
filter changes, the empty states, the TV mode, and that a scoped leader sees nothing of other units.

AppTest does not tick `run_every`; each `.run()` is one refresh of the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from factories import Clock, add, dvc_answers, dvc_response, quick_response
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Node

from results import compute
from results.slicing import Slice, SlicedSource
from survey_app.admin.units import Unit, read_units_csv, upsert_units
from survey_app.core.config import BLOCKS, DEFAULT_UNITS_CSV
from survey_app.core.periods import current_quarter
from survey_app.db.store import Store
from survey_app.demo.generate import generate_demo
from survey_app.ui import dashboard

CAU_GIAY, BA_DINH = "q-cau-giay", "q-ba-dinh"
NEW_WARD = Unit("p-moi", "Phường Mới Thành Lập", "huyen", CAU_GIAY)
COMMENT = "**Chờ lâu** <b>quá</b> [bấm](http://x.vn)"
TABS = ("Xếp hạng", "Ưu tiên cải thiện", "Thành phần, chi tiết", "Từng tiêu chí", "Xu hướng, giờ trong tuần",
        "Nhận định, mong đợi", "Ý kiến người dân", "Tải về")


def dashboard_app(db: str, scope: tuple[str, ...] | None) -> None:
    """The page alone, as the router runs it (AppTest runs this function's source as a script)."""
    from logins import session_for

    from survey_app.store import open_store
    from survey_app.ui import dashboard

    with open_store(db) as store:
        session_for(store)
        dashboard.page(store, None if scope is None else frozenset(scope))


@pytest.fixture
def fresh_db(store: Store, db_path: Path) -> str:
    store.close()  # the page opens the database itself
    return str(db_path)


@pytest.fixture
def demo_db(store: Store, db_path: Path, clock: Clock) -> Iterator[str]:
    """Demo responses over the 120 days up to the tests' clock, and three of Cầu Giấy's a minute ago,
    one of them dissatisfied with a comment written to look like Markdown and HTML. A new ward under
    Cầu Giấy has no responses yet."""
    generate_demo(store, responses=3000, seed=4)
    upsert_units(store, [NEW_WARD])
    now = clock.moment - timedelta(minutes=1)
    add(store, [dvc_response(CAU_GIAY, dvc_answers(5, pa=None), when=now),
                dvc_response(CAU_GIAY, dvc_answers(4, pa=None), when=now, counter_id="quay-2"),
                dvc_response(CAU_GIAY, dvc_answers(1, pa=None), when=now, comment=COMMENT)])
    store.close()
    yield str(db_path)


def open_page(db: str, scope: set[str] | None = None, **state: object) -> AppTest:
    at = AppTest.from_function(dashboard_app, args=(db, None if scope is None else tuple(sorted(scope))),
                               default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def nodes(block: Block) -> Iterator[Node]:
    for child in block.children.values():
        yield child
        if isinstance(child, Block):
            yield from nodes(child)


def sent(at: AppTest) -> bytes:
    """Every element as the browser receives it: texts, options, tables and chart data."""
    return b"".join(n.proto.SerializeToString() for root in (at.main, at.sidebar) for n in nodes(root)
                    if getattr(n, "proto", None) is not None)


def unit_names(block: str | None = None, leaving_out: str = "") -> set[str]:
    """Names of the demo units and the new ward (the store fixture is closed once the page has it)."""
    units = [*read_units_csv(DEFAULT_UNITS_CSV.read_text(encoding="utf-8")), NEW_WARD]
    return {u.name for u in units if block in (None, u.block) and u.unit_id != leaving_out}


def counted(db: str, slice_: Slice) -> int:
    """Responses of this quarter (the tests' clock) in `slice_`, as compute() counts them."""
    from survey_app.store import open_store

    with open_store(db, read_only=True) as store:
        period = current_quarter()  # of the tests' clock
        return sum(g.n for g in compute(SlicedSource(store, slice_), period).groups)


# -- empty states -----------------------------------------------------------------------------------

def test_fresh_install_says_what_to_do(fresh_db: str) -> None:
    at = open_page(fresh_db)
    assert at.title[0].value == "Kết quả đánh giá sự hài lòng"
    assert "Chưa có phiếu đánh giá nào" in at.info[0].value
    assert not at.metric


def test_leader_without_units_is_told_to_ask_an_administrator(fresh_db: str) -> None:
    at = open_page(fresh_db, scope=set())
    assert "chưa được giao đơn vị nào" in at.warning[0].value


def test_a_period_without_responses_says_so(demo_db: str) -> None:
    at = open_page(demo_db, dash_period=dashboard.CUSTOM)
    at.date_input(key=dashboard.DATES).set_value((datetime(2020, 1, 1).date(), datetime(2020, 1, 31).date()))
    rerun(at)
    assert "Chưa có phiếu nào" in at.info[0].value
    assert "01/01/2020" in at.info[0].value
    assert not at.metric


def test_a_unit_without_responses_says_so(demo_db: str) -> None:
    at = open_page(demo_db)
    at.selectbox(key=dashboard.UNIT).set_value(NEW_WARD.unit_id)
    rerun(at)
    assert "Chưa có phiếu nào của Phường Mới Thành Lập" in at.info[0].value
    assert not at.metric


# -- what a city-level leader sees ------------------------------------------------------------------

def test_headline_counts_this_quarters_responses_of_every_unit(demo_db: str) -> None:
    at = open_page(demo_db)
    shown = metrics(at)
    assert shown["Số phiếu"] == f"{counted(demo_db, Slice()):,}".replace(",", ".")
    assert "±" in shown["Chỉ số SIPAS (± sai số 95 %)"] or shown["Chỉ số SIPAS (± sai số 95 %)"][0].isdigit()
    assert int(shown["Phiếu hôm nay"]) >= 3
    assert any("Cần chú ý nhất" in i.value for i in at.info)


def test_ranking_lists_every_unit_of_each_block(demo_db: str) -> None:
    at = open_page(demo_db)
    assert [s.value for s in at.subheader] == list(BLOCKS.values())
    for table, block in zip(at.dataframe, BLOCKS, strict=True):
        assert set(table.value["name"]) == unit_names(block)
        # Unranked units have no rank: the grid draws "–" there (Streamlit's own default is "None").
        assert table.value["rank"].isna().any() and table.proto.placeholder == "–"


def test_every_tab_opens_without_error(demo_db: str) -> None:
    at = open_page(demo_db)
    for label in TABS:
        at.session_state[dashboard.TAB] = label
        rerun(at)
    assert [b.label for b in at.get("download_button")] == ["Tải bảng số liệu (XLSX)", "Tải báo cáo của kỳ (PDF)"]


def test_feed_shows_citizens_words_as_plain_text(demo_db: str) -> None:
    at = open_page(demo_db, dash_tab="Ý kiến người dân")
    feed = at.dataframe[0].value
    assert COMMENT in set(feed["comment"])  # the text exactly as written, in a table cell
    assert all(COMMENT not in m.value for m in at.markdown)  # never rendered as Markdown or HTML


# -- filters ----------------------------------------------------------------------------------------

def test_block_filter_offers_only_its_units_and_ranks_only_them(demo_db: str) -> None:
    at = open_page(demo_db)
    at.selectbox(key=dashboard.BLOCK).set_value("huyen")
    rerun(at)
    assert set(at.selectbox(key=dashboard.UNIT).options) == unit_names("huyen") | {"Tất cả"}
    assert [s.value for s in at.subheader] == [BLOCKS["huyen"]]
    districts = frozenset(u.unit_id for u in read_units_csv(DEFAULT_UNITS_CSV.read_text(encoding="utf-8"))
                          if u.block == "huyen")
    assert metrics(at)["Số phiếu"] == f"{counted(demo_db, Slice(districts)):,}".replace(",", ".")


def test_unit_then_counter_narrow_the_headline(demo_db: str) -> None:
    at = open_page(demo_db)
    assert at.selectbox(key=dashboard.COUNTER).disabled
    at.selectbox(key=dashboard.UNIT).set_value(CAU_GIAY)
    rerun(at)
    unit = counted(demo_db, Slice(frozenset({CAU_GIAY})))
    assert metrics(at)["Số phiếu"] == f"{unit:,}".replace(",", ".")
    at.selectbox(key=dashboard.COUNTER).set_value("quay-2")
    rerun(at)
    counter = counted(demo_db, Slice(frozenset({CAU_GIAY}), "quay-2"))
    assert 0 < counter < unit
    assert metrics(at)["Số phiếu"] == f"{counter:,}".replace(",", ".")


def test_drill_down_lists_the_level_below_and_goes_back_up(demo_db: str) -> None:
    at = open_page(demo_db, dash_tab="Thành phần, chi tiết")
    assert set(at.dataframe[0].value["name"]) == set(BLOCKS.values())  # province → its blocks
    at.selectbox(key=dashboard.UNIT).set_value(CAU_GIAY)
    rerun(at)
    assert "Quận Cầu Giấy — Quầy 2" in set(at.dataframe[0].value["name"])  # a unit → its counters
    next(b for b in at.button if b.label == "Lên một cấp").click()
    rerun(at)
    assert at.selectbox(key=dashboard.UNIT).value == ""


def test_instrument_without_responses_is_a_fresh_start(demo_db: str) -> None:
    at = open_page(demo_db)
    at.selectbox(key=dashboard.INSTRUMENT).set_value("nhanh-3")
    rerun(at)
    assert "Chưa có phiếu đánh giá nào" in at.info[0].value


def test_cchc_rule_table_adds_points_to_a_units_tiles_and_the_ranking(demo_db: str) -> None:
    at = open_page(demo_db, dash_unit=CAU_GIAY)
    at.selectbox(key=dashboard.RULES).set_value("vi-du-ha-noi-2026")
    rerun(at)
    assert "Điểm CCHC" in metrics(at)
    assert "points" in at.dataframe[0].value.columns


# -- scope ------------------------------------------------------------------------------------------

def test_a_scoped_leader_never_sees_another_units_name_in_any_element(demo_db: str) -> None:
    others = unit_names(leaving_out=CAU_GIAY)
    at = open_page(demo_db, scope={CAU_GIAY})
    assert at.selectbox(key=dashboard.UNIT).options == ["Tất cả", "Quận Cầu Giấy"]
    assert metrics(at)["Số phiếu"] == f"{counted(demo_db, Slice(frozenset({CAU_GIAY}))):,}".replace(",", ".")
    for label in TABS:
        at.session_state[dashboard.TAB] = label
        everything = sent(rerun(at))
        assert "Quận Cầu Giấy".encode() in everything or label in ("Từng tiêu chí", "Tải về")
        leaked = [name for name in others if name.encode() in everything]
        assert not leaked, f"{label}: {leaked}"


def test_tv_mode_is_large_rotates_blocks_and_shows_no_comments(demo_db: str) -> None:
    at = open_page(demo_db, dash_tab="Ý kiến người dân")
    assert COMMENT.encode() in sent(at)  # the feed is open: the check below can fail
    at.toggle(key=dashboard.TV).set_value(True)
    first = rerun(at).title[0].value
    assert first.startswith(BLOCKS["so"])
    assert [m.label for m in at.metric] == ["Chỉ số SIPAS (± sai số 95 %)", "Số phiếu", "Phiếu hôm nay"]
    assert not at.dataframe and COMMENT.encode() not in sent(at)
    titles = {rerun(at).title[0].value for _ in range(4)}
    assert any(title.startswith(BLOCKS["huyen"]) for title in titles)


def test_tv_mode_of_a_scoped_leader_shows_only_their_block(demo_db: str) -> None:
    others = unit_names(leaving_out=CAU_GIAY)
    at = open_page(demo_db, scope={CAU_GIAY}, dash_tv=True)
    assert at.title[0].value.startswith(BLOCKS["huyen"])
    assert not [name for name in others if name.encode() in sent(at)]


@pytest.fixture
def quick_rating_db(store: Store, db_path: Path, clock: Clock) -> str:
    """Ba Đình rates on the one-question nhanh-3 form only: two satisfied, one not, with reasons."""
    now = clock.moment - timedelta(minutes=1)
    add(store, [quick_response(BA_DINH, 3, when=now), quick_response(BA_DINH, 2, when=now),
                quick_response(BA_DINH, 1, when=now, choices={"ly_do": ["cho_lau"]}, comment="Chờ quá lâu")])
    store.close()
    return str(db_path)


def test_a_unit_on_the_quick_form_opens_on_it_and_every_tab_works(quick_rating_db: str) -> None:
    at = open_page(quick_rating_db, scope={BA_DINH})
    assert at.selectbox(key=dashboard.INSTRUMENT).value == "nhanh-3"
    assert metrics(at)["Số phiếu"] == "3"
    for label in TABS:
        at.session_state[dashboard.TAB] = label
        rerun(at)
        if label == "Ý kiến người dân":
            feed = at.dataframe[0].value
            assert list(feed["comment"]) == ["Chờ quá lâu"] and list(feed["low"]) == ["HL1"]



def test_flagged_share_is_shown_within_the_leaders_scope(store: Store, db_path: Path, clock: Clock) -> None:
    now = clock.moment - timedelta(minutes=1)
    for unit in (CAU_GIAY, BA_DINH):
        add(store, [dvc_response(unit, dvc_answers(v, pa=None), when=now) for v in (4, 5)])
    store.write(lambda con: con.execute(
        "UPDATE responses SET status = 'flagged', flag_reasons = 'burst_client'"
        " WHERE response_id IN (SELECT max(response_id) FROM responses GROUP BY unit_id)"))
    store.close()
    at = open_page(str(db_path), {CAU_GIAY})
    expander = next(e for e in at.expander if e.label.startswith("Phiếu nghi vấn bị gắn cờ (1)"))
    frame = expander.dataframe[0].value
    assert list(frame["name"]) == ["Quận Cầu Giấy"]
    assert list(frame["share"]) == [50.0] and frame["reasons"][0] == "burst_client (1)"
