"""Opening cases in the writer: a hook after the integrity rules, on the writer's connection and
inside its transaction, so a case exists exactly when its response does.

A retried submit never reaches the hook (the store answers it from the stored response), the
single writer orders concurrent submitters, and `cases.response_id` is UNIQUE besides.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

import duckdb

from survey_app.cases.rules import OPEN, Calendar, dissatisfied_by_item, due_at, new_code, opens_case, rules_from
from survey_app.core.config import CaseRules
from survey_app.core.instruments import Instrument
from survey_app.core.responses import ResponseRecord
from survey_app.db.store import insert_rows

CASE_COLUMNS = ("case_id", "code", "response_id", "unit_id", "status", "opened_at", "due_at")
SYSTEM_ACTOR = "system"


def read_rules(con: duckdb.DuckDBPyConnection) -> tuple[CaseRules, Calendar]:
    """The rules in force (config's defaults with the admin's overrides) and the working calendar."""
    rules = rules_from(dict(con.execute("SELECT name, value FROM case_rules").fetchall()))
    holidays: frozenset[date] = frozenset(row[0] for row in con.execute("SELECT day FROM holidays").fetchall())
    return rules, Calendar(holidays, rules.weekend_days)


def _opens(record: ResponseRecord, instruments: Mapping[str, Instrument], rules: CaseRules) -> bool:
    instrument = instruments.get(record.instrument_id)
    if instrument is None:
        return False
    return opens_case(record.answers, dissatisfied_by_item(instrument, rules), has_comment=bool(record.comment),
                      has_contact=bool(record.contact_phone), rules=rules)


def open_cases(con: duckdb.DuckDBPyConnection, records: Sequence[ResponseRecord],
               instruments: Mapping[str, Instrument]) -> list[tuple[uuid.UUID, str]]:
    """Open a case for each new response that calls for one; (response_id, code) of each opened."""
    if not records:
        return []
    rules, calendar = read_rules(con)
    chosen = [r for r in records if _opens(r, instruments, rules)]
    if not chosen:
        return []
    rows = []
    for record in chosen:
        assert record.submitted_at is not None  # stamped by the writer before the hook runs
        rows.append((uuid.uuid4(), new_code(), record.response_id, record.unit_id, OPEN, record.submitted_at,
                     due_at(record.submitted_at, rules.deadline_days, calendar)))
    insert_rows(con, "cases", CASE_COLUMNS, rows)
    insert_rows(con, "audit_log", ("logged_at", "actor", "action", "target", "detail"),
                [(row[5], SYSTEM_ACTOR, "case.open", str(row[0]), f"unit={row[3]}") for row in rows])
    return [(row[2], row[1]) for row in rows]


def open_missing(con: duckdb.DuckDBPyConnection, instruments: Mapping[str, Instrument]) -> list[uuid.UUID]:
    """Open the cases that responses written in bulk (demo, imports) call for but have not got:
    what the writer's hook does for each submit, for rows that never went through it."""
    rules, calendar = read_rules(con)
    # (instrument, item, rating) of every dissatisfied answer, as a table to join the answers with.
    bad = [(i.id, item, code) for i in instruments.values()
           for item, codes in dissatisfied_by_item(i, rules).items() for code in sorted(codes)]
    if not bad:
        return []
    needs = {"comment": "EXISTS (SELECT 1 FROM comments m WHERE m.response_id = r.response_id)",
             "comment_or_contact": "(EXISTS (SELECT 1 FROM comments m WHERE m.response_id = r.response_id)"
                                   " OR EXISTS (SELECT 1 FROM contacts p WHERE p.response_id = r.response_id))",
             "none": "TRUE"}[rules.needs]
    rows = con.execute(
        "SELECT r.response_id, r.unit_id, r.submitted_at FROM responses r"
        f" WHERE r.status <> 'excluded' AND {needs}"
        " AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.response_id = r.response_id)"
        " AND EXISTS (SELECT 1 FROM answers a"
        f"  JOIN (VALUES {', '.join(['(?, ?, ?)'] * len(bad))}) AS d(instrument_id, item_id, code)"
        "   ON d.item_id = a.item_id AND d.code = a.value"
        "  WHERE a.response_id = r.response_id AND d.instrument_id = r.instrument_id)"
        " ORDER BY r.submitted_at",
        [value for row in bad for value in row]).fetchall()
    cases = [(uuid.uuid4(), new_code(), rid, unit_id, OPEN, at, due_at(at, rules.deadline_days, calendar))
             for rid, unit_id, at in rows]
    insert_rows(con, "cases", CASE_COLUMNS, cases)
    insert_rows(con, "audit_log", ("logged_at", "actor", "action", "target", "detail"),
                [(row[5], SYSTEM_ACTOR, "case.open", str(row[0]), f"unit={row[3]} bulk") for row in cases])
    return [row[0] for row in cases]
