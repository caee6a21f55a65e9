"""Leaders' live satisfaction dashboard, and its TV mode (the toggle at the top) for a screen in
the one-stop centre.

Thin: every number and table comes from `results` (compute, live, summary, frames, downloads),
every chart from survey_app.ui.charts; this page only draws them. The data functions below are
cached with a time to live and refreshed in the background; the live part is a fragment that re-runs
itself, so a refresh costs a cache read and the small aggregated tables the charts need. Every slice
is built with `Slice.within(scope)` and every query reads through a `SlicedSource` of it
(results.slicing): no filter, tab or download can reach another unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from results import Period, Results, compute, frames, live, summary
from results.cchc import RuleTable, UnitPoints, cchc_points, rule_tables
from results.downloads import report_pdf, workbook
from results.model import GroupResult
from results.priorities import UnitPriorities, priorities
from results.slicing import Slice, SlicedSource
from survey_app.admin.units import Unit, list_counters, list_units
from survey_app.core import clock, config, formats
from survey_app.core.config import BLOCKS
from survey_app.core.formats import count, number
from survey_app.core.i18n import t
from survey_app.core.periods import current_quarter, period_between, period_choices
from survey_app.db.store import Store
from survey_app.integrity.report import flagged_share, flagged_table
from survey_app.ui import charts, login
from survey_app.ui.text import plain

REFRESH_SECONDS = 30  # the live part re-runs this often; cached aggregates live as long
TREND_SECONDS = 600  # weekly and monthly points move slowly, and their margins cost seconds to compute
TV_SECONDS = 20  # each screen of the TV mode stays this long
ALL = ""  # the "no restriction" choice of the block, unit and counter filters
CUSTOM = "range"  # the period choice that opens a date range
# Session-state keys of this page, in one place.
PERIOD, DATES, BLOCK, UNIT, COUNTER = "dash_period", "dash_dates", "dash_block", "dash_unit", "dash_counter"
INSTRUMENT, RULES, TV, TAB, GRAIN = "dash_instrument", "dash_rules", "dash_tv", "dash_tab", "dash_grain"
DRILL, TV_TURN = "dash_drill", "dash_tv_turn"
FILTER_KEYS = {"block": BLOCK, "unit": UNIT, "counter": COUNTER}  # the filter each drill-down level sets
TV_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
[data-testid="stHeaderActionElements"] {display: none;}
.block-container {max-width: 100%; padding: 1rem 2rem;}
h1 {font-size: 3rem !important;}
[data-testid="stMetricLabel"] p {font-size: 1.8rem;}
[data-testid="stMetricValue"] {font-size: 4.5rem;}
</style>"""


@dataclass(frozen=True)
class View:
    """What the filters chose, the slice already cut down to the viewer's scope."""

    period: Period
    slice: Slice
    instrument_id: str
    block: str
    unit: Unit | None
    counter_id: str
    counter_name: str
    rules: RuleTable | None

    @property
    def level(self) -> str:
        return "counter" if self.counter_id else "unit" if self.unit else "block" if self.block else "province"


# -- cached data: plain functions of results, keyed by the database and the slice --------------------

# Past its time to live an entry is still served while a fresh one is computed in the background.
_cached = st.cache_data(ttl=REFRESH_SECONDS, refresh_mode="background", show_spinner=False)
_slow_cached = st.cache_data(ttl=TREND_SECONDS, refresh_mode="background", show_spinner=False)


@_cached
def _span(_store: Store, db: str, slice_: Slice, instrument_id: str) -> tuple[date, date] | None:
    return live.data_span(SlicedSource(_store, slice_), instrument_id)


@_cached
def _instruments(_store: Store, db: str, slice_: Slice) -> list[str]:
    return live.instruments_used(SlicedSource(_store, slice_))


@_cached
def _units(_store: Store, db: str, slice_: Slice, period: Period, instrument_id: str) -> Results:
    return compute(SlicedSource(_store, slice_), period, instrument_id=instrument_id)


@_cached
def _counters(_store: Store, db: str, slice_: Slice, period: Period, instrument_id: str) -> Results:
    return compute(SlicedSource(_store, slice_), period, by="counter", instrument_id=instrument_id,
                   choices=False, compare=False)


@_slow_cached
def _priorities(_store: Store, db: str, slice_: Slice, period: Period, instrument_id: str, rules_name: str,
                _rules: RuleTable | None) -> list[UnitPriorities]:
    """Priorities of the slice's units; slow-cached: their bootstrap costs a second at a million responses."""
    source = SlicedSource(_store, slice_)
    results = compute(source, period, instrument_id=instrument_id, choices=False, compare=False)
    return priorities(source, period, instrument_id=instrument_id, rules=_rules, results=results)


@_cached
def _flagged(_store: Store, db: str, slice_: Slice, period: Period) -> pd.DataFrame:
    return flagged_table(flagged_share(SlicedSource(_store, slice_), period.first, period.last))


@_cached
def _today(_store: Store, db: str, slice_: Slice, instrument_id: str) -> int:
    return live.responses_today(SlicedSource(_store, slice_), instrument_id)


@_slow_cached
def _trend(_store: Store, db: str, slice_: Slice, period: Period, grain: str,
           instrument_id: str) -> list[live.TrendPoint]:
    return live.trend(SlicedSource(_store, slice_), period, grain, instrument_id)


@_cached
def _hours(_store: Store, db: str, slice_: Slice, period: Period, instrument_id: str) -> pd.DataFrame:
    return live.hour_weekday(SlicedSource(_store, slice_), period, instrument_id)


@_cached
def _feed(_store: Store, db: str, slice_: Slice, period: Period, instrument_id: str) -> list[live.FeedEntry]:
    return live.feed(SlicedSource(_store, slice_), period, instrument_id)


def _key(store: Store, view: View) -> tuple[Store, str, Slice]:
    """The first arguments of every cached function: the store, its file (the cache key) and the slice."""
    return store, str(store.path), view.slice


# -- the page ----------------------------------------------------------------------------------------

def page(store: Store, scope_unit_ids: frozenset[str] | None) -> None:
    """The dashboard of a leader who may see `scope_unit_ids` (None: every unit)."""
    st.set_page_config(layout="wide")
    units = [u for u in list_units(store, active_only=False) if scope_unit_ids is None or u.unit_id in scope_unit_ids]
    if not units:
        st.title(t("dash.title"))
        st.warning(t("dash.empty.scope"))
        return
    _apply_drill()
    if st.toggle(t("dash.tv.toggle"), key=TV, help=t("dash.tv.help")):
        _tv(store, scope_unit_ids, current_quarter(), config.DEFAULT_INSTRUMENT)
        return
    st.title(t("dash.title"))
    everything = Slice().within(scope_unit_ids)
    instrument_id, rules = _options(store, _instruments(store, str(store.path), everything))
    span = _span(store, str(store.path), everything, instrument_id)
    if span is None:
        st.info(t("dash.empty.install"))
        return
    _live(store, _filters(store, units, span, scope_unit_ids, instrument_id, rules))


def _apply_drill() -> None:
    """A row clicked in the drill-down table sets the filters before they are drawn."""
    for key, value in st.session_state.pop(DRILL, {}).items():
        st.session_state[key] = value


def _options(store: Store, used: list[str]) -> tuple[str, RuleTable | None]:
    """Questionnaire (the viewer's most answered first) and CCHC rule table, tucked away: most leaders
    never change them."""
    tables = rule_tables()
    with st.expander(t("dash.options")):
        instrument_id = st.selectbox(t("dash.f.instrument"), live.instrument_menu(used, store.instruments),
                                     key=INSTRUMENT, format_func=lambda i: f"{store.instruments[i].title['vi']} ({i})")
        rules = st.selectbox(t("dash.f.rules"), [ALL, *tables], key=RULES, help=t("dash.f.rules_help"),
                             format_func=lambda r: tables[r].title if r else t("dash.f.no_rules"))
    return instrument_id, tables.get(rules)


def _period_label(choice: Period | str) -> str:
    return t("dash.f.custom") if choice == CUSTOM else choice.title()


def _filters(store: Store, units: list[Unit], span: tuple[date, date], scope: frozenset[str] | None,
             instrument_id: str, rules: RuleTable | None) -> View:
    """Period, block, unit, counter: the drill-down province → block → unit → counter."""
    day = clock.today()
    columns = st.columns([2, 2, 3, 2])
    period = columns[0].selectbox(t("dash.f.period"), [*period_choices(span[0], max(span[1], day)), CUSTOM],
                                  key=PERIOD, format_func=_period_label)
    if period == CUSTOM:
        dates = columns[0].date_input(t("dash.f.dates"), (day.replace(day=1), day), key=DATES, format="DD/MM/YYYY")
        period = period_between(*dates) if len(dates) == 2 else period_between(dates[0], dates[0])
    blocks = [b for b in BLOCKS if any(u.block == b for u in units)]
    everything = t("dash.all_units" if scope is not None else "dash.province")
    block = columns[1].selectbox(t("dash.f.block"), [ALL, *blocks], key=BLOCK,
                                 format_func=lambda b: BLOCKS.get(b) or everything)
    shown = [u for u in units if block in (ALL, u.block)]
    names = {u.unit_id: u.name for u in shown}
    unit_id = columns[2].selectbox(t("dash.f.unit"), [ALL, *names], key=UNIT,
                                   format_func=lambda u: names.get(u) or t("dash.f.all"))
    counters = {c.counter_id: c.name for c in list_counters(store, unit_id, active_only=False)} if unit_id else {}
    counter_id = columns[3].selectbox(t("dash.f.counter"), [ALL, *counters], key=COUNTER, disabled=not unit_id,
                                      format_func=lambda c: counters.get(c) or t("dash.f.all"))
    chosen = (Slice(frozenset({unit_id}), counter_id or None) if unit_id
              else Slice(frozenset(names)) if block else Slice())
    unit = next((u for u in shown if u.unit_id == unit_id), None)
    return View(period, chosen.within(scope), instrument_id, block, unit, counter_id, counters.get(counter_id, ""),
                rules)


@st.fragment(run_every=REFRESH_SECONDS)
def _live(store: Store, view: View) -> None:
    # A fragment re-runs without the router: an ended session must not see it. Opening a tab or a
    # grain is a click (the idle clock restarts); the 30-second refresh is not.
    login.guard(store, activity=(st.session_state.get(TAB), st.session_state.get(GRAIN)))
    results = _units(*_key(store, view), view.period, view.instrument_id)
    overview = summary.overview(results.groups, results.method)
    st.caption(t("dash.updated", at=f"{results.computed_at:%H:%M:%S %d/%m/%Y}", seconds=REFRESH_SECONDS,
                 previous=results.previous_period.title() if results.previous_period else "–"))
    if store.freshness is not None:  # PostgreSQL: figures come from this process's copy, as of its last sync
        st.caption(t("dash.synced", at=f"{store.freshness:%H:%M:%S}"))
    if overview.n == 0:
        st.info(t("dash.empty.selection", what=_where(view), period=view.period.title()))
        return
    _tiles(store, view, results, overview)
    _weakest(view, results, _children(store, view, results))
    names = ("ranking", "priorities", "elements", "items", "trend", "choices", "feed", "files")
    tabs = st.tabs([t(f"dash.tab.{name}") for name in names], key=TAB, on_change="rerun")
    sections = (_ranking_tab, _priorities_tab, _elements_tab, _items_tab, _trend_tab, _choices_tab, _feed_tab,
                _files_tab)
    for tab, section in zip(tabs, sections, strict=True):
        if tab.open:  # only the open tab runs its queries and sends its charts
            with tab:
                section(store, view, results)


def _where(view: View) -> str:
    """Where the view looks, for a Markdown text: stored names escaped."""
    if view.unit is not None:
        return plain(view.unit.name + (f" — {view.counter_name}" if view.counter_id else ""))
    return BLOCKS.get(view.block) or t("dash.province")


# -- headline ----------------------------------------------------------------------------------------

def _with_margin(overview: summary.Overview) -> str:
    """76,46 ± 0,81; the index alone when a unit's sample is too small for a margin."""
    return number(overview.sipas) + (f" ± {number(overview.moe)}" if overview.moe is not None else "")


def _tiles(store: Store, view: View, results: Results, overview: summary.Overview) -> None:
    previous = results.previous_period.title() if results.previous_period else ""
    tiles = [
        (t("dash.tile.sipas"), _with_margin(overview),
         None if overview.change is None
         else number(overview.change, signed=True) + " " + t("dash.tile.vs", p=previous),
         t("dash.tile.sipas_help", units=overview.units)),
        (t("dash.tile.n"), count(overview.n), None, t("dash.tile.n_help")),
        (t("dash.tile.today"), count(_today(*_key(store, view), view.instrument_id)), None, None),
    ]
    if overview.response_rate is not None:
        tiles.append((t("dash.tile.rate"), number(overview.response_rate, 1) + " %", None, t("dash.tile.rate_help")))
    points = _points(view, results)
    if len(points) == 1 and points[0].points is not None and view.rules is not None:
        tiles.append((t("dash.tile.cchc"), f"{number(points[0].points)} / {number(points[0].max_points)}", None,
                      view.rules.title))
    target = _target_tile(store, view)
    if target is not None:
        tiles.append(target)
    for column, (label, value, delta, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
        column.metric(label, value, delta=delta, help=help_text, border=True)


def _year_so_far(store: Store, view: View) -> Results:
    """The units of the slice over this year so far: what a yearly target is judged on."""
    now = clock.today()
    return _units(*_key(store, view), period_between(date(now.year, 1, 1), now), view.instrument_id)


def _target_tile(store: Store, view: View) -> tuple[str, str, str | None, str] | None:
    """The year's target of the chosen unit, its gap, the year-end projection and the chance of reaching it."""
    if view.unit is None:
        return None
    group = next((g for g in _year_so_far(store, view).groups if g.key == view.unit.unit_id), None)
    outlook = group.outlook if group else None
    if outlook is None or outlook.p_target is None:
        return None
    return (t("dash.tile.target", year=outlook.year), number(outlook.target),
            number(outlook.gap, signed=True) + " " + t("dash.tile.target_gap"),
            t("dash.tile.target_help", projected=number(outlook.projected), low=number(outlook.projected_low),
              high=number(outlook.projected_high), p=count(100 * outlook.p_target)))


def _points(view: View, results: Results) -> list[UnitPoints]:
    if view.rules is None:
        return []
    return [p for p in cchc_points(results, view.rules) if p.group.n]


def _weakest(view: View, results: Results, groups: list[GroupResult]) -> None:
    """Where to look first: the lowest unit (or counter) and its lowest element."""
    found = summary.weakest(groups)
    if found is None:
        return
    group, element = found
    name = plain(group.name) if view.level != "counter" else _where(view)
    element_name = frames.element_names(results.instrument)[element]
    st.info(t("dash.weakest", name=name, sipas=number(group.sipas), element=element_name, code=element,
              value=number(group.elements[element])), icon="🔎")


def _children(store: Store, view: View, results: Results) -> list[GroupResult]:
    """The groups one level down: units (or blocks' units) in a province or block, counters in a unit."""
    if view.level in ("unit", "counter"):
        return list(_counters(*_key(store, view), view.period, view.instrument_id).groups)
    return list(results.groups)


# -- tabs --------------------------------------------------------------------------------------------

def _chart(store: Store, chart: alt.TopLevelMixin, name: str, view: View) -> None:
    """A chart with its PNG download (rendered only when clicked, for a session still open)."""
    st.altair_chart(chart, width="stretch")
    st.download_button(t("dash.png"), login.guarded(store, partial(charts.to_png, chart)),
                       file_name=f"sipas-{name}-{view.period.label}.png",
                       mime="image/png", on_click="ignore", key=f"png_{name}", icon=":material/download:")


# How each numeric column of a table is printed (Vietnamese decimals come from _styled).
FORMATS = {"rank": "{:.0f}", "rank_band": "{:.0f}", "previous_rank": "{:.0f}", "n": "{:,.0f}",
           **dict.fromkeys(("sipas", "moe", "points", "performance", "importance", "importance_low",
                            "importance_high", "potential", "points_at_stake"), "{:.2f}"),
           "change": "{:+.2f}", "cases_opened": "{:,.0f}", "cases_on_time_pct": "{:.0f} %",
           "cases_median_hours": "{:.0f}"}


def _styled(frame: pd.DataFrame, grey: pd.Series | None = None) -> Styler:
    """Numbers as Vietnamese documents print them, "–" for none, and `grey` rows greyed out."""
    styled = frame.style.format({c: f for c, f in FORMATS.items() if c in frame}, na_rep=formats.NONE,
                                decimal=formats.DECIMAL, thousands=formats.THOUSANDS)
    if grey is not None:
        muted = ["color: #9e9e9e"] * len(frame.columns)
        styled = styled.apply(lambda row: muted if grey[row.name] else [""] * len(row), axis=1)
    return styled


def _grid(frame: pd.DataFrame, grey: pd.Series | None = None, **options: Any) -> Any:
    """A dashboard table: styled numbers, no index, and "–" in empty cells (Streamlit draws a missing
    value itself, as "None", whatever the Styler says)."""
    return st.dataframe(_styled(frame, grey), hide_index=True, placeholder=formats.NONE, **options)


def _ranking_table(frame: pd.DataFrame, points: dict[str, float | None]) -> None:
    table = frame.assign(points=frame["name"].map(points)) if points else frame
    table = table.assign(
        interval=[None if pd.isna(lo) else f"{int(lo)}–{int(hi)}" for lo, hi in zip(table["rank_low"],
                                                                                      table["rank_high"], strict=True)],
        standing=[t(f"dash.vs_block.{v}") if isinstance(v, str) else None for v in table["vs_block"]])
    columns = {"rank": t("dash.col.rank"), "name": st.column_config.TextColumn(t("dash.col.unit"), width="large"),
               "rank_band": st.column_config.NumberColumn(t("dash.col.band"), help=t("dash.col.band_help")),
               "interval": st.column_config.TextColumn(t("dash.col.rank_interval"), help=t("dash.col.band_help")),
               "standing": st.column_config.TextColumn(t("dash.col.vs_block"), help=t("dash.col.vs_block_help")),
               "sipas": "SIPAS", "moe": st.column_config.TextColumn("±", help=t("dash.col.moe_help")),
               "n": t("dash.col.n"), "change": t("dash.col.change"), "previous_rank": t("dash.col.previous_rank"),
               "points": t("dash.col.points"), "cases_opened": t("dash.col.cases_opened"),
               "cases_on_time_pct": t("dash.col.cases_on_time"), "cases_median_hours": t("dash.col.cases_hours")}
    _grid(table, ~table["ranked"], column_config=columns,
                 column_order=[c for c in columns if c in table], height=min(36 * (len(table) + 1) + 2, 1200))


def _ranking_tab(store: Store, view: View, results: Results) -> None:
    st.caption(t("dash.ranking_help"))
    points = {p.group.name: p.points for p in _points(view, results)}
    for block, groups in results.blocks().items():
        st.subheader(BLOCKS.get(block, block))
        frame = frames.ranking_frame(groups)
        if frame["sipas"].notna().any():
            _chart(store, charts.ranking(frame), f"xep-hang-{block}", view)
        _ranking_table(frame, points)
    _flagged_table(store, view)


def _priorities_tab(store: Store, view: View, results: Results) -> None:
    """Which element to fix first, what it is worth, and how sure we are (results/priorities.py)."""
    # Points at stake need a rule table: the chosen one, else the first shipped (the example, which says so).
    rules = view.rules or next(iter(rule_tables().values()), None)
    found = _priorities(*_key(store, view), view.period, view.instrument_id, rules.name if rules else "", rules)
    if rules is not None:
        st.caption(t("dash.priority.rules", title=rules.title))
    if view.unit is None:
        st.caption(t("dash.priority.overview_help"))
        _grid(frames.first_priorities(found), column_config={
            "name": t("dash.col.unit"), "n": t("dash.col.n"), "element": t("dash.priority.first"),
            "performance": t("dash.col.index"), "potential": t("dash.priority.potential"),
            "points_at_stake": t("dash.priority.points"), "note": t("dash.priority.note")})
        return
    unit = next((u for u in found if u.unit_id == view.unit.unit_id), None)
    if unit is None or not unit.elements:
        st.info(t("dash.priority.none", why=unit.note if unit else t("dash.empty.chart")))
        return
    first = unit.elements[0]
    st.success(t("dash.priority.headline", element=first.name, code=first.element, value=number(first.performance),
                 points=number(first.points_at_stake)), icon="🎯")
    st.caption(t(f"dash.priority.method.{unit.method}", n=count(unit.n)))
    frame = frames.priority_frame(unit)
    _chart(store, charts.priorities(frame), f"uu-tien-{unit.unit_id}", view)
    table = frame.assign(quadrant=[t(f"dash.quadrant.{q}") if q else None for q in frame["quadrant"]])
    _grid(table, column_order=list(PRIORITY_COLUMNS),
                 column_config={key: t(label) for key, label in PRIORITY_COLUMNS.items()})
    with st.expander(t("dash.priority.items")):
        _grid(pd.DataFrame([(e.element, item, value) for e in unit.elements for item, value in e.items.items()],
                           columns=["element", "item", "performance"]),
              column_config={"element": t("dash.col.element"), "item": t("dash.col.code"),
                             "performance": t("dash.col.index")})


PRIORITY_COLUMNS = {"priority": "dash.priority.rank", "name": "dash.col.element", "performance": "dash.col.index",
                    "importance": "dash.priority.importance", "importance_low": "dash.priority.low",
                    "importance_high": "dash.priority.high", "potential": "dash.priority.potential",
                    "points_at_stake": "dash.priority.points", "quadrant": "dash.priority.quadrant"}


def _flagged_table(store: Store, view: View) -> None:
    """Responses held back as suspect, per unit: a unit with many flags is itself a finding."""
    flagged = _flagged(*_key(store, view), view.period)
    with st.expander(t("dash.flagged", n=int(flagged["flagged"].sum()))):
        if flagged.empty:
            st.caption(t("dash.flagged_none"))
            return
        st.caption(t("dash.flagged_help"))
        st.dataframe(flagged, hide_index=True, column_config={
            "name": t("dash.col.unit"), "responses": t("dash.col.n"), "flagged": t("dash.col.flagged"),
            "share": st.column_config.NumberColumn(t("dash.col.flagged_share"), format="%.2f %%"),
            "reasons": t("dash.col.reasons")})


def _elements_tab(store: Store, view: View, results: Results) -> None:
    frame, order = frames.element_frame(_children(store, view, results), results.instrument)
    names = frames.element_names(results.instrument)
    if view.level == "counter" or not order:
        st.info(t("dash.elements_none"))
    else:
        st.caption(t("dash.heatmap_help") + " " + "; ".join(f"{code}: {name}" for code, name in names.items()))
        _chart(store, charts.element_heatmap(frame, order), "thanh-phan", view)
    _drill(store, view, results)


def _drill(store: Store, view: View, results: Results) -> None:
    """The level below as a table; choosing a row opens it (province → block → unit → counter)."""
    st.subheader(t("dash.drill", where=_where(view)))
    if view.level != "province" and st.button(t("dash.drill_up"), icon=":material/arrow_upward:"):
        up = {"block": {BLOCK: ALL}, "unit": {UNIT: ALL, COUNTER: ALL}, "counter": {COUNTER: ALL}}[view.level]
        st.session_state[DRILL] = up
        st.rerun(scope="app")
    counters = _counters(*_key(store, view), view.period, view.instrument_id) if view.level == "unit" else None
    rows = frames.drill_rows(view.level, results, counters)
    if rows is None:
        st.caption(t("dash.drill_bottom"))
        return
    picked = _grid(frames.drill_frame(rows), on_select="rerun",
                          selection_mode="single-row",
                          key=f"drill_{view.level}_{view.block}_{view.unit.unit_id if view.unit else ''}",
                          column_config={"name": t("dash.col.name"), "sipas": "SIPAS", "moe": "±",
                                         "n": t("dash.col.n")})
    if picked.selection.rows:
        level, key = rows[picked.selection.rows[0]].opens
        st.session_state[DRILL] = {FILTER_KEYS[level]: key}
        st.rerun(scope="app")


def _items_tab(store: Store, view: View, results: Results) -> None:
    frame = frames.answer_distribution(results)
    if frame["count"].sum() == 0:
        st.info(t("dash.empty.chart"))
        return
    st.caption(t("dash.items_help"))
    _chart(store, charts.answer_bars(frame), "cau-tra-loi", view)
    legend = frame.drop_duplicates("item_id")[["item_id", "item"]]
    with st.expander(t("dash.items_legend")):
        st.dataframe(legend, hide_index=True, column_config={"item_id": t("dash.col.code"), "item": t("dash.col.item")})


def _trend_tab(store: Store, view: View, results: Results) -> None:
    grain = st.segmented_control(t("dash.grain"), live.TREND_GRAINS, default="week", key=GRAIN, required=True,
                                 format_func=lambda g: t(f"dash.grain.{g}"))
    with st.spinner(t("dash.trend_wait")):  # margins per week cost seconds on a large database, once
        points = _trend(*_key(store, view), view.period, grain, view.instrument_id)
    if points:
        st.caption(t("dash.trend_help", previous=view.period.previous().title()))
        _chart(store, charts.trend(pd.DataFrame(points), view.period.first), f"xu-huong-{grain}", view)
    hours = _hours(*_key(store, view), view.period, view.instrument_id)
    if hours.empty:
        st.info(t("dash.empty.chart"))
        return
    left, right = st.columns(2)
    with left:
        _chart(store, charts.hour_weekday(hours, "responses", t("dash.responses"), "blues"), "gio-phieu", view)
    with right:
        _chart(store, charts.hour_weekday(hours, "dissatisfied_pct", t("dash.dissatisfied_pct"), "reds"), "gio-khl",
               view)


def _choices_tab(store: Store, view: View, results: Results) -> None:
    for section in ("perception", "expectation"):
        st.subheader(t(f"dash.{section}"))
        frame = frames.choice_shares(results, section)
        if frame.empty:
            st.info(t("dash.empty.chart"))
        else:
            _chart(store, charts.share_bars(frame), section, view)


def _feed_tab(store: Store, view: View, results: Results) -> None:
    entries = _feed(*_key(store, view), view.period, view.instrument_id)
    if not entries:
        st.info(t("dash.feed_none"))
        return
    st.caption(t("dash.feed_help", n=len(entries)))
    # A dataframe shows citizens' words as plain text: nothing they type is read as Markdown or HTML.
    st.dataframe(frames.feed_frame(entries), hide_index=True, column_config={
        "at": st.column_config.DatetimeColumn(t("dash.col.at"), format="HH:mm DD/MM/YYYY"),
        "unit": t("dash.col.unit"), "counter": t("dash.col.counter"),
        "comment": st.column_config.TextColumn(t("dash.col.comment"), width="large"),
        "low": t("dash.col.low")})


def _files_tab(store: Store, view: View, results: Results) -> None:
    st.caption(t("dash.files_help", where=_where(view), period=view.period.title()))
    stem = f"sipas-{view.period.label}"
    # Built only when clicked: a report costs a second computation.
    st.download_button(t("dash.xlsx"), login.guarded(store, partial(workbook, results, view.rules)),
                       file_name=f"{stem}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                       icon=":material/table:")
    st.download_button(t("dash.pdf"),
                       login.guarded(store, partial(report_pdf, SlicedSource(store, view.slice), results, view.rules)),
                       file_name=f"{stem}.pdf", mime="application/pdf", on_click="ignore",
                       icon=":material/picture_as_pdf:")


# -- TV mode -----------------------------------------------------------------------------------------

@st.fragment(run_every=TV_SECONDS)
def _tv(store: Store, scope: frozenset[str] | None, period: Period, instrument_id: str) -> None:
    """One block at a time, large: its index, responses, and its ranking. Nothing citizens wrote."""
    login.guard(store)
    st.html(TV_CSS)
    results = _units(store, str(store.path), Slice().within(scope), period, instrument_id)
    screens = frames.tv_screens(results)
    if not screens:
        st.info(t("dash.empty.selection", what=t("dash.province"), period=period.title()))
        return
    turn = st.session_state.get(TV_TURN, 0)
    st.session_state[TV_TURN] = turn + 1
    screen = screens[turn % len(screens)]
    overview = summary.overview(screen.groups, results.method)
    st.title(f"{BLOCKS.get(screen.block, screen.block)} · {period.title()}")
    left, middle, right = st.columns(3)
    left.metric(t("dash.tile.sipas"), _with_margin(overview))
    middle.metric(t("dash.tile.n"), count(overview.n))
    block_units = Slice(frozenset(g.key for g in screen.groups)).within(scope)
    right.metric(t("dash.tile.today"), count(_today(store, str(store.path), block_units, instrument_id)))
    ranking = charts.ranking(frames.ranking_frame(screen.shown), bar_height=42, label_limit=640)
    st.altair_chart(charts.large(ranking), width="stretch")
    st.caption(t("dash.tv.caption", seconds=TV_SECONDS, page=f"{screen.page}/{screen.pages}"))
