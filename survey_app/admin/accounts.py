"""Accounts (`users`): argon2 password hashes, roles, login throttling, and what each user may see.

Roles: `admin` (everything), `leader` (results of their unit and the units below it; no unit = the
whole city), `staff` (the QR codes of their unit). Citizens need no account.

Throttling is kept in the database, not in the session: a new tab or a reload must not reset it.
Every change to an account writes an `audit_log` row in the same transaction.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from survey_app.admin import audit
from survey_app.admin.units import get_unit, unit_subtree
from survey_app.core.config import ROLES
from survey_app.core.i18n import Refused
from survey_app.db.store import Store

MIN_PASSWORD_CHARS = 10
# argon2 accepts any length; the cap keeps a megabyte "password" from costing a hash of it.
MAX_PASSWORD_CHARS = 256
MAX_FAILURES = 5
LOCK_MINUTES = 15
FIRST_ADMIN = "admin"
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


class LoginFailed(Exception):
    """`reason` is "bad_credentials" (unknown name, wrong password, inactive) or "locked"."""

    def __init__(self, reason: str, locked_until: datetime | None = None) -> None:
        self.reason, self.locked_until = reason, locked_until
        super().__init__(reason)


_USER_COLUMNS = "username, role, unit_id, active, email, locked_until, last_login_at"


# -- passwords -------------------------------------------------------------------------------------

def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise Refused("acct.password_short", n=MIN_PASSWORD_CHARS)
    if len(password) > MAX_PASSWORD_CHARS:
        raise Refused("acct.password_long", n=MAX_PASSWORD_CHARS)


def generate_password() -> str:
    """16 URL-safe characters (96 random bits): shown once, to be changed or kept in a safe."""
    return secrets.token_urlsafe(12)


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(12))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# -- reading ---------------------------------------------------------------------------------------

def get_user(store: Store, username: str) -> User | None:
    rows = store.query(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", [username])
    return User(*rows[0]) if rows else None


def user_by_email(store: Store, email: str) -> User | None:
    """The active account mapped to an e-mail address vouched for by single sign-on."""
    rows = store.query(f"SELECT {_USER_COLUMNS} FROM users WHERE lower(email) = lower(?) AND active", [email])
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

def authenticate(store: Store, username: str, password: str, *, now: datetime | None = None) -> User:
    """The user, when the password is right and the account active and not locked; else LoginFailed.

    MAX_FAILURES wrong passwords in a row lock the account for LOCK_MINUTES, whatever the password
    tried during the lock. An unknown name costs the same hash as a known one (no name probing).
    """
    now = now or datetime.now(UTC)
    username = username.strip().lower()
    rows = store.query("SELECT password_hash, active, locked_until FROM users WHERE username = ?", [username])
    password_hash, active, locked_until = rows[0] if rows else (None, False, None)
    if len(password) > MAX_PASSWORD_CHARS or not active or not password_hash:
        _verify(_dummy_hash(), password)
        raise LoginFailed("bad_credentials")
    if locked_until is not None and locked_until > now:
        raise LoginFailed("locked", locked_until)
    if not _verify(password_hash, password):
        locked = store.write(lambda con: _count_failure(con, username, now))
        raise LoginFailed("locked", locked) if locked else LoginFailed("bad_credentials")
    fresh_hash = _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None
    store.write(lambda con: _record_success(con, username, now, fresh_hash))
    user = get_user(store, username)
    assert user is not None
    return user


def _count_failure(con: duckdb.DuckDBPyConnection, username: str, now: datetime) -> datetime | None:
    """One more wrong password, counted in SQL so concurrent tries all count; the lock time, if locked."""
    locked_until = now + timedelta(minutes=LOCK_MINUTES)
    (failed, locked), = con.execute(
        "UPDATE users SET"
        " failed_logins = CASE WHEN coalesce(failed_logins, 0) + 1 >= ? THEN 0"
        "                 ELSE coalesce(failed_logins, 0) + 1 END,"
        " locked_until = CASE WHEN coalesce(failed_logins, 0) + 1 >= ? THEN ? ELSE locked_until END"
        " WHERE username = ? RETURNING failed_logins, locked_until",
        [MAX_FAILURES, MAX_FAILURES, locked_until, username],
    ).fetchall()
    if failed == 0 and locked is not None and locked > now:
        audit.record(con, username, "login.locked", username, f"{MAX_FAILURES} wrong passwords")
        return locked
    audit.record(con, username, "login.failed", username, f"failure {failed} of {MAX_FAILURES}")
    return None


def _record_success(con: duckdb.DuckDBPyConnection, username: str, now: datetime, fresh_hash: str | None) -> None:
    con.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ?,"
        " password_hash = coalesce(?, password_hash) WHERE username = ?",
        [now, fresh_hash, username],
    )
    audit.record(con, username, "login", username)


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
    password_hash = _hasher.hash(password)

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


def ensure_first_admin(store: Store, actor: str) -> str | None:
    """When there is no account at all, create `admin` with a generated password and return it."""
    if count_users(store):
        return None
    password = generate_password()
    create_user(store, actor, FIRST_ADMIN, "admin", password)
    return password


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


def set_password(store: Store, actor: str, username: str, password: str) -> None:
    """Set a new password; it also lifts a lock (an admin's reset is how a locked user gets back in)."""
    _require(store, username)
    check_password_rules(password)
    password_hash = _hasher.hash(password)

    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE username = ?",
                    [password_hash, username])
        audit.record(con, actor, "user.password", username)

    store.write(work)


def change_own_password(store: Store, user: User, current: str, new: str) -> None:
    """A logged-in user's own change: the current password must be right (a walk-up on a shared PC)."""
    rows = store.query("SELECT password_hash FROM users WHERE username = ?", [user.username])
    if not rows or not rows[0][0] or not _verify(rows[0][0], current):
        raise Refused("acct.wrong_current_password")
    set_password(store, user.username, user.username, new)
