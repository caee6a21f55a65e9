"""Accounts (`users`): argon2 password hashes, roles, login throttling, and what each user may see.

Roles: `admin` (everything), `leader` (results of their unit and the units below it; no unit = the
whole city), `staff` (the QR codes of their unit). Citizens need no account.

Throttling is kept in the database, not in the session: a new tab or a reload must not reset it.
Every change to an account writes an `audit_log` row in the same transaction.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from survey_app.admin import audit
from survey_app.admin.units import get_unit, unit_subtree
from survey_app.core import clock, config, files
from survey_app.core.config import ROLES
from survey_app.core.i18n import Refused
from survey_app.db.store import Store

MIN_PASSWORD_CHARS = 10
# argon2 accepts any length; the cap keeps a megabyte "password" from costing a hash of it.
MAX_PASSWORD_CHARS = 256
# Throttling per (name, client address): FREE_TRIES attempts, then a wait that doubles per failure.
FREE_TRIES = 5
FIRST_DELAY_SECONDS = 5.0
MAX_DELAY_SECONDS = 15 * 60.0
MAX_NAME_CHARS, MAX_CLIENT_CHARS = 64, 64
# Each argon2 check costs ~250 ms and 64 MiB: at most this many run at once, whoever sends them.
MAX_CONCURRENT_HASHES = 2
_hash_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
FIRST_ADMIN = "admin"
# The first administrator's password goes to this file in the data folder (mode 0600), never to the
# terminal: `serve` runs under a service manager whose journal keeps everything printed.
FIRST_PASSWORD_FILE = "first-admin-password.txt"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{1,63}")
# argon2id with the library's defaults (RFC 9106 low-memory profile). Tests swap in a cheaper one.
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """An account as the app sees it: never the hash."""

    username: str
    role: str
    unit_id: str | None
    active: bool = True
    email: str | None = None
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    password_changed_at: datetime | None = None  # a session opened before it has ended


class LoginFailed(Exception):
    """A refused login. One answer for every cause (unknown name, wrong password, inactive account,
    too many tries from this address): the page must not tell a real name from an invented one."""

    def __init__(self, reason: str = "bad_credentials") -> None:
        self.reason = reason
        super().__init__(reason)


_USER_COLUMNS = "username, role, unit_id, active, email, locked_until, last_login_at, password_changed_at"


# -- passwords -------------------------------------------------------------------------------------

def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise Refused("acct.password_short", n=MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        raise Refused("acct.password_long", n=MAX_PASSWORD_CHARS)


def generate_password() -> str:
    """16 URL-safe characters (96 random bits): shown once, to be changed or kept in a safe."""
    return secrets.token_urlsafe(12)


def _hash(password: str) -> str:
    with _hash_slots:
        return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hash(secrets.token_urlsafe(12))


def _verify(password_hash: str, password: str) -> bool:
    with _hash_slots:  # the others wait their turn: the CPU and memory a flood can take stay bounded
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


# -- reading ---------------------------------------------------------------------------------------

def get_user(store: Store, username: str) -> User | None:
    rows = store.query(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [username])
    return User(*rows[0]) if rows else None


def user_by_email(store: Store, email: str, *, now: datetime | None = None) -> User | None:
    """The active, unlocked account mapped to an e-mail address vouched for by single sign-on."""
    rows = store.query(f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(?) AND active"
                       " AND (locked_until IS NULL OR locked_until <= ?)", [email, now or clock.now()])
    return User(*rows[0]) if len(rows) == 1 else None


def list_users(store: Store) -> list[User]:
    return [User(*row) for row in store.query(f"SELECT {_USER_COLUMNS} FROM users ORDER BY role, username")]


def count_users(store: Store) -> int:
    return store.query("SELECT count(*) FROM users")[0][0]


# -- scope -----------------------------------------------------------------------------------------

def scope_unit_ids(store: Store, user: User) -> frozenset[str] | None:
    """The units whose data `user` may see: None means every unit (admin, or a city-level leader).

    A leader or staff member with a unit sees it and every unit below it (parent_id), inactive
    ones included so that their past results stay visible. Use it in every query, selector and
    export a non-admin can reach.
    """
    if user.role == "admin" or (user.role == "leader" and user.unit_id is None):
        return None
    if user.unit_id is None:
        return frozenset()
    return unit_subtree(store, user.unit_id)


# -- login -----------------------------------------------------------------------------------------

def authenticate(store: Store, username: str, password: str, *, client: str | None = None,
                 now: datetime | None = None) -> User:
    """The user, when the password is right and the account active; else LoginFailed("bad_credentials").

    Every attempt is counted for (name, client address) before its password is checked, so guesses
    sent in parallel all count; after FREE_TRIES the pair waits a delay that doubles with each
    failure. Only that address waits: a stranger cannot lock the owner out. A refusal says the same
    whatever the cause (unknown name, wrong password, inactive, waiting), and unknown names are
    throttled like known ones, so nothing tells a real name from an invented one.
    """
    now = now or clock.now()
    username, client = username.strip().lower()[:MAX_NAME_CHARS], (client or "-")[:MAX_CLIENT_CHARS]
    allowed, count = store.write(lambda con: _count_attempt(con, username, client, now))
    if not allowed:
        raise LoginFailed("bad_credentials")
    rows = store.query("SELECT password_hash, active FROM users WHERE username = ?", [username])
    password_hash, active = rows[0] if rows else (None, False)
    if len(password) > MAX_PASSWORD_CHARS or not active or not password_hash:
        _verify(_dummy_hash(), password)  # an unknown name costs the same hash as a known one
        raise LoginFailed("bad_credentials")
    if not _verify(password_hash, password):
        store.write(lambda con: audit.record(con, username, "login.failed", username, f"from {client}, try {count}"))
        raise LoginFailed("bad_credentials")
    fresh_hash = _hash(password) if _hasher.check_needs_rehash(password_hash) else None
    if not store.write(lambda con: _record_success(con, username, client, count, now, fresh_hash)):
        raise LoginFailed("bad_credentials")  # other tries came in while this one was checked
    user = get_user(store, username)
    assert user is not None
    return user


def throttle_delay(failures: int) -> float | None:
    """Seconds the (name, address) pair waits after `failures` attempts without success; None: no wait."""
    if failures < FREE_TRIES:
        return None
    return min(FIRST_DELAY_SECONDS * 2 ** min(failures - FREE_TRIES, 32), MAX_DELAY_SECONDS)


def _count_attempt(con: duckdb.DuckDBPyConnection, username: str, client: str, now: datetime) -> tuple[bool, int]:
    """Count one attempt (the writer runs one at a time); whether it came after any delay, and its number.

    Portable SQL: one upsert that reads the old row (SET and ON CONFLICT see the values before the
    update), then the new delay, both in the caller's transaction.
    """
    (allowed, failures), = con.execute(
        "INSERT INTO login_throttle (username, client, failures, allowed, tried_at, blocked_until)"
        " VALUES (?, ?, 1, TRUE, ?, NULL) ON CONFLICT (username, client) DO UPDATE SET"
        " allowed = (login_throttle.blocked_until IS NULL OR login_throttle.blocked_until <= excluded.tried_at),"
        " failures = login_throttle.failures + 1, tried_at = excluded.tried_at"
        " RETURNING allowed, failures",
        [username, client, now],
    ).fetchall()
    delay = throttle_delay(failures)
    if delay is not None:
        con.execute("UPDATE login_throttle SET blocked_until = ? WHERE username = ? AND client = ?",
                    [now + timedelta(seconds=delay), username, client])
        if failures == FREE_TRIES:
            audit.record(con, username, "login.throttled", username, f"from {client}: {FREE_TRIES} tries")
    return bool(allowed), failures


def _record_success(con: duckdb.DuckDBPyConnection, username: str, client: str, count: int, now: datetime,
                    fresh_hash: str | None) -> bool:
    """Clear the pair's count, unless other attempts were counted since this one (parallel guesses):
    then the delay they earned stands and this login is refused too."""
    cleared = con.execute("DELETE FROM login_throttle WHERE username = ? AND client = ? AND failures = ?"
                          " RETURNING username", [username, client, count]).fetchall()
    if not cleared:
        audit.record(con, username, "login.refused", username, f"from {client}: parallel tries")
        return False
    con.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?,"
        " password_hash = coalesce(?, password_hash) WHERE username = ?",
        [now, fresh_hash, username],
    )
    audit.record(con, username, "login", username, f"from {client}")
    return True


def forget_old_attempts(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Drop throttle rows whose delay is long over (the daily job): guessed names must not pile up."""
    return len(con.execute("DELETE FROM login_throttle WHERE tried_at < ? AND (blocked_until IS NULL"
                           " OR blocked_until < ?) RETURNING username",
                           [now - timedelta(days=1), now]).fetchall())


# -- changes (each with its audit row) -------------------------------------------------------------

def _check_place(store: Store, role: str, unit_id: str | None) -> None:
    if role not in ROLES:
        raise Refused("acct.bad_role", roles=", ".join(ROLES))
    if role == "staff" and unit_id is None:
        raise Refused("acct.staff_needs_unit")
    if unit_id is not None:
        unit = get_unit(store, unit_id)
        if unit is None or not unit.active:
            raise Refused("unit.not_active", unit=unit_id)


def create_user(store: Store, actor: str, username: str, role: str, password: str, *,
                unit_id: str | None = None, email: str | None = None) -> User:
    """Add an active account. Raises Refused for a bad name, role, unit or password, or a name taken."""
    username = username.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise Refused("acct.bad_username")
    _check_place(store, role, unit_id)
    check_password_rules(password)
    password_hash = _hash(password)

    def work(con: duckdb.DuckDBPyConnection) -> bool:
        added = con.execute(
            "INSERT INTO users (username, role, unit_id, password_hash, created_at, active, failed_logins, email)"
            " VALUES (?, ?, ?, ?, current_timestamp, TRUE, 0, ?) ON CONFLICT DO NOTHING RETURNING username",
            [username, role, unit_id, password_hash, email or None],
        ).fetchall()
        if added:
            audit.record(con, actor, "user.add", username, f"role={role} unit={unit_id or '-'}")
        return bool(added)

    if not store.write(work):
        raise Refused("acct.user_exists", username=username)
    user = get_user(store, username)
    assert user is not None
    return user


def ensure_first_admin(store: Store, actor: str, username: str = FIRST_ADMIN) -> Path | None:
    """When there is no account at all, create the administrator `username` with a generated
    password, written to FIRST_PASSWORD_FILE in the data folder (only the service's user can read
    it); return that file."""
    if count_users(store):
        return None
    password = generate_password()
    create_user(store, actor, username, "admin", password)
    secret = files.private_dir(Path(config.DATA_DIR)) / FIRST_PASSWORD_FILE
    fd, tmp = tempfile.mkstemp(dir=secret.parent, prefix=".first-")  # created 0600
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"{password}\n")
    os.replace(tmp, secret)
    return secret


def _require(store: Store, username: str) -> User:
    user = get_user(store, username)
    if user is None:
        raise Refused("acct.unknown_user", username=username)
    return user


def _other_active_admins(store: Store, username: str) -> int:
    return store.query("SELECT count(*) FROM users WHERE role = 'admin' AND active AND username <> ?",
                       [username])[0][0]


def update_user(store: Store, actor: str, username: str, *, role: str, unit_id: str | None,
                email: str | None, active: bool) -> int:
    """Apply what differs from the stored account, one audit row per change; the number of changes.

    Accounts are deactivated, never deleted, so their audit trail keeps its meaning.
    """
    user = _require(store, username)
    if role != user.role or unit_id != user.unit_id:
        _check_place(store, role, unit_id)
    if user.role == "admin" and user.active and (role != "admin" or not active) \
            and not _other_active_admins(store, username):
        # Without an active admin nobody could manage accounts again short of editing the database.
        raise Refused("acct.last_admin")
    email = (email or "").strip() or None
    todo: list[tuple[str, str | None, str, list[Any]]] = []
    if (role, unit_id) != (user.role, user.unit_id):
        todo.append(("user.role", f"{user.role}/{user.unit_id or '-'} → {role}/{unit_id or '-'}",
                     "UPDATE users SET role = ?, unit_id = ? WHERE username = ?", [role, unit_id, username]))
    if email != user.email:
        todo.append(("user.email", email or "-", "UPDATE users SET email = ? WHERE username = ?", [email, username]))
    if active != user.active:
        todo.append(("user.activate" if active else "user.deactivate", None,
                     "UPDATE users SET active = ? WHERE username = ?", [active, username]))

    def work(con: duckdb.DuckDBPyConnection) -> None:
        for action, detail, sql, params in todo:
            con.execute(sql, params)
            audit.record(con, actor, action, username, detail)

    store.write(work)
    return len(todo)


def set_password(store: Store, actor: str, username: str, password: str) -> datetime:
    """Set a new password; it lifts every delay (an admin's reset is how a waiting user gets back in)
    and ends the account's other sessions (they hold the older stamp). Returns the new stamp."""
    _require(store, username)
    check_password_rules(password)
    password_hash = _hash(password)
    stamp = clock.now()

    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL,"
                    " password_changed_at = ? WHERE username = ?", [password_hash, stamp, username])
        con.execute("DELETE FROM login_throttle WHERE username = ?", [username])
        audit.record(con, actor, "user.password", username)

    store.write(work)
    return stamp


def change_own_password(store: Store, user: User, current: str, new: str) -> datetime:
    """A logged-in user's own change: the current password must be right (a walk-up on a shared PC)."""
    rows = store.query("SELECT password_hash FROM users WHERE username = ?", [user.username])
    if not rows or not rows[0][0] or not _verify(rows[0][0], current):
        raise Refused("acct.wrong_current_password")
    return set_password(store, user.username, user.username, new)
