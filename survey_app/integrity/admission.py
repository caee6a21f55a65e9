"""What the writer thread runs for every batch: the integrity rules judged against the responses
committed before it, and dossier codes (receipts) claimed once. Works on the writer's connection,
inside its transaction, so concurrent submitters cannot slip a burst past the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import duckdb

from survey_app.core import config, keys, privacy
from survey_app.core.config import FlagRules
from survey_app.core.instruments import Instrument
from survey_app.core.responses import InvalidResponse, ResponseRecord
from survey_app.integrity.rules import Context, Fact, judge, top_pattern

RECEIPT_USED = "receipt_used"  # the refusal of a dossier code used before

def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _fact(record: ResponseRecord) -> Fact:
    assert record.submitted_at is not None  # the writer stamps it before judging
    return Fact(record.response_id, record.submitted_at.astimezone(config.TIMEZONE), record.unit_id,
                record.counter_id, record.client_hash, record.instrument_id, record.seconds_taken,
                record.answer_pattern, record.address_hash)


FACT_COLUMNS = ("response_id, submitted_at, unit_id, counter_id, client_hash, instrument_id, seconds_taken,"
                " answer_pattern, address_hash")
FACT_WIDTH = FACT_COLUMNS.count(",") + 1


def facts_from_rows(rows: Iterable[Sequence[Any]]) -> list[Fact]:
    return [Fact(row[0], row[1].astimezone(config.TIMEZONE), *row[2:FACT_WIDTH]) for row in rows]


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
    addresses = sorted({f.address_hash for f in new if f.address_hash}) if rules.repeat_address else []
    patterns = sorted({f.pattern for f in new if f.pattern}) if rules.burst_pattern else [None]
    latest = max(rules.burst_client, rules.burst_pattern, rules.repeat_client, rules.repeat_address)
    rows = con.execute(
        f"SELECT {FACT_COLUMNS} FROM ("
        f" SELECT {FACT_COLUMNS},"
        "  row_number() OVER (PARTITION BY unit_id, counter_id, client_hash ORDER BY submitted_at DESC) AS nth_device,"
        "  row_number() OVER (PARTITION BY unit_id, counter_id, answer_pattern ORDER BY submitted_at DESC) AS nth_same,"
        "  row_number() OVER (PARTITION BY unit_id, address_hash ORDER BY submitted_at DESC) AS nth_address"
        "  FROM responses"
        f" WHERE unit_id IN ({_placeholders(units)}) AND submitted_at >= ? AND submitted_at <= ?"
        f"  AND (client_hash IN ({_placeholders(clients)})"
        f"       OR (submitted_at >= ? AND answer_pattern IN ({_placeholders(patterns)}))"
        f"       OR address_hash IN ({_placeholders(addresses or [None])}))"
        ") AS recent WHERE nth_device <= ? OR nth_same <= ? OR (address_hash IS NOT NULL AND nth_address <= ?)",
        [*units, min(window_start, day_start) if rules.repeat_client or addresses else window_start, last,
         *clients, window_start, *patterns, *(addresses or [None]), latest, latest, latest],
    ).fetchall()
    return facts_from_rows(rows)


def _unit_hours(con: duckdb.DuckDBPyConnection, unit_ids: Sequence[str]) -> dict[str, str]:
    return dict(con.execute(f"SELECT unit_id, hours FROM opening_hours WHERE unit_id IN ({_placeholders(unit_ids)})",
                            list(unit_ids)).fetchall())


def _claim_receipts(con: duckdb.DuckDBPyConnection,
                    records: Sequence[ResponseRecord]) -> list[ResponseRecord | InvalidResponse]:
    """Refuse a dossier code used before (or earlier in the batch); claim the others' codes."""
    if not any(r.receipt for r in records):
        return list(records)
    key = keys.first_key()
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


