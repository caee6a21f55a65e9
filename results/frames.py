"""The tables the dashboard draws, from `Results` (no query of their own): answer distributions,
choice shares, rankings and their TV screens, the element heat map, the drill-down one level down,
the feed. Plain pandas frames with stable columns, so the page only draws them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from results.catalog import item_codes
from results.formulas import choice_share
from results.live import FeedEntry
from results.model import GroupResult, Results
from results.priorities import UnitPriorities
from results.summary import Overview, overview
from survey_app.core.config import BLOCKS
from survey_app.core.instruments import Instrument

RANKING_COLUMNS = ("rank", "name", "sipas", "moe", "n", "change", "previous_rank", "ranked", "rank_low", "rank_high",
                   "rank_band", "vs_block", "cases_opened", "cases_on_time_pct", "cases_median_hours")
TV_ROWS = 12  # units per TV screen: large type across a room
# The levels of the drill-down, top first; each row of a level opens a filter of the level below.
LEVELS = ("province", "block", "unit", "counter")


# -- answers and choices -------------------------------------------------------------------------

def answer_distribution(results: Results) -> pd.DataFrame:
    """Per item (questionnaire order) and code: answers summed over the groups, each code's share of
    the item's ratings, its side (-1 dissatisfied, 0 neutral, 1 satisfied, by the rule set) and its
    label; N/A as code None with its share of all the item's answers, to be shown apart."""
    counts: dict[str, dict[int | None, int]] = {}
    for g in results.groups:
        for item in [*g.items.values(), *([g.overall] if g.overall else [])]:
            tally = counts.setdefault(item.item_id, {})
            for code, count in [*item.counts.items(), (None, item.na)]:
                tally[code] = tally.get(code, 0) + count
    rows = []
    for order, (item_id, item) in enumerate(results.instrument.answer_items.items()):
        tally = counts.get(item_id, {})
        codes = item_codes(item, results.instrument.id, results.method)
        labels = dict(item.scale.options)
        rated = sum(n for code, n in tally.items() if code is not None)
        for code in (*codes.codes, None):
            count = tally.get(code, 0)
            base = rated if code is not None else rated + count
            side = 1 if code in codes.satisfied else -1 if code in codes.dissatisfied else 0
            label = labels[code]["vi"] if code is not None else (item.na_text or {"vi": "N/A"})["vi"]
            rows.append((order, item_id, item.text["vi"], code, label, side, count,
                         100.0 * count / base if base else None))
    return pd.DataFrame(rows, columns=["order", "item_id", "item", "code", "label", "side", "count", "share"])


def choice_shares(results: Results, section: str) -> pd.DataFrame:
    """Perceptions or expectations over the groups: per question and option, count and share of the
    question's base (its valid answers; its respondents when several options may be chosen),
    ranked within each question."""
    answered: dict[str, int] = {}
    picked: dict[tuple[str, str], int] = {}
    for g in results.groups:
        for question in g.section(section).values():
            answered[question.question_id] = answered.get(question.question_id, 0) + question.base
            for option, count in question.counts.items():
                picked[question.question_id, option] = picked.get((question.question_id, option), 0) + count
    rows = []
    for (question_id, option_id), count in picked.items():
        question = results.instrument.question(question_id)
        texts = {o.id: o.text["vi"] for o in question.options} if question else {}
        rows.append((question_id, question.text["vi"] if question else question_id, option_id,
                     texts.get(option_id, option_id), count, choice_share(count, answered[question_id])))
    frame = pd.DataFrame(rows, columns=["question_id", "question", "option_id", "option", "count", "share"])
    return frame.sort_values(["question_id", "share"], ascending=[True, False], ignore_index=True)


# -- rankings --------------------------------------------------------------------------------------

def ranking_frame(groups: Sequence[GroupResult]) -> pd.DataFrame:
    """One row per group with RANKING_COLUMNS; `ranked` is False for a group without a rank."""
    rows = [(g.rank, g.name, g.sipas, g.moe, g.n, g.change, g.previous_rank, g.rank is not None, g.rank_low,
             g.rank_high, g.rank_band, g.vs_block,
             *((g.cases.opened, g.cases.on_time_pct, g.cases.median_hours) if g.cases else (None, None, None)))
            for g in groups]
    frame = pd.DataFrame(rows, columns=list(RANKING_COLUMNS))
    # None → NaN, printed "–"
    return frame.astype({"rank": float, "previous_rank": float, "rank_low": float, "rank_high": float,
                         "rank_band": float})


def priority_frame(unit: UnitPriorities) -> pd.DataFrame:
    """One row per element of a unit's priorities, fix-first first (the chart and table draw it)."""
    rows = [(e.priority, e.element, e.name, e.performance, e.importance, e.importance_low, e.importance_high,
             e.potential, e.points_at_stake, e.quadrant) for e in unit.elements]
    columns = ["priority", "element", "name", "performance", "importance", "importance_low", "importance_high",
               "potential", "points_at_stake", "quadrant"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in columns[3:9]})


def first_priorities(found: Sequence[UnitPriorities]) -> pd.DataFrame:
    """Per unit the element to fix first, what improving it is worth, or why there is none."""
    rows = []
    for unit in found:
        first = next((e for e in unit.elements if e.priority == 1), None)
        rows.append((unit.name, unit.n, first.name if first else None, first.performance if first else None,
                     first.potential if first else None, first.points_at_stake if first else None, unit.note))
    frame = pd.DataFrame(rows, columns=["name", "n", "element", "performance", "potential", "points_at_stake",
                                        "note"]).astype({"performance": float, "potential": float,
                                                         "points_at_stake": float}).fillna({"element": "–", "note": ""})
    return frame.sort_values("potential", ascending=False, na_position="last", ignore_index=True)


@dataclass(frozen=True)
class TvScreen:
    """One screen of the TV mode: a block, all its units (for the headline) and those shown on it."""

    block: str
    groups: tuple[GroupResult, ...]
    shown: tuple[GroupResult, ...]
    page: int  # from 1
    pages: int  # screens of this block


def tv_screens(results: Results, rows: int = TV_ROWS) -> list[TvScreen]:
    """Each block's units with an index in the ranking chart's order, cut into screens of `rows`
    units so that the type stays large; a block without an index has no screen."""
    screens = []
    for block, groups in results.blocks().items():
        indexed = [g for g in groups if g.sipas is not None]
        shown = sorted(indexed, key=lambda g: (g.rank is None, g.rank or 0, -g.sipas))  # as the chart orders
        parts = [shown[i:i + rows] for i in range(0, len(shown), rows)]
        screens += [TvScreen(block, tuple(groups), tuple(part), k, len(parts)) for k, part in enumerate(parts, start=1)]
    return screens


# -- elements and the drill-down -------------------------------------------------------------------

def element_names(instrument: Instrument) -> dict[str, str]:
    """Element id → its Vietnamese name, in the questionnaire's order."""
    return {e.id: e.text["vi"] for e in instrument.elements}


def element_frame(groups: Sequence[GroupResult], instrument: Instrument) -> tuple[pd.DataFrame, list[str]]:
    """The heat map's cells (name, element, element_name, value) of the groups with an index, and
    their names from the lowest index up."""
    names = element_names(instrument)
    indexed = [g for g in groups if g.sipas is not None]
    frame = pd.DataFrame([{"name": g.name, "element": e, "element_name": names.get(e, e), "value": v}
                          for g in indexed for e, v in g.elements.items() if v is not None],
                         columns=["name", "element", "element_name", "value"])
    return frame, [g.name for g in sorted(indexed, key=lambda g: g.sipas)]


@dataclass(frozen=True)
class DrillRow:
    """A row of the drill-down: a block, unit or counter, its headline and the filter it opens."""

    name: str
    overview: Overview
    opens: tuple[str, str]  # (level, key): ("block", "so"), ("unit", unit id) or ("counter", counter id)


def drill_rows(level: str, results: Results, counters: Results | None = None) -> list[DrillRow] | None:
    """The level below `level` (LEVELS): a province's blocks, a block's units (`results` by unit), a
    unit's counters (`counters`, by counter); None at a counter, the bottom."""
    method = results.method
    if level == "province":
        return [DrillRow(BLOCKS.get(b, b), overview(g, method), ("block", b)) for b, g in results.blocks().items()]
    if level == "block":
        return [DrillRow(g.name, overview([g], method), ("unit", g.unit_id or "")) for g in results.groups]
    if level == "unit":
        groups = counters.groups if counters is not None else ()
        return [DrillRow(g.name, overview([g], method), ("counter", g.counter_id or "")) for g in groups]
    if level == "counter":
        return None
    raise ValueError(f"level must be one of {LEVELS}")


def drill_frame(rows: Sequence[DrillRow]) -> pd.DataFrame:
    """The drill-down table: name, sipas, moe, n."""
    return pd.DataFrame([{"name": r.name, "sipas": r.overview.sipas, "moe": r.overview.moe, "n": r.overview.n}
                         for r in rows], columns=["name", "sipas", "moe", "n"])


# -- the feed --------------------------------------------------------------------------------------

def feed_frame(entries: Sequence[FeedEntry]) -> pd.DataFrame:
    """The feed as a table: at, unit, counter, comment ("" when none), low (the dissatisfied items)."""
    return pd.DataFrame([{"at": e.submitted_at, "unit": e.unit, "counter": e.counter, "comment": e.comment or "",
                          "low": ", ".join(e.dissatisfied_items)} for e in entries],
                        columns=["at", "unit", "counter", "comment", "low"])
