"""A logged-in session, checked on every use: idle too long, account deactivated, role or unit
changed, password changed since login — any of these ends it.

The page keeps a `Ticket` in its session state; every run, every live fragment and every download
callable asks `problem(store, ticket)`. Downloads run on a thread of their own, without the
session state, so the ticket is a plain object they hold: ending it there ends it for the page too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from survey_app.admin import accounts
from survey_app.admin.accounts import User
from survey_app.core import config
from survey_app.db.store import Store


@dataclass
class Ticket:
    """What a session knew of its account at login; `seen` is the time of its last click."""

    username: str
    role: str
    unit_id: str | None
    password_stamp: object  # users.password_changed_at at login (None until a first change)
    seen: float
    ended: str | None = None  # the notice key, once the session has ended


def open_ticket(store: Store, user: User) -> Ticket:
    fresh = accounts.get_user(store, user.username) or user
    return Ticket(fresh.username, fresh.role, fresh.unit_id, fresh.password_changed_at, time.time())


def renew(store: Store, ticket: Ticket) -> None:
    """After this session changed its own password: it keeps going, the others end."""
    user = accounts.get_user(store, ticket.username)
    if user is not None:
        ticket.password_stamp = user.password_changed_at


def problem(store: Store, ticket: Ticket, *, idle_seconds: float | None = None) -> str | None:
    """Why the session must end (a message key), or None; an ended ticket stays ended."""
    if ticket.ended is None:
        ticket.ended = _why(store, ticket, config.SESSION_IDLE_MINUTES * 60 if idle_seconds is None else idle_seconds)
    return ticket.ended


def _why(store: Store, ticket: Ticket, idle_seconds: float) -> str | None:
    if time.time() - ticket.seen > idle_seconds:
        return "login.expired"
    user = accounts.get_user(store, ticket.username)
    if user is None or not user.active:
        return "login.ended"
    if (user.role, user.unit_id) != (ticket.role, ticket.unit_id):
        return "login.role_changed"
    if user.password_changed_at != ticket.password_stamp:
        return "login.password_changed"
    return None


def touch(ticket: Ticket) -> None:
    """A click: the idle clock starts again."""
    ticket.seen = time.time()
