"""Accounts in tests: cheap password hashes, users to log in as, and the app's navigation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from survey_app.admin import accounts
from survey_app.core import config
from survey_app.db.store import Store

APP = str(config.PROJECT_DIR / "survey_app" / "app.py")
PASSWORD = "mat-khau-du-dai-1"


def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its lowest cost: the defaults take half a second per hash on this machine."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    accounts._dummy_hash.cache_clear()


def hand_to_app(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the app (AppTest runs it in this process) at the test's database and data folder,
    with cheap password hashes."""
    cheap_hashes(monkeypatch)
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.setenv("SIPAS_DB", str(db_path))


def add_user(store: Store, name: str, role: str, unit_id: str | None = None) -> accounts.User:
    return accounts.create_user(store, "test", name, role, PASSWORD, unit_id=unit_id)


def add_wards(store: Store) -> None:
    """Two wards under Cầu Giấy and one under Ba Đình: a tree to test scopes on."""
    from survey_app.admin.units import Unit, upsert_units

    upsert_units(store, [Unit("p-dich-vong", "Phường Dịch Vọng", "huyen", "q-cau-giay"),
                         Unit("p-yen-hoa", "Phường Yên Hòa", "huyen", "q-cau-giay"),
                         Unit("p-kim-ma", "Phường Kim Mã", "huyen", "q-ba-dinh")])


def log_in(username: str, password: str = PASSWORD, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=30).run()
    at.text_input(key="login_name").input(username)
    at.text_input(key="login_password").input(password)
    return next(b for b in at.button if b.label == "Đăng nhập").click().run()


# Every url_path the router knows; a page outside this list shows up as "?" in nav_paths.
URL_PATHS = ("login", "survey", "dashboard", "staff-qr", "account", "admin-units", "admin-users", "admin-review",
             "admin-data", "admin-audit", "admin-case_rules", "cases", "case")


def nav_paths(at: AppTest) -> set[str]:
    """The url_path of every page in the visitor's navigation."""
    # AppTest has no public view of st.navigation's pages (Streamlit 1.67, pinned): read its registry.
    # It lists the default page under the URL "", but its hash is still that of its url_path.
    by_hash = {calc_hash(path): path for path in URL_PATHS}
    return {by_hash.get(page_hash, "?") for page_hash in at._registered_pages}


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Ask for a page by its URL path, as a typed address would (AppTest.switch_page wants files)."""
    at._page_hash = calc_hash(url_path)
    return at.run()


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    # Same process as the app: DuckDB hands back the app's open database instance.
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def session_for(store: Store, name: str = "lanh-dao", role: str = "leader") -> None:
    """A logged-in session for a page run on its own (no router, no login form): its fragments and
    downloads check the session. The account is written directly, without a password."""
    import streamlit as st

    from survey_app.admin import sessions
    from survey_app.ui import login

    if login.TICKET not in st.session_state:
        store.write(lambda con: con.execute(
            "INSERT INTO users (username, role, unit_id, password_hash, created_at, active)"
            " VALUES (?, ?, NULL, NULL, current_timestamp, TRUE) ON CONFLICT DO NOTHING", [name, role]))
        user = accounts.get_user(store, name)
        assert user is not None
        st.session_state[login.TICKET] = sessions.open_ticket(store, user)
