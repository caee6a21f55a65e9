"""The data behind the dashboard, without Streamlit: ranking and TV screens, the element heat map,
the drill-down, the feed table, the questionnaire menu, the flagged table, the current quarter and
the rule tables read once per file version. Hand-made groups, so every expected figure is visible."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from results import Method, frames, parse_period, summary
from results.cchc import rule_tables
from results.live import FeedEntry, instrument_menu
from results.model import GroupResult, Results
from survey_app.core.config import BLOCKS
from survey_app.core.instruments import load_instruments
from survey_app.core.periods import current_quarter
from survey_app.integrity.report import FlaggedShare, flagged_table

DVC = load_instruments()["sipas-dvc"]


def group(key: str, sipas: float | None, *, block: str = "huyen", rank: int | None = None,
          counter_id: str | None = None, **fields: object) -> GroupResult:
    base = GroupResult(key=key, name=f"Đơn vị {key}", block=block, unit_id=key.partition("/")[0], counter_id=counter_id,
                       n=10, sipas=sipas, se=None, moe=None, elements={"TC": sipas, "CC": None}, items={},
                       overall=None, questions={}, channels={}, dossiers=None, required_n=100, adequate=False,
                       response_rate=None, qd766_ratio=None, rank=rank)
    return replace(base, **fields)


def results_of(*groups: GroupResult, by: str = "unit") -> Results:
    return Results(period=parse_period("2026-Q1"), previous_period=None, by=by, instrument=DVC,
                   instrument_versions=(DVC.version,), elements=(), method=Method(), statuses=("ok",),
                   groups=groups, computed_at=datetime(2026, 3, 1, tzinfo=UTC))


# -- ranking and the TV mode ------------------------------------------------------------------------

def test_ranking_frame_keeps_unranked_units_as_missing_ranks() -> None:
    frame = frames.ranking_frame([group("a", 80.0, rank=1, previous_sipas=75.0, previous_rank=2),
                                  group("b", None)])
    assert list(frame.columns) == list(frames.RANKING_COLUMNS)
    first, second = frame.to_dict("records")
    assert (first["rank"], first["change"], first["previous_rank"], first["ranked"]) == (1.0, 5.0, 2.0, True)
    assert math.isnan(second["rank"]) and math.isnan(second["change"]) and not second["ranked"]


def test_tv_screens_cut_each_block_into_pages_in_the_charts_order() -> None:
    districts = [group(f"h{i:02d}", 50.0 + i, rank=27 - i) for i in range(27)]
    unranked = group("h-small", 99.0)  # an index, but too few responses for a rank: after the ranked ones
    no_index = group("h-none", None)
    departments = [group("s-none", None, block="so")]  # no unit of this block has an index: no screen
    screens = frames.tv_screens(results_of(*districts, unranked, no_index, *departments))
    assert [(s.block, s.page, s.pages, len(s.shown)) for s in screens] == [("huyen", 1, 3, 12), ("huyen", 2, 3, 12),
                                                                           ("huyen", 3, 3, 4)]
    shown = [g.key for s in screens for g in s.shown]
    assert shown[:2] == ["h26", "h25"] and shown[-1] == "h-small" and "h-none" not in shown
    assert all(len(s.groups) == 29 for s in screens)  # the headline counts every unit of the block


def test_tv_screens_follow_the_rows_asked_for() -> None:
    screens = frames.tv_screens(results_of(*(group(f"s{i}", 60.0, block="so", rank=i + 1) for i in range(3))), rows=2)
    assert [(s.page, s.pages, [g.key for g in s.shown]) for s in screens] == [(1, 2, ["s0", "s1"]), (2, 2, ["s2"])]


# -- elements and the drill-down --------------------------------------------------------------------

def test_element_frame_leaves_out_missing_indices_and_orders_from_the_lowest() -> None:
    frame, order = frames.element_frame([group("a", 90.0), group("b", 40.0), group("c", None)], DVC)
    assert order == ["Đơn vị b", "Đơn vị a"]
    assert sorted(frame["name"]) == ["Đơn vị a", "Đơn vị b"]  # CC is None for both: only TC cells
    assert set(frame["element"]) == {"TC"}
    assert frame["element_name"].iloc[0] == frames.element_names(DVC)["TC"]
    empty, none = frames.element_frame([group("c", None)], DVC)
    assert none == [] and list(empty.columns) == ["name", "element", "element_name", "value"]


def test_drill_down_goes_province_block_unit_counter() -> None:
    units = results_of(group("s1", 80.0, block="so"), group("h1", 60.0), group("h2", 70.0))
    province = frames.drill_rows("province", units)
    assert [(r.name, r.opens) for r in province] == [(BLOCKS["so"], ("block", "so")),
                                                      (BLOCKS["huyen"], ("block", "huyen"))]
    assert province[1].overview == summary.overview(units.blocks()["huyen"], units.method)
    assert province[1].overview.sipas == 65.0
    assert [r.opens for r in frames.drill_rows("block", units)] == [("unit", "s1"), ("unit", "h1"), ("unit", "h2")]
    counters = results_of(group("h1/quay-1", 55.0, counter_id="quay-1"), by="counter")
    rows = frames.drill_rows("unit", units, counters)
    assert [(r.opens, r.overview.sipas) for r in rows] == [(("counter", "quay-1"), 55.0)]
    assert frames.drill_rows("counter", units) is None
    with pytest.raises(ValueError):
        frames.drill_rows("ward", units)


def test_drill_frame_has_a_row_per_level_below() -> None:
    frame = frames.drill_frame(frames.drill_rows("block", results_of(group("h1", 60.0, n=7))))
    assert frame.to_dict("records") == [{"name": "Đơn vị h1", "sipas": 60.0, "moe": None, "n": 7}]
    assert list(frames.drill_frame([]).columns) == ["name", "sipas", "moe", "n"]


# -- the feed, the questionnaire menu, flagged responses ------------------------------------------

def test_feed_frame_shows_a_missing_comment_as_empty_and_joins_low_items() -> None:
    at = datetime(2026, 2, 4, 7, 5, tzinfo=UTC)
    frame = frames.feed_frame([FeedEntry(at, "Quận Cầu Giấy", "Quầy 2", None, ("CC1", "HL")),
                               FeedEntry(at, "Quận Ba Đình", "", "Chờ lâu", ())])
    assert frame.to_dict("records") == [
        {"at": at, "unit": "Quận Cầu Giấy", "counter": "Quầy 2", "comment": "", "low": "CC1, HL"},
        {"at": at, "unit": "Quận Ba Đình", "counter": "", "comment": "Chờ lâu", "low": ""}]


def test_instrument_menu_puts_the_used_first_then_the_default() -> None:
    known = ["a-form", "nhanh-3", "sipas-2017", "sipas-dvc"]
    assert instrument_menu(["nhanh-3"], known) == ["nhanh-3", "sipas-dvc", "a-form", "sipas-2017"]
    assert instrument_menu(["gone", "sipas-2017", "nhanh-3"], known) == ["sipas-2017", "nhanh-3", "sipas-dvc", "a-form"]
    assert instrument_menu([], known)[0] == "sipas-dvc"


def test_flagged_table_lists_units_with_flags_and_their_reasons_most_frequent_first() -> None:
    shares = [FlaggedShare("q-cau-giay", "Quận Cầu Giấy", "huyen", 3, 2, 200 / 3, {"too_fast": 1, "burst_client": 2}),
              FlaggedShare("p-moi", None, "huyen", 4, 1, 25.0, {"outside_hours": 1}),
              FlaggedShare("q-ba-dinh", "Quận Ba Đình", "huyen", 5, 0, 0.0, {})]
    assert flagged_table(shares).to_dict("records") == [
        {"name": "Quận Cầu Giấy", "responses": 3, "flagged": 2, "share": 66.67,
         "reasons": "burst_client (2), too_fast (1)"},
        {"name": "p-moi", "responses": 4, "flagged": 1, "share": 25.0, "reasons": "outside_hours (1)"}]
    empty = flagged_table(shares[2:])
    assert empty.empty and empty["flagged"].sum() == 0


# -- periods and rule tables ------------------------------------------------------------------------

@pytest.mark.parametrize(("day", "label"), [(date(2026, 1, 1), "2026-Q1"), (date(2026, 5, 20), "2026-Q2"),
                                            (date(2026, 9, 30), "2026-Q3"), (date(2026, 12, 31), "2026-Q4")])
def test_current_quarter_of_a_day(day: date, label: str) -> None:
    assert current_quarter(day).label == label


RULES = """
name: thu-nghiem
title: {title}
rules:
  - {{block: so, criterion: "6.1", max_points: 2, mode: proportional}}
"""


def test_rule_tables_are_read_once_per_version_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "thu-nghiem.yaml"
    path.write_text(RULES.format(title="Bảng A"), encoding="utf-8")
    first = rule_tables(tmp_path)["thu-nghiem"]
    assert rule_tables(tmp_path)["thu-nghiem"] is first  # the same object: not parsed again
    path.write_text(RULES.format(title="Bảng B"), encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000  # a later modification time, however coarse the clock
    os.utime(path, ns=(stamp, stamp))
    assert rule_tables(tmp_path)["thu-nghiem"].title == "Bảng B"
