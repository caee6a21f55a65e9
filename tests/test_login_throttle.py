"""Issue 14, accounts: parallel guesses, throttling per (account, address), the cap on argon2 hashes,
alike answers, and sessions that end when the account changes."""

from __future__ import annotations

import contextlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from logins import PASSWORD, add_user, cheap_hashes

from survey_app.admin import accounts, sessions
from survey_app.admin.accounts import LoginFailed
from survey_app.store import Store

HOME, STRANGER = "10.0.0.1", "203.0.113.9"


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashes(monkeypatch)


def _fail(store: Store, name: str, password: str, client: str, now: datetime | None = None) -> LoginFailed:
    with pytest.raises(LoginFailed) as failed:
        accounts.authenticate(store, name, password, client=client, now=now)
    return failed.value


def test_twelve_parallel_wrong_guesses_and_the_right_one_do_not_log_in(store: Store,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every guess is sent before any is checked: today each one saw "not locked" and the right one won."""
    add_user(store, "admin", "admin")
    guesses = [f"sai-mat-khau-{n}" for n in range(12)] + [PASSWORD]
    arrived = threading.Barrier(len(guesses), timeout=3)
    verify = accounts._verify

    def slow_verify(password_hash: str, password: str) -> bool:
        # Hold every check until all guesses are in (those refused before checking never come).
        with contextlib.suppress(threading.BrokenBarrierError):
            arrived.wait()
        return verify(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", slow_verify)

    def attempt(password: str) -> bool:
        try:
            accounts.authenticate(store, "admin", password, client=STRANGER)
            return True
        except LoginFailed:
            return False

    with ThreadPoolExecutor(len(guesses)) as pool:
        outcomes = list(pool.map(attempt, guesses))
    assert not any(outcomes)
    monkeypatch.setattr(accounts, "_verify", verify)
    _fail(store, "admin", PASSWORD, STRANGER)  # the delay still holds: it did not end at zero
    (failures,), = store.query("SELECT failures FROM login_throttle WHERE username = 'admin' AND client = ?",
                               [STRANGER])
    assert failures >= 13


def test_a_stranger_cannot_lock_the_owner_out(store: Store) -> None:
    add_user(store, "admin", "admin")
    now = datetime.now(UTC)
    for n in range(20):
        _fail(store, "admin", f"doan-{n}", STRANGER, now)
    assert accounts.authenticate(store, "admin", PASSWORD, client=HOME, now=now).username == "admin"


def test_delays_grow_with_each_failure_from_one_address(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    now = datetime.now(UTC)
    waits = []
    for n in range(accounts.FREE_TRIES + 3):
        _fail(store, "lan", f"sai-{n}", HOME, now)
        (until,), = store.query("SELECT blocked_until FROM login_throttle WHERE username = 'lan'")
        waits.append(None if until is None else (until - now).total_seconds())
        now = (until or now) + timedelta(seconds=1)  # wait each delay out before the next try
    assert waits[:accounts.FREE_TRIES - 1] == [None] * (accounts.FREE_TRIES - 1)
    grown = waits[accounts.FREE_TRIES - 1:]
    assert grown[0] == accounts.FIRST_DELAY_SECONDS and all(b == 2 * a for a, b in pairwise(grown))
    # While a delay runs even the right password waits; once it is over it logs in and clears the count.
    (until,), = store.query("SELECT blocked_until FROM login_throttle WHERE username = 'lan'")
    _fail(store, "lan", PASSWORD, HOME, until - timedelta(seconds=2))
    (until,), = store.query("SELECT blocked_until FROM login_throttle WHERE username = 'lan'")
    assert accounts.authenticate(store, "lan", PASSWORD, client=HOME, now=until + timedelta(seconds=1))
    assert store.query("SELECT count(*) FROM login_throttle WHERE username = 'lan'") == [(0,)]


def test_a_throttled_known_name_answers_like_an_unknown_one(store: Store) -> None:
    add_user(store, "admin", "admin")
    now = datetime.now(UTC)
    answers = {}
    for name in ("admin", "khong-ai-ca"):
        for n in range(accounts.FREE_TRIES + 2):
            answers[name] = _fail(store, name, f"doan-{n}", STRANGER, now)
    assert answers["admin"].reason == answers["khong-ai-ca"].reason == "bad_credentials"
    assert vars(answers["admin"]) == vars(answers["khong-ai-ca"])


def test_no_more_than_a_few_hashes_run_at_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    running, most, lock = 0, 0, threading.Lock()
    hasher = accounts._hasher

    class Counting:
        def verify(self, password_hash: str, password: str) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)  # a hash takes time: let the others pile up
            with lock:
                running -= 1
            return hasher.verify(password_hash, password)

        def __getattr__(self, name: str) -> object:
            return getattr(hasher, name)

    monkeypatch.setattr(accounts, "_hasher", Counting())
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda n: accounts.authenticate(store, "lan", PASSWORD, client=f"10.1.0.{n}"), range(12)))
    assert most <= accounts.MAX_CONCURRENT_HASHES


def test_password_change_ends_every_other_session(store: Store) -> None:
    user = add_user(store, "lan", "staff", "so-tu-phap")
    here, elsewhere = sessions.open_ticket(store, user), sessions.open_ticket(store, user)
    accounts.change_own_password(store, user, PASSWORD, "mat-khau-moi-2026")
    sessions.renew(store, here)  # the session that changed it stays
    assert sessions.problem(store, here) is None
    assert sessions.problem(store, elsewhere) == "login.password_changed"


@pytest.mark.parametrize(("change", "reason"), [
    ({"active": False}, "login.ended"),
    ({"role": "leader", "unit_id": "so-tu-phap"}, "login.role_changed"),
    ({"unit_id": "so-noi-vu"}, "login.role_changed"),
])
def test_deactivation_and_a_new_role_end_the_session(store: Store, change: dict, reason: str) -> None:
    add_user(store, "quan-tri", "admin")
    user = add_user(store, "lan", "staff", "so-tu-phap")
    ticket = sessions.open_ticket(store, user)
    values = {"role": "staff", "unit_id": "so-tu-phap", "email": None, "active": True, **change}
    accounts.update_user(store, "quan-tri", "lan", **values)
    assert sessions.problem(store, ticket) == reason
    assert ticket.ended  # a download running on its own thread sees it too


def test_an_idle_session_ends(store: Store) -> None:
    ticket = sessions.open_ticket(store, add_user(store, "lan", "staff", "so-tu-phap"))
    assert sessions.problem(store, ticket, idle_seconds=60) is None
    ticket.seen -= 61
    assert sessions.problem(store, ticket, idle_seconds=60) == "login.expired"
