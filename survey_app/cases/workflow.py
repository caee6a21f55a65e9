"""Working on cases: the queue of a scope, one case with its response, and the actions (assign,
reply, close, reopen, escalate) — each written with its `audit_log` row in one transaction.

Every function that shows or changes a case takes the viewer's scope
(`survey_app.admin.accounts.scope_unit_ids`: None = every unit) and treats a case outside it as
not found, so a page cannot leak a case by its id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from survey_app.admin import audit
from survey_app.admin.accounts import User
from survey_app.cases.rules import ANSWERED, CLOSED, IN_PROGRESS, OPEN, PENDING, STATUSES, normalise_code
from survey_app.core import clock, config
from survey_app.core.i18n import Refused, pick, t
from survey_app.db.store import Readable, Store, open_cursor

Scope = frozenset[str] | None
CASE_FIELDS = ("case_id, code, response_id, unit_id, status, assignee, opened_at, due_at, replied_at, reply,"
               " closed_at, escalated_at, escalated_to")


@dataclass(frozen=True)
class Case:
    case_id: uuid.UUID
    code: str
    response_id: uuid.UUID
    unit_id: str
    status: str
    assignee: str | None
    opened_at: datetime
    due_at: datetime
    replied_at: datetime | None
    reply: str | None
    closed_at: datetime | None
    escalated_at: datetime | None
    escalated_to: str | None

    def overdue(self, now: datetime) -> bool:
        """Still waiting for the unit after its deadline."""
        return self.status in PENDING and now > self.due_at


@dataclass(frozen=True)
class PublicCase:
    """All the citizen's code shows: where the case stands and the unit's answer."""

    status: str
    reply: str | None
    replied_at: datetime | None


@dataclass(frozen=True)
class CaseDetail:
    """A case as staff work on it: the response's ratings and comment, never the device hash."""

    case: Case
    unit_name: str
    submitted_at: datetime
    counter_id: str | None
    ratings: tuple[tuple[str, str, int | None], ...]  # (item id, question text, rating)
    comment: str | None
    phone: str | None  # given with consent, only to answer this complaint
    history: tuple[audit.AuditEntry, ...]


def _in_scope(unit_id: str, scope: Scope) -> bool:
    return scope is None or unit_id in scope


def _scope_filter(scope: Scope, column: str = "unit_id") -> tuple[str, list[Any]]:
    if scope is None:
        return "TRUE", []
    if not scope:
        return "FALSE", []
    units = sorted(scope)
    return f"{column} IN ({', '.join('?' * len(units))})", units


# -- reading ---------------------------------------------------------------------------------------

def list_cases(source: Readable, scope: Scope, *, unit_id: str | None = None, overdue: bool = False,
               status: str | None = None, at: datetime | None = None, limit: int = 1000) -> list[Case]:
    """The scope's cases, overdue ones first, then by deadline."""
    at = at or clock.now()
    where, params = _scope_filter(scope)
    sql = (f"SELECT {CASE_FIELDS} FROM cases WHERE {where}"
           " AND (? IS NULL OR unit_id = ?) AND (? IS NULL OR status = ?)"
           " AND (NOT ? OR (status IN (?, ?) AND due_at < ?))"
           " ORDER BY (status IN (?, ?) AND due_at < ?) DESC, status = ?, due_at, opened_at LIMIT ?")
    with open_cursor(source) as cur:
        rows = cur.execute(sql, [*params, unit_id, unit_id, status, status, overdue, *PENDING, at,
                                 *PENDING, at, CLOSED, limit]).fetchall()
    return [Case(*row) for row in rows]


def get_case(source: Readable, case_id: uuid.UUID | str, scope: Scope) -> Case | None:
    with open_cursor(source) as cur:
        row = cur.execute(f"SELECT {CASE_FIELDS} FROM cases WHERE case_id = ?", [str(case_id)]).fetchone()
    case = Case(*row) if row else None
    return case if case and _in_scope(case.unit_id, scope) else None


def case_of_response(source: Readable, response_id: uuid.UUID | str) -> Case | None:
    """The case a response opened, if it opened one: for the thank-you page (its code and deadline)."""
    with open_cursor(source) as cur:
        row = cur.execute(f"SELECT {CASE_FIELDS} FROM cases WHERE response_id = ?", [str(response_id)]).fetchone()
    return Case(*row) if row else None


def public_url(code: str) -> str:
    """The page where the citizen reads the answer: reachable only with the code."""
    return f"{config.base_url()}/?case={code}"


def public_case(source: Readable, code: str) -> PublicCase | None:
    """What `?case=<code>` shows; None for a code that is malformed or matches no case."""
    normal = normalise_code(code)
    if normal is None:
        return None
    with open_cursor(source) as cur:
        row = cur.execute("SELECT status, reply, replied_at FROM cases WHERE code = ?", [normal]).fetchone()
    if row is None:
        return None
    status, reply, replied_at = row
    # An answer being revised after a reopen is not shown until it is sent again.
    shown = status in (ANSWERED, CLOSED)
    return PublicCase(status, reply if shown else None, replied_at if shown else None)


def case_detail(store: Store, case_id: uuid.UUID | str, scope: Scope) -> CaseDetail | None:
    case = get_case(store, case_id, scope)
    if case is None:
        return None
    rid = str(case.response_id)
    with open_cursor(store) as cur:
        submitted_at, counter_id, instrument_id, unit_name = cur.execute(
            "SELECT r.submitted_at, r.counter_id, r.instrument_id, u.name FROM responses r"
            " LEFT JOIN units u ON u.unit_id = r.unit_id WHERE r.response_id = ?", [rid]).fetchone()
        answers = cur.execute("SELECT item_id, value FROM answers WHERE response_id = ?", [rid]).fetchall()
        comment = cur.execute("SELECT text FROM comments WHERE response_id = ?", [rid]).fetchone()
        phone = cur.execute("SELECT phone FROM contacts WHERE response_id = ?", [rid]).fetchone()
        history = cur.execute("SELECT logged_at, actor, action, target, detail FROM audit_log"
                              " WHERE target = ? AND action LIKE 'case.%' ORDER BY logged_at",
                              [str(case.case_id)]).fetchall()
    instrument = store.instruments.get(instrument_id)
    items = instrument.answer_items if instrument else {}
    order = list(items)
    ratings = tuple(
        (item_id, pick(items[item_id].text, "vi") if item_id in items else item_id, value)
        for item_id, value in sorted(answers, key=lambda a: order.index(a[0]) if a[0] in items else len(order)))
    return CaseDetail(case, unit_name or case.unit_id, submitted_at, counter_id, ratings,
                      comment[0] if comment else None, phone[0] if phone else None,
                      tuple(audit.AuditEntry(*row) for row in history))


def assignees(store: Store, unit_id: str) -> list[str]:
    """Who may take a case of `unit_id`: active staff and leaders of the unit or a unit above it."""
    with open_cursor(store) as cur:
        rows = cur.execute(
            "WITH RECURSIVE up(unit_id, parent_id) AS ("
            " SELECT unit_id, parent_id FROM units WHERE unit_id = ?"
            " UNION SELECT u.unit_id, u.parent_id FROM units u JOIN up ON u.unit_id = up.parent_id)"
            " SELECT username FROM users WHERE active AND role IN ('staff', 'leader')"
            " AND (unit_id IN (SELECT unit_id FROM up) OR (role = 'leader' AND unit_id IS NULL))"
            " ORDER BY username", [unit_id]).fetchall()
    return [row[0] for row in rows]


# -- acting ----------------------------------------------------------------------------------------

def _act(store: Store, user: User, scope: Scope, case_id: uuid.UUID | str, action: str, allowed: Sequence[str],
         change: Callable[[duckdb.DuckDBPyConnection, datetime], str | None]) -> None:
    """Run `change` on a case of the scope in one of the `allowed` statuses, with its audit row."""
    at = clock.now()

    def work(con: duckdb.DuckDBPyConnection) -> None:
        row = con.execute("SELECT unit_id, status FROM cases WHERE case_id = ?", [str(case_id)]).fetchone()
        if row is None or not _in_scope(row[0], scope):
            raise Refused("case.not_found")
        if row[1] not in allowed:
            raise Refused("case.wrong_status", status=row[1])
        detail = change(con, at)
        audit.record(con, user.username, f"case.{action}", str(case_id), detail)

    store.write(work)


def assign(store: Store, user: User, scope: Scope, case_id: uuid.UUID | str, assignee: str) -> None:
    if assignee not in assignees(store, _unit_of(store, case_id, scope)):
        raise Refused("case.bad_assignee", name=assignee)

    def change(con: duckdb.DuckDBPyConnection, _: datetime) -> str:
        con.execute("UPDATE cases SET assignee = ?, status = CASE WHEN status = ? THEN ? ELSE status END"
                    " WHERE case_id = ?", [assignee, OPEN, IN_PROGRESS, str(case_id)])
        return f"assignee={assignee}"

    _act(store, user, scope, case_id, "assign", (OPEN, IN_PROGRESS, ANSWERED), change)


def _unit_of(store: Store, case_id: uuid.UUID | str, scope: Scope) -> str:
    case = get_case(store, case_id, scope)
    if case is None:
        raise Refused("case.not_found")
    return case.unit_id


def check_reply(text: str) -> str:
    """The reply as it will be stored and shown to the citizen, or Refused."""
    text = (text or "").strip()
    if not text:
        raise Refused("case.reply_empty")
    if len(text) > config.COMMENT_MAX_CHARS:
        raise Refused("case.reply_long", n=len(text), max=config.COMMENT_MAX_CHARS)
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise Refused("case.reply_bad_char")
    return text


def reply(store: Store, user: User, scope: Scope, case_id: uuid.UUID | str, text: str) -> None:
    """Answer the citizen: the text the public page shows; the case becomes "đã trả lời"."""
    text = check_reply(text)

    def change(con: duckdb.DuckDBPyConnection, at: datetime) -> str:
        con.execute("UPDATE cases SET reply = ?, replied_at = ?, status = ?, assignee = coalesce(assignee, ?)"
                    " WHERE case_id = ?", [text, at, ANSWERED, user.username, str(case_id)])
        return t("case.reply_length", n=len(text))  # the audit detail, stored in Vietnamese

    _act(store, user, scope, case_id, "reply", (OPEN, IN_PROGRESS, ANSWERED), change)


def close(store: Store, user: User, scope: Scope, case_id: uuid.UUID | str) -> None:
    """Close an answered case (a case cannot be closed without an answer)."""
    def change(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
        con.execute("UPDATE cases SET status = ?, closed_at = ? WHERE case_id = ?", [CLOSED, at, str(case_id)])

    _act(store, user, scope, case_id, "close", (ANSWERED,), change)


def reopen(store: Store, user: User, scope: Scope, case_id: uuid.UUID | str, reason: str = "") -> None:
    def change(con: duckdb.DuckDBPyConnection, _: datetime) -> str | None:
        con.execute("UPDATE cases SET status = ?, closed_at = NULL WHERE case_id = ?", [IN_PROGRESS, str(case_id)])
        return reason.strip()[:500] or None

    _act(store, user, scope, case_id, "reopen", (ANSWERED, CLOSED), change)


@dataclass(frozen=True)
class Escalation:
    case_id: uuid.UUID
    unit_id: str
    escalated_to: str | None  # the parent unit; None: the city's leaders
    leaders: tuple[str, ...]


def escalate_overdue(store: Store, at: datetime | None = None, actor: str = "system") -> list[Escalation]:
    """Hand every overdue case not yet escalated to the leaders of its unit's parent (the city's
    leaders for a unit without a parent); each escalation in audit_log. What the scheduler runs."""
    at = at or clock.now()

    def work(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
        rows = con.execute(
            "SELECT c.case_id, c.unit_id, u.parent_id FROM cases c LEFT JOIN units u ON u.unit_id = c.unit_id"
            " WHERE c.status IN (?, ?) AND c.due_at < ? AND c.escalated_at IS NULL ORDER BY c.due_at",
            [*PENDING, at]).fetchall()
        for case_id, unit_id, parent in rows:
            con.execute("UPDATE cases SET escalated_at = ?, escalated_to = ? WHERE case_id = ?",
                        [at, parent, str(case_id)])
            audit.record(con, actor, "case.escalate", str(case_id), f"unit={unit_id} to={parent or '-'}")
        return rows

    rows = store.write(work)
    leaders = _leaders_by_unit(store)
    return [Escalation(case_id, unit_id, parent, tuple(leaders.get(parent, ())))
            for case_id, unit_id, parent in rows]


def _leaders_by_unit(store: Store) -> dict[str | None, list[str]]:
    found: dict[str | None, list[str]] = {}
    for username, unit_id in store.query(
            "SELECT username, unit_id FROM users WHERE active AND role = 'leader' ORDER BY username"):
        found.setdefault(unit_id, []).append(username)
    return found


STATUS_KEYS = {status: f"case.status.{status}" for status in STATUSES}
