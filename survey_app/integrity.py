"""Integrity of the numbers: flags against "làm thay, làm hộ", one response per dossier, retention.

The numbers decide people's appraisals, so staff filling in ratings for citizens must show. A flag
never deletes: the response is stored with status 'flagged' and `flag_reasons` naming each rule
that fired; indices leave it out unless an admin counts it again (status back to 'ok', reasons
kept — which is also how `scan` knows not to flag it a second time).

One function, `judge`, applies the rules to responses in time order. The writer thread calls it
through `admit` for every batch, against the rows committed before it, so concurrent submitters
cannot slip a burst past the check; `scan` calls it over what is already stored (demo data, rows
from before a rule existed). Thresholds: config.FlagRules (SIPAS_FLAG_* variables).
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import duckdb

from survey_app import config, privacy
from survey_app.config import FlagRules
from survey_app.instruments import Instrument
from survey_app.responses import InvalidResponse, ResponseRecord

if TYPE_CHECKING:
    from survey_app.store import Store

# Each reason a response can be flagged for, as an admin reads it (Vietnamese, English).
REASONS: dict[str, tuple[str, str]] = {
    "burst_client": ("Nhiều phiếu từ một thiết bị tại một quầy trong vài phút",
                     "Several responses from one device at one counter within minutes"),
    "burst_pattern": ("Nhiều phiếu giống hệt nhau tại một quầy trong vài phút",
                      "Several identical responses at one counter within minutes"),
    "repeat_client": ("Thiết bị này đã đánh giá đơn vị trong ngày",
                      "This device already rated the unit today"),
    "too_fast": ("Trả lời nhanh hơn thời gian đọc câu hỏi",
                 "Answered faster than the questions can be read"),
    "all_top_fast": ("Mọi câu đều mức cao nhất và trả lời rất nhanh",
                     "Every rating at the top of the scale, answered very quickly"),
    "outside_hours": ("Gửi ngoài giờ làm việc của đơn vị",
                      "Sent outside the unit's opening hours"),
}
RECEIPT_USED = "receipt_used"
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")  # Monday first, as datetime.weekday()
_HOURS_PART = re.compile(r"(T[2-7]|CN)(?:-(T[2-7]|CN))?\s+(.+)")
_RANGE = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
# Opening minutes (open, close) per weekday, Monday first.
Hours = tuple[tuple[tuple[int, int], ...], ...]


# -- opening hours -----------------------------------------------------------------------------------

def _minutes(hour: str, minute: str, spec: str) -> int:
    if int(hour) > 24 or int(minute) > 59:
        raise ValueError(f"giờ không hợp lệ trong {spec!r} (invalid time)")
    return int(hour) * 60 + int(minute)


@lru_cache(maxsize=64)
def parse_hours(spec: str) -> Hours:
    """'T2-T6 07:00-11:30 13:00-17:00; T7 07:30-11:30' → opening minutes per weekday."""
    days: list[list[tuple[int, int]]] = [[] for _ in WEEKDAYS]
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        match = _HOURS_PART.fullmatch(part)
        ranges = [_RANGE.fullmatch(r) for r in match[3].split()] if match else [None]
        if match is None or None in ranges or WEEKDAYS.index(match[2] or match[1]) < WEEKDAYS.index(match[1]):
            raise ValueError(f"giờ làm việc {part!r} không đúng dạng, ví dụ 'T2-T6 07:00-17:00; T7 07:30-11:30' "
                             f"(opening hours: weekday T2..T7/CN or a range, then HH:MM-HH:MM …)")
        for r in ranges:
            assert r is not None
            start, end = _minutes(r[1], r[2], spec), _minutes(r[3], r[4], spec)
            if end <= start:
                raise ValueError(f"giờ đóng cửa phải sau giờ mở cửa: {r[0]!r} (closing must follow opening)")
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

    def advance(self, at: datetime) -> None:
        """Forget what no rule can still use once a new day begins (keeps a scan's memory small)."""
        if at.date() == self.day:
            return
        self.day, self.today = at.date(), Counter()
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


# -- in the writer thread ------------------------------------------------------------------------------

def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _fact(record: ResponseRecord) -> Fact:
    assert record.submitted_at is not None  # the writer stamps it before judging
    return Fact(record.response_id, record.submitted_at.astimezone(config.TIMEZONE), record.unit_id,
                record.counter_id, record.client_hash, record.instrument_id, record.seconds_taken,
                record.answer_pattern)


FACT_COLUMNS = ("response_id, submitted_at, unit_id, counter_id, client_hash, instrument_id, seconds_taken,"
                " answer_pattern")


def _facts(rows: Iterable[Sequence[Any]]) -> list[Fact]:
    return [Fact(row[0], row[1].astimezone(config.TIMEZONE), *row[2:8]) for row in rows]


def _recent_facts(con: duckdb.DuckDBPyConnection, new: Sequence[Fact], rules: FlagRules) -> list[Fact]:
    """The committed responses the batch's rules compare with, and no more: from the same devices
    (earlier today) or with the same answers (within the burst window), at the batch's units; of
    each device and each answer set at a counter only the latest few, as no threshold needs more.
    So a flood of identical responses keeps this query small instead of slowing every commit."""
    first, last = min(f.at for f in new), max(f.at for f in new)
    window_start = first - timedelta(minutes=rules.burst_minutes)
    day_start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    units = sorted({f.unit_id for f in new})
    clients = sorted({f.client_hash for f in new if f.client_hash}) or [None]
    patterns = sorted({f.pattern for f in new if f.pattern}) if rules.burst_pattern else [None]
    latest = max(rules.burst_client, rules.burst_pattern, rules.repeat_client)
    rows = con.execute(
        f"SELECT {FACT_COLUMNS} FROM ("
        f" SELECT {FACT_COLUMNS},"
        "  row_number() OVER (PARTITION BY unit_id, counter_id, client_hash ORDER BY submitted_at DESC) AS nth_device,"
        "  row_number() OVER (PARTITION BY unit_id, counter_id, answer_pattern ORDER BY submitted_at DESC) AS nth_same"
        "  FROM responses"
        f" WHERE unit_id IN ({_placeholders(units)}) AND submitted_at >= ? AND submitted_at <= ?"
        f"  AND (client_hash IN ({_placeholders(clients)})"
        f"       OR (submitted_at >= ? AND answer_pattern IN ({_placeholders(patterns)})))"
        ") AS recent WHERE nth_device <= ? OR nth_same <= ?",
        [*units, min(window_start, day_start) if rules.repeat_client else window_start, last, *clients,
         window_start, *patterns, latest, latest],
    ).fetchall()
    return _facts(rows)


def _unit_hours(con: duckdb.DuckDBPyConnection, unit_ids: Sequence[str]) -> dict[str, str]:
    return dict(con.execute(f"SELECT unit_id, hours FROM opening_hours WHERE unit_id IN ({_placeholders(unit_ids)})",
                            list(unit_ids)).fetchall())


def _receipt_key() -> bytes:
    # links imports the store, which imports this module: hence the late import.
    from survey_app import links

    ring = links.load_keys()
    return ring.keys[min(ring.keys)]  # the first key: a hash must not change when keys rotate


def _claim_receipts(con: duckdb.DuckDBPyConnection,
                    records: Sequence[ResponseRecord]) -> list[ResponseRecord | InvalidResponse]:
    """Refuse a dossier code used before (or earlier in the batch); claim the others' codes."""
    if not any(r.receipt for r in records):
        return list(records)
    key = _receipt_key()
    hashes = {r.response_id: privacy.receipt_hash(r.receipt, key) for r in records if r.receipt}
    used = {row[0] for row in con.execute(
        f"SELECT receipt_hash FROM receipts WHERE receipt_hash IN ({_placeholders(list(hashes.values()))})",
        list(hashes.values())).fetchall()}
    outcomes: list[ResponseRecord | InvalidResponse] = []
    for record in records:
        digest = hashes.get(record.response_id)
        if digest in used:
            outcomes.append(InvalidResponse("receipt", RECEIPT_USED, "this dossier code has already been used"))
            continue
        if digest is not None:
            used.add(digest)
            con.execute("INSERT INTO receipts (receipt_hash, unit_id, response_id, used_at) VALUES (?, ?, ?, ?)",
                        [digest, record.unit_id, record.response_id, record.submitted_at])
        outcomes.append(record)
    return outcomes


def admit(con: duckdb.DuckDBPyConnection, records: Sequence[ResponseRecord], instruments: Mapping[str, Instrument],
          rules: FlagRules) -> list[ResponseRecord | InvalidResponse]:
    """The batch's new responses, each judged (status, flag_reasons) against the committed ones
    before it, or refused when its dossier code was used before. Runs in the writer's transaction."""
    outcomes = _claim_receipts(con, records)
    new = [_fact(r) for r in outcomes if isinstance(r, ResponseRecord)]
    if not new:
        return outcomes
    units = sorted({f.unit_id for f in new})
    context = Context(rules, {i.id: top_pattern(i) for i in instruments.values()}, _unit_hours(con, units))
    facts = sorted([*_recent_facts(con, new, rules), *new], key=lambda f: f.at)
    verdicts = {f.response_id: reasons for f, reasons in judge(facts, context, {f.response_id for f in new})}
    return [replace(r, status="flagged", flag_reasons=",".join(verdicts[r.response_id]))
            if isinstance(r, ResponseRecord) and verdicts[r.response_id] else r for r in outcomes]


# -- over stored data ---------------------------------------------------------------------------------

def fill_patterns(con: duckdb.DuckDBPyConnection, instruments: Mapping[str, Instrument]) -> None:
    """ResponseRecord.answer_pattern for rows written in bulk, from the answers table.

    One conditional aggregate per item of the instrument, in item-id order: an aggregate with its
    own ORDER BY (string_agg … ORDER BY) needs tens of GB for a million responses.
    """
    for instrument in instruments.values():
        items = sorted(instrument.answer_items)
        ratings = ", ".join(["coalesce(CAST(max(value) FILTER (WHERE item_id = ?) AS VARCHAR), '-')"] * len(items))
        con.execute(
            "UPDATE responses SET answer_pattern = p.pattern"
            f" FROM (SELECT response_id, concat({ratings}) AS pattern FROM answers"
            "       WHERE response_id IN (SELECT response_id FROM responses"
            "                             WHERE answer_pattern IS NULL AND instrument_id = ?)"
            "       GROUP BY response_id) AS p"
            " WHERE responses.response_id = p.response_id",
            [*items, instrument.id],
        )


def _audit(con: duckdb.DuckDBPyConnection, action: str, detail: str) -> None:
    from survey_app import audit  # it imports the store, which imports this module

    audit.record(con, "integrity", action, None, detail)


@dataclass(frozen=True)
class ScanResult:
    examined: int
    flagged: int
    reasons: dict[str, int]
    seconds: float

    def __str__(self) -> str:
        why = ", ".join(f"{reason} {n}" for reason, n in sorted(self.reasons.items())) or "—"
        return (f"Đã xét {self.examined} phiếu, gắn cờ thêm {self.flagged} phiếu đáng ngờ ({why}) trong "
                f"{self.seconds:.1f} s (examined {self.examined}, newly flagged {self.flagged})")


def _flag(con: duckdb.DuckDBPyConnection, verdicts: Sequence[tuple[Any, str]], chunk: int = 500) -> None:
    for start in range(0, len(verdicts), chunk):
        part = verdicts[start:start + chunk]
        con.execute(
            "UPDATE responses SET status = 'flagged', flag_reasons = f.reasons"
            f" FROM (VALUES {', '.join(['(?, ?)'] * len(part))}) AS f(response_id, reasons)"
            " WHERE responses.response_id = CAST(f.response_id AS UUID)"
            "  AND responses.status = 'ok' AND responses.flag_reasons IS NULL",  # never undo an admin's review
            [v for row in part for v in (str(row[0]), row[1])],
        )


def scan(store: Store) -> ScanResult:
    """Judge every stored response as `submit` would have, and flag the suspect ones never judged
    (status 'ok' without reasons). Run it after importing or generating data in bulk."""
    begun = time.perf_counter()
    store.write(lambda con: fill_patterns(con, store.instruments))
    context = Context(store.flag_rules, {i.id: top_pattern(i) for i in store.instruments.values()},
                      dict(store.query("SELECT unit_id, hours FROM opening_hours")))
    examined, verdicts = 0, []
    for (unit_id,) in store.query("SELECT DISTINCT unit_id FROM responses ORDER BY unit_id"):
        rows = store.query(f"SELECT {FACT_COLUMNS}, status = 'ok' AND flag_reasons IS NULL FROM responses"
                           " WHERE unit_id = ? ORDER BY submitted_at, response_id", [unit_id])
        unjudged = {row[0] for row in rows if row[8]}
        examined += len(rows)
        verdicts += [(f.response_id, ",".join(reasons)) for f, reasons in judge(_facts(rows), context, unjudged)
                     if reasons]
    reasons = Counter(reason for _, found in verdicts for reason in found.split(","))

    def work(con: duckdb.DuckDBPyConnection) -> None:
        _flag(con, verdicts)
        if verdicts:
            _audit(con, "integrity.scan", f"{len(verdicts)} phiếu gắn cờ: {dict(sorted(reasons.items()))}")

    store.write(work)
    return ScanResult(examined, len(verdicts), dict(reasons), time.perf_counter() - begun)


def set_opening_hours(store: Store, unit_id: str, spec: str | None) -> None:
    """A unit's own opening hours; None or "" returns it to SIPAS_FLAG_OPENING_HOURS."""
    if spec:
        parse_hours(spec)  # refuse a bad spelling before anything is written

    def work(con: duckdb.DuckDBPyConnection) -> None:
        if not con.execute("SELECT count(*) FROM units WHERE unit_id = ?", [unit_id]).fetchone()[0]:
            raise ValueError(f"không có đơn vị mã {unit_id!r} (unknown unit)")
        con.execute("DELETE FROM opening_hours WHERE unit_id = ?", [unit_id])
        if spec:
            con.execute("INSERT INTO opening_hours (unit_id, hours) VALUES (?, ?)", [unit_id, spec])

    store.write(work)


@dataclass(frozen=True)
class FlaggedShare:
    """How many of a unit's responses in a period are flagged, and why (a unit with many is a finding)."""

    unit_id: str
    name: str | None
    block: str | None
    responses: int
    flagged: int
    share: float  # percent of the unit's responses
    reasons: dict[str, int]


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=config.TIMEZONE)


class Readable(Protocol):
    """A store, or a view of part of it (the dashboard's slice for a leader's units)."""

    def cursor(self) -> duckdb.DuckDBPyConnection: ...


def flagged_share(source: Readable, period_from: date, period_to: date) -> list[FlaggedShare]:
    """Per unit with responses from `period_from` to `period_to` (Vietnam dates, both included):
    responses, flagged ones, their share in percent and the reasons; highest share first."""
    bounds = [_day_start(period_from), _day_start(period_to + timedelta(days=1))]
    with source.cursor() as cur:
        totals = cur.execute(
            "SELECT r.unit_id, u.name, u.block, count(*), count(*) FILTER (WHERE r.status = 'flagged')"
            " FROM responses r LEFT JOIN units u ON u.unit_id = r.unit_id"
            " WHERE r.submitted_at >= ? AND r.submitted_at < ? GROUP BY r.unit_id, u.name, u.block", bounds).fetchall()
        found = cur.execute(
            "SELECT unit_id, flag_reasons, count(*) FROM responses"
            " WHERE submitted_at >= ? AND submitted_at < ? AND status = 'flagged' GROUP BY unit_id, flag_reasons",
            bounds).fetchall()
    reasons: dict[str, Counter[str]] = {}
    for unit_id, listed, n in found:
        for reason in (listed or "").split(","):
            reasons.setdefault(unit_id, Counter())[reason] += n
    shares = [FlaggedShare(unit_id, name, block, n, flagged, 100 * flagged / n, dict(reasons.get(unit_id, {})))
              for unit_id, name, block, n, flagged in totals]
    return sorted(shares, key=lambda s: (-s.share, s.unit_id))


def purge_contacts(store: Store, *, days: float | None = None, now: datetime | None = None) -> int:
    """Delete contact details older than the retention period (SIPAS_CONTACT_RETENTION_DAYS); the
    responses themselves stay. Returns how many were deleted."""
    days = config.CONTACT_RETENTION_DAYS if days is None else days
    if days < 0:
        raise ValueError("số ngày lưu giữ phải không âm (retention days must not be negative)")
    cutoff = (now or datetime.now(config.TIMEZONE)) - timedelta(days=days)

    def work(con: duckdb.DuckDBPyConnection) -> int:
        count = con.execute("SELECT count(*) FROM contacts WHERE consent_at < ?", [cutoff]).fetchone()[0]
        if count:
            con.execute("DELETE FROM contacts WHERE consent_at < ?", [cutoff])
            _audit(con, "contacts.purge", f"{count} liên hệ trước {cutoff:%Y-%m-%d %H:%M} (retention {days:g} days)")
        return count

    return store.write(work)
