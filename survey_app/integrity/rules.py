"""Integrity of the numbers: the rules against "làm thay, làm hộ", as pure functions.

The numbers decide people's appraisals, so staff filling in ratings for citizens must show. A flag
never deletes: the response is stored with status 'flagged' and `flag_reasons` naming each rule
that fired; indices leave it out unless an admin counts it again (status back to 'ok', reasons
kept — which is also how `scan` knows not to flag it a second time).

One function, `judge`, applies the rules to responses in time order: the writer thread through
`integrity.admission.admit` for every batch, `integrity.maintenance.scan` over what is stored.
Thresholds: config.FlagRules (SIPAS_FLAG_* variables). No database, no Streamlit here.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Container, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from survey_app.core.config import FlagRules
from survey_app.core.formats import WEEKDAYS
from survey_app.core.i18n import Refused
from survey_app.core.instruments import Instrument

_HOURS_PART = re.compile(r"(T[2-7]|CN)(?:-(T[2-7]|CN))?\s+(.+)")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
# Opening minutes (open, close) per weekday, Monday first.
Hours = tuple[tuple[tuple[int, int], ...], ...]


# -- opening hours -----------------------------------------------------------------------------------

def _minutes(hour: str, minute: str, spec: str) -> int:
    if int(hour) > 24 or int(minute) > 59:
        raise Refused("hours.bad_time", spec=spec)
    return int(hour) * 60 + int(minute)


@lru_cache(maxsize=64)
def parse_hours(spec: str) -> Hours:
    """'T2-T6 07:00-11:30 13:00-17:00; T7 07:30-11:30' → opening minutes per weekday."""
    days: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        match = _HOURS_PART.fullmatch(part)
        ranges = [_RANGE.fullmatch(r) for r in match[3].split()] if match else [None]
        if match is None or None in ranges or WEEKDAYS.index(match[2] or match[1]) < WEEKDAYS.index(match[1]):
            raise Refused("hours.bad_spelling", part=part)
        for r in ranges:
            assert r is not None
            start, end = _minutes(r[1], r[2], spec), _minutes(r[3], r[4], spec)
            if end <= start:
                raise Refused("hours.close_before_open", range=r[0])
            for day in range(WEEKDAYS.index(match[1]), WEEKDAYS.index(match[2] or match[1]) + 1):
                days[day].append((start, end))
    return tuple(tuple(sorted(day)) for day in days)


def _outside(local: datetime, hours: Hours, grace_minutes: float) -> bool:
    minute = local.hour * 60 + local.minute + local.second / 60
    return not any(start <= minute <= end + grace_minutes for start, end in hours[local.weekday()])


# -- the rules ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Fact:
    """What the rules look at in one response."""

    response_id: Any
    at: datetime  # Vietnam time
    unit_id: str
    counter_id: str | None
    client_hash: str | None
    instrument_id: str
    seconds_taken: float | None
    pattern: str | None  # ResponseRecord.answer_pattern
    address_hash: str | None = None  # the client address alone (privacy.address_hash)


@dataclass(frozen=True)
class Context:
    """What the rules need besides the responses: thresholds, scales, opening hours."""

    rules: FlagRules
    tops: Mapping[str, str]  # instrument id → the pattern of every rating at the top of its scale
    unit_hours: Mapping[str, str] = field(default_factory=dict)  # units with hours of their own

    def hours(self, unit_id: str) -> Hours | None:
        spec = self.unit_hours.get(unit_id, self.rules.opening_hours)
        return parse_hours(spec) if spec else None


def top_pattern(instrument: Instrument) -> str:
    return "".join(str(max(item.scale.codes)) for _, item in sorted(instrument.answer_items.items()))


class _Memory:
    """The recent responses the burst and repeat rules compare with; fed in time order."""

    def __init__(self, window_seconds: float) -> None:
        self.window = window_seconds
        self.devices: dict[tuple[Any, ...], deque[float]] = {}
        self.patterns: dict[tuple[Any, ...], deque[float]] = {}
        self.day: date | None = None
        self.today: Counter[tuple[str, str]] = Counter()
        self.addresses: Counter[tuple[str, str]] = Counter()  # (unit, address hash) → responses today

    def advance(self, at: datetime) -> None:
        """Forget what no rule can still use once a new day begins (keeps a scan's memory small)."""
        if at.date() == self.day:
            return
        self.day, self.today, self.addresses = at.date(), Counter(), Counter()
        horizon = at.timestamp() - self.window
        for table in (self.devices, self.patterns):
            for key in [k for k, times in table.items() if times[-1] < horizon]:
                del table[key]

    def recent(self, table: dict[tuple[Any, ...], deque[float]], key: tuple[Any, ...], now: float) -> int:
        times = table.get(key)
        while times and times[0] < now - self.window:
            times.popleft()
        return len(times) if times else 0

    def add(self, fact: Fact) -> None:
        now = fact.at.timestamp()
        if fact.client_hash:
            self.devices.setdefault(_device(fact), deque()).append(now)
            self.today[fact.unit_id, fact.client_hash] += 1
        if fact.address_hash:
            self.addresses[fact.unit_id, fact.address_hash] += 1
        if fact.pattern:
            self.patterns.setdefault(_same_answers(fact), deque()).append(now)


def _device(fact: Fact) -> tuple[Any, ...]:
    return fact.unit_id, fact.counter_id, fact.client_hash


def _same_answers(fact: Fact) -> tuple[Any, ...]:
    return fact.unit_id, fact.counter_id, fact.instrument_id, fact.pattern


def _speed_reasons(fact: Fact, rules: FlagRules, top: str | None) -> list[str]:
    if fact.seconds_taken is None or not fact.pattern:
        return []
    answered = len(fact.pattern) - fact.pattern.count("-")
    if not rules.speed_min_items or answered < rules.speed_min_items:
        return []
    found = []
    if fact.seconds_taken < answered * rules.min_seconds_per_item:
        found.append("too_fast")
    all_top = top is not None and len(top) == len(fact.pattern) and all(
        mine in ("-", best) for mine, best in zip(fact.pattern, top, strict=True))
    if all_top and fact.seconds_taken < answered * rules.all_top_seconds_per_item:
        found.append("all_top_fast")
    return found


def _reasons(fact: Fact, memory: _Memory, context: Context) -> tuple[str, ...]:
    rules, now, found = context.rules, fact.at.timestamp(), []
    if fact.client_hash:
        if rules.burst_client and memory.recent(memory.devices, _device(fact), now) + 1 >= rules.burst_client:
            found.append("burst_client")
        if rules.repeat_client and memory.today[fact.unit_id, fact.client_hash] >= rules.repeat_client:
            found.append("repeat_client")
    if fact.address_hash and rules.repeat_address and \
            memory.addresses[fact.unit_id, fact.address_hash] >= rules.repeat_address:
        found.append("repeat_address")
    if fact.pattern and rules.burst_pattern and \
            memory.recent(memory.patterns, _same_answers(fact), now) + 1 >= rules.burst_pattern:
        found.append("burst_pattern")
    found += _speed_reasons(fact, rules, context.tops.get(fact.instrument_id))
    hours = context.hours(fact.unit_id)
    if hours is not None and _outside(fact.at, hours, rules.after_hours_grace_minutes):
        found.append("outside_hours")
    return tuple(found)


def judge(facts: Iterable[Fact], context: Context,
          targets: Container[Any] | None = None) -> Iterator[tuple[Fact, tuple[str, ...]]]:
    """Each target (None: every fact) with the reasons it is suspect, judged against the facts
    before it. `facts` must come in time order; a response is compared with earlier ones only."""
    memory = _Memory(context.rules.burst_minutes * 60)
    for fact in facts:
        memory.advance(fact.at)
        if targets is None or fact.response_id in targets:
            yield fact, _reasons(fact, memory, context)
        memory.add(fact)
