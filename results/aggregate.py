"""`compute()`: every index of one period and one grouping.

DuckDB counts the respondents and choices and reduces the answers, in one scan for both periods
compared, to one packed row per respondent (tally.py); numpy counts those into item tables and
margins, and the formulas of formulas.py are applied to tables of a few thousand rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np

from results.cases import CaseStats, case_stats
from results.catalog import Catalog, load_catalog
from results.formulas import (
    as_float,
    choice_share,
    criterion_index,
    element_index,
    group_index,
    margin_of_error,
    qd766_satisfaction_ratio,
    required_sample,
    response_rate,
    unit_index,
)
from results.margins import GroupCounts, bootstrap_se, linearisation_se
from results.method import Method
from results.model import GROUPINGS, ChoiceResult, GroupResult, ItemResult, Results
from results.ranks import with_standings
from results.scope import GROUP_KEYS, Scope, Source, open_cursor
from results.tally import Tally, count_answers
from results.targets import with_outlooks
from survey_app.core import clock
from survey_app.core.config import BLOCKS, DEFAULT_INSTRUMENT
from survey_app.core.formats import number
from survey_app.core.i18n import DEFAULT_LANG, Refused, t
from survey_app.core.periods import Period, current_year, parse_period

NO_FIELD = t("results.no_field")  # the name of the group of responses that gave no field


@dataclass(frozen=True)
class _Meta:
    name: str
    block: str | None = None
    unit_id: str | None = None
    counter_id: str | None = None
    listed: bool = False  # shown even without responses (active units, blocks)


def compute(source: Source, period: Period | str | None = None, *, by: str = "unit",
            instrument_id: str = DEFAULT_INSTRUMENT, method: Method | None = None,
            include_flagged: bool = False, margins: bool = True, choices: bool = True,
            compare: bool = True, today: date | None = None) -> Results:
    """All indices of `period` (default: this year, Vietnam time) grouped `by` unit, block, counter,
    field (or month, week for trends).

    `margins`, `choices` and `compare` (ranking change against the previous period of the same
    length) can be switched off when a caller needs only the point indices, which is faster.
    By unit, ranked units get rank intervals and their standing in the block (with margins), and
    units with a target for the period's year its outlook as of `today` (default: today in Vietnam).
    """
    if by not in GROUP_KEYS:
        raise Refused("results.unknown_grouping", by=str(by)[:20], groupings=", ".join(GROUPINGS))
    period = parse_period(period) if isinstance(period, str) else period or current_year()
    method = method or Method()
    previous = period.previous() if compare and by == "unit" else None
    with open_cursor(source) as cur:
        scope = Scope(cur, period, by, instrument_id, include_flagged, previous=previous)
        groups, before, catalog = _groups(scope, method, margins=margins, choices=choices)
        if previous is not None:
            groups = _with_previous(rank_within_blocks(groups), rank_within_blocks(before))
        elif by == "unit":
            groups = rank_within_blocks(groups)
        stats = case_stats(cur, period, by)
        groups = [replace(g, cases=stats.get(g.key, CaseStats(0, 0, 0, 0, None))) if by in ("unit", "block")
                  else g for g in groups]
        if by == "unit":
            if margins:
                groups = with_standings(groups, method.confidence_z)
            groups = with_outlooks(cur, groups, period, today or clock.today(), method.confidence_z)
    return Results(
        period=period, previous_period=previous, by=by, instrument=catalog.instrument,
        instrument_versions=catalog.versions, elements=catalog.elements, method=method,
        statuses=scope.statuses, groups=tuple(groups), computed_at=clock.now(),
        notes=_notes(by, method),
    )


def _notes(by: str, method: Method, lang: str = DEFAULT_LANG) -> tuple[str, ...]:
    """How the figures were computed, for the notes of every export (the reports are in Vietnamese)."""
    notes = [
        t("results.note.indices", lang, element=t(f"results.note.element.{method.element_index}", lang)),
        t("results.note.sipas", lang, weighted=t("results.note.weighted", lang) if method.element_weights else ""),
        t("results.note.margin", lang, margin=t(f"results.margin.{method.margin}", lang),
          z=number(method.confidence_z, None)),
        t("results.note.sample", lang, e=number(method.sample_error, None), min=method.min_sample),
        t("results.note.overall", lang),
    ]
    if by == "block":
        notes.append(t("results.note.block", lang, how=t(f"results.note.block.{method.group_index}", lang)))
    return tuple(notes)


# -- the queries -----------------------------------------------------------------------------------

# Respondents of both periods (p) by group, version and channel: the responses table alone, no answers.
_RESPONDENTS = """
WITH scope AS ({scope})
SELECT g, p, version, channel, count(*) FROM scope GROUP BY g, p, version, channel
"""

_CHOICE_COUNTS = """
WITH scope AS ({scope})
SELECT s.g, c.question_id, c.option_id, count(*)
FROM choices c JOIN scope s ON s.response_id = c.response_id
WHERE s.p = 0
GROUP BY s.g, c.question_id, c.option_id
"""


def _groups(scope: Scope, method: Method, *, margins: bool,
            choices: bool) -> tuple[list[GroupResult], list[GroupResult], Catalog]:
    """The groups of the period, those of the period compared with (empty without one), and the catalog."""
    if scope.by == "block" and method.group_index == "mean":
        units, before, catalog = _groups(replace(scope, by="unit"), method, margins=margins, choices=choices)
        return blocks_from_units(units, method), blocks_from_units(before, method), catalog
    respondents = scope.query(_RESPONDENTS)
    periods = [0, 1] if scope.previous else [0]
    catalogs = [load_catalog(scope.cur, scope.instrument_id, sorted({r[2] for r in respondents if r[1] == p}), method)
                for p in periods]
    scope = replace(scope, keys=tuple(sorted({r[0] for r in respondents})),
                    versions=tuple(sorted({r[2] for r in respondents})))
    tally = count_answers(scope, catalogs)
    of = {p: [(g, *rest) for g, q, *rest in respondents if q == p] for p in periods}
    now = _period_groups(scope, catalogs[0], method, of[0], tally.of_period(0), margins=margins, choices=choices)
    if scope.previous is None:
        return now, [], catalogs[0]
    before = _period_groups(replace(scope, period=scope.previous, previous=None), catalogs[1], method, of[1],
                            tally.of_period(1), margins=False, choices=False)
    return now, before, catalogs[0]


def _period_groups(scope: Scope, catalog: Catalog, method: Method, respondents: list[tuple[Any, ...]],
                   tally: Tally, *, margins: bool, choices: bool) -> list[GroupResult]:
    """The groups of `scope.period` from its respondents (group, version, channel, count) and tally."""
    n: dict[str, int] = defaultdict(int)
    channels: dict[str, dict[str, int]] = defaultdict(dict)
    for g, _, channel, count in respondents:
        n[g] += count
        channels[g][channel] = channels[g].get(channel, 0) + count
    items = item_results(tally.item_rows(catalog), catalog)
    meta = _group_meta(scope, catalog)
    keys = sorted(set(n) | {k for k, m in meta.items() if m.listed})
    dossiers = _dossiers(scope, keys)
    counts = {g: GroupCounts(n[g], items.get(g, {}), dossiers.get(g)) for g in keys}
    se = _standard_errors(tally, catalog, method, counts) if margins else {}
    questions = _choice_results(scope.query(_CHOICE_COUNTS), catalog, n) if choices else {}
    return [
        _group_result(g, meta.get(g, _Meta(g)), counts[g], catalog, method, se.get(g),
                      questions.get(g, {}), channels.get(g, {}))
        for g in keys
    ]


def _standard_errors(tally: Tally, catalog: Catalog, method: Method,
                     counts: dict[str, GroupCounts]) -> dict[str, float | None]:
    estimate = bootstrap_se if method.margin == "bootstrap" else linearisation_se
    return estimate(tally, catalog, method, counts)


def item_results(rows: list[tuple[Any, ...]], catalog: Catalog) -> dict[str, dict[str, ItemResult]]:
    """n1…n5, N/A, satisfied and dissatisfied per group and item, each version by its own codes."""
    tallies: dict[tuple[str, str], list[tuple[str, int | None, int]]] = defaultdict(list)
    for g, version, item_id, value, count in rows:
        if (version, item_id) in catalog.codes:  # answers to items the version does not define are ignored
            tallies[g, item_id].append((version, value, count))
    out: dict[str, dict[str, ItemResult]] = defaultdict(dict)
    for (g, item_id), tally in tallies.items():
        out[g][item_id] = _item_result(item_id, tally, catalog)
    return out


def _item_result(item_id: str, tally: list[tuple[str, int | None, int]], catalog: Catalog) -> ItemResult:
    counts = dict.fromkeys(catalog.all_codes(item_id), 0)
    na = satisfied = dissatisfied = 0
    for version, value, count in tally:
        if value is None:
            na += count
            continue
        codes = catalog.codes[version, item_id]
        counts[value] = counts.get(value, 0) + count
        satisfied += count if value in codes.satisfied else 0
        dissatisfied += count if value in codes.dissatisfied else 0
    answered = sum(counts.values())
    return ItemResult(item_id, counts, na, satisfied, dissatisfied, as_float(criterion_index(satisfied, answered)))


def group_indices(items: dict[str, ItemResult], catalog: Catalog,
                  method: Method) -> tuple[dict[str, float | None], float | None]:
    """Element indices S_e and the unit SIPAS from one group's item counts."""
    pooled = method.element_index == "pooled"
    elements: dict[str, float | None] = {}
    for element_id, ids in catalog.elements:
        rated = [items[i] for i in ids if i in items]
        satisfied = np.array([i.satisfied for i in rated], dtype=float)
        answered = np.array([i.n for i in rated], dtype=float)
        elements[element_id] = as_float(element_index(satisfied, answered, pooled=pooled)) if rated else None
    values = [math.nan if v is None else v for v in elements.values()]
    sipas = as_float(unit_index(values, [method.weight(e) for e in elements]))
    return elements, sipas


def _choice_results(rows: list[tuple[Any, ...]], catalog: Catalog,
                    respondents: dict[str, int]) -> dict[str, dict[str, ChoiceResult]]:
    """Single choice (perceptions): shares of the valid answers, summing to 100. Several choices
    (expectations): share of the group's respondents choosing each option, as SIPAS.md §3 says."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for g, question_id, option_id, count in rows:
        counts[g, question_id][option_id] = count
    out: dict[str, dict[str, ChoiceResult]] = defaultdict(dict)
    questions = {q.id: q for q in catalog.instrument.questions}
    for (g, question_id), given in counts.items():
        question = questions.get(question_id)
        if question is None:  # a question a newer version dropped: nothing to present it with
            continue
        picked = {o.id: given.get(o.id, 0) for o in question.options}
        multiple = question.max_choices > 1
        base = respondents[g] if multiple else sum(picked.values())
        out[g][question_id] = ChoiceResult(question_id, question.section, multiple, base, picked,
                                           {o: choice_share(c, base) for o, c in picked.items()})
    return out


def _group_result(key: str, meta: _Meta, counts: GroupCounts, catalog: Catalog, method: Method,
                  se: float | None, questions: dict[str, ChoiceResult], channels: dict[str, int]) -> GroupResult:
    overall_id = catalog.overall_id
    index_items = {i: counts.items[i] for _, ids in catalog.elements for i in ids if i in counts.items}
    elements, sipas = group_indices(index_items, catalog, method)
    overall = counts.items.get(overall_id) if overall_id else None
    required = required_sample(counts.dossiers, method.sample_error, method.min_sample)
    return GroupResult(
        key=key, name=meta.name, block=meta.block, unit_id=meta.unit_id, counter_id=meta.counter_id,
        n=counts.n, sipas=sipas, se=se, moe=margin_of_error(None if se is None else se**2, method.confidence_z),
        elements=elements, items=index_items, overall=overall, questions=questions, channels=channels,
        dossiers=counts.dossiers, required_n=required, adequate=counts.n >= required,
        response_rate=response_rate(counts.n, counts.dossiers),
        qd766_ratio=qd766_satisfaction_ratio(overall.dissatisfied if overall else 0, counts.dossiers)
        if overall else None,
    )


# -- groups' names and dossier counts ----------------------------------------------------------------

def _group_meta(scope: Scope, catalog: Catalog) -> dict[str, _Meta]:
    """Names (and blocks) of the groups; for units, blocks and counters every active one is listed."""
    if scope.by == "unit":
        rows = scope.cur.execute("SELECT unit_id, name, block, active FROM units").fetchall()
        return {u: _Meta(name, block, u, listed=active) for u, name, block, active in rows}
    if scope.by == "block":
        return {block: _Meta(label, block, listed=True) for block, label in BLOCKS.items()}
    if scope.by == "counter":
        rows = scope.cur.execute(
            "SELECT c.unit_id, c.counter_id, u.name || ' — ' || c.name, u.block FROM counters c"
            " JOIN units u ON u.unit_id = c.unit_id").fetchall()
        return {f"{u}/{c}": _Meta(name, block, u, c) for u, c, name, block in rows}
    if scope.by == "field":
        return {f.id: _Meta(f.text["vi"]) for f in catalog.instrument.service_fields} | {"": _Meta(NO_FIELD)}
    return {}


def _dossiers(scope: Scope, keys: list[str]) -> dict[str, int]:
    """Dossier counts N of the period: the row for the period itself, else the sum of its quarters
    or months when every one of them was imported. Only units (and blocks, summed) have them."""
    if scope.by not in ("unit", "block"):
        return {}
    rows = scope.cur.execute("SELECT unit_id, period, dossiers FROM dossier_counts").fetchall()
    by_unit: dict[str, dict[str, int]] = defaultdict(dict)
    for unit_id, label, dossiers in rows:
        by_unit[unit_id][label] = dossiers
    period = scope.period
    splits = [[period.label], [f"{period.label}-Q{q}" for q in range(1, 5)] if period.kind == "year" else [],
              period.months()]
    per_unit: dict[str, int] = {}
    for unit_id, known in by_unit.items():
        split = next((s for s in splits if s and all(label in known for label in s)), None)
        if split:
            per_unit[unit_id] = sum(known[label] for label in split)
    if scope.by == "unit":
        return per_unit
    units = scope.cur.execute("SELECT unit_id, block FROM units WHERE active").fetchall()
    return {block: sum(per_unit[u] for u, b in units if b == block) for block in keys
            if all(u in per_unit for u, b in units if b == block)}


# -- blocks as the mean of their units -----------------------------------------------------------------

def blocks_from_units(units: list[GroupResult], method: Method) -> list[GroupResult]:
    """Block results as the mean of their units' results (the `group_index: mean` rule)."""
    members: dict[str, list[GroupResult]] = defaultdict(list)
    for unit in units:
        if unit.block is not None:
            members[unit.block].append(unit)
    return [_block(block, members[block], method) for block in BLOCKS if block in members]


def _mean_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return as_float(group_index(present)) if present else None


def _block(block: str, units: list[GroupResult], method: Method) -> GroupResult:
    """A block = mean of its units' indices; its variance the sum of theirs over U² (independent samples)."""
    errors = [u.se for u in units if u.sipas is not None]
    se = math.sqrt(sum(e**2 for e in errors if e is not None)) / len(errors) if errors and None not in errors else None
    n = sum(u.n for u in units)
    known = [u.dossiers for u in units if u.dossiers is not None]
    dossiers = sum(known) if len(known) == len(units) else None
    required = required_sample(dossiers, method.sample_error, method.min_sample)
    items = _merge_items([u.items for u in units])
    overall = _merge_items([{"": u.overall} for u in units if u.overall]).get("")
    return GroupResult(
        key=block, name=BLOCKS[block], block=block, unit_id=None, counter_id=None, n=n,
        sipas=_mean_of([u.sipas for u in units]), se=se,
        moe=margin_of_error(None if se is None else se**2, method.confidence_z),
        elements={e: _mean_of([u.elements.get(e) for u in units]) for e in units[0].elements},
        items=items, overall=overall, questions=_merge_questions([u.questions for u in units]),
        channels=_merge_counts([u.channels for u in units]), dossiers=dossiers, required_n=required,
        adequate=n >= required, response_rate=response_rate(n, dossiers),
        qd766_ratio=qd766_satisfaction_ratio(overall.dissatisfied, dossiers) if overall else None,
        units=len(units),
    )


def _merge_counts(parts: list[dict[Any, int]]) -> dict[Any, int]:
    total: dict[Any, int] = {}
    for part in parts:
        for key, count in part.items():
            total[key] = total.get(key, 0) + count
    return total


def _merge_items(parts: list[dict[str, ItemResult]]) -> dict[str, ItemResult]:
    """Counts summed over units; S_i the mean of the units' S_i, as the block index is a mean of units."""
    merged: dict[str, ItemResult] = {}
    for item_id in dict.fromkeys(i for part in parts for i in part):
        rows = [part[item_id] for part in parts if item_id in part]
        merged[item_id] = ItemResult(
            item_id, _merge_counts([r.counts for r in rows]), sum(r.na for r in rows),
            sum(r.satisfied for r in rows), sum(r.dissatisfied for r in rows), _mean_of([r.index for r in rows]))
    return merged


def _merge_questions(parts: list[dict[str, ChoiceResult]]) -> dict[str, ChoiceResult]:
    merged: dict[str, ChoiceResult] = {}
    for question_id in dict.fromkeys(q for part in parts for q in part):
        rows = [part[question_id] for part in parts if question_id in part]
        base, counts = sum(r.base for r in rows), _merge_counts([r.counts for r in rows])
        merged[question_id] = replace(rows[0], base=base, counts=counts,
                                      shares={o: choice_share(c, base) for o, c in counts.items()})
    return merged


# -- rankings ---------------------------------------------------------------------------------------------

def rank_within_blocks(groups: list[GroupResult]) -> list[GroupResult]:
    """Rank adequate units with an index within their block, highest first; ties share a rank.

    Ties are judged on the published two decimals, so two units shown as 85.00 share a place."""
    shown = {g.key: round(g.sipas, 2) for g in groups if g.adequate and g.sipas is not None and g.block}
    eligible = [g for g in groups if g.key in shown]
    ranks = {g.key: 1 + sum(1 for o in eligible if o.block == g.block and shown[o.key] > shown[g.key])
             for g in eligible}
    return [replace(g, rank=ranks.get(g.key)) for g in groups]


def _with_previous(groups: list[GroupResult], before: list[GroupResult]) -> list[GroupResult]:
    earlier = {g.key: g for g in before}
    return [replace(g, previous_sipas=earlier[g.key].sipas if g.key in earlier else None,
                    previous_rank=earlier[g.key].rank if g.key in earlier else None) for g in groups]
