"""The router: each visitor's navigation holds exactly the pages of their role, nothing else."""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from factories import Clock
from logins import APP, add_user, add_wards, hand_to_app, log_in, nav_paths, open_page, query
from streamlit.testing.v1 import AppTest

import survey_app.ui
from survey_app.admin import accounts
from survey_app.collection import links
from survey_app.core import config
from survey_app.core.i18n import t
from survey_app.db.store import Store
from survey_app.ui import login
from survey_app.ui.text import plain

ADMIN_PAGES = {"admin-units", "admin-users", "admin-review", "admin-data", "admin-audit", "admin-case_rules"}


@pytest.fixture
def app_db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo units, wards under Cầu Giấy and one user of each role, handed over to the app."""
    hand_to_app(db_path, tmp_path, monkeypatch)
    add_wards(store)
    add_user(store, "quan-tri", "admin")
    add_user(store, "cau-giay", "leader", "q-cau-giay")
    add_user(store, "lan", "staff", "p-dich-vong")
    store.close()
    yield db_path


def _shown(given: frozenset[str] | str | None) -> str:
    if given is None:
        return "all"
    return ",".join(sorted(given)) if isinstance(given, frozenset) else given


@pytest.fixture(autouse=True)
def _stand_in_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The router is under test here, not the dashboard and QR pages (they have their own tests):
    stand-ins show their title and what the router handed them."""
    for name, title in (("dashboard", "Kết quả đánh giá"), ("staff_qr", "Mã QR và áp phích")):
        stand_in = types.ModuleType(f"survey_app.ui.{name}")
        stand_in.page = lambda store, given, title=title: (st.title(title), st.text(_shown(given)))
        monkeypatch.setitem(sys.modules, stand_in.__name__, stand_in)
        monkeypatch.setattr(survey_app.ui, name, stand_in, raising=False)


def test_visitor_without_link_gets_only_the_login(app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert nav_paths(at) == {"login"}
    assert at.subheader[0].value == "Đăng nhập dành cho cán bộ"
    assert open_page(at, "admin-users").text_input(key="login_name")  # a typed address leads to the login


def test_survey_link_gets_only_the_survey_even_after_login(app_db: Path) -> None:
    at = log_in("quan-tri")
    at.query_params["k"] = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    at.run()
    assert nav_paths(at) == {"survey"}
    assert at.radio(key="stage").options


@pytest.mark.parametrize(("name", "pages", "landing"), [
    ("lan", {"staff-qr", "cases", "account"}, "Mã QR và áp phích"),
    ("cau-giay", {"dashboard", "cases", "account"}, "Kết quả đánh giá"),
    ("quan-tri", ADMIN_PAGES | {"dashboard", "cases", "staff-qr", "account"}, "Đơn vị và quầy"),
])
def test_each_role_sees_exactly_its_pages(app_db: Path, name: str, pages: set[str], landing: str) -> None:
    at = log_in(name)
    assert not at.exception
    assert nav_paths(at) == pages
    assert at.title[0].value == landing
    assert any(plain(name) in c.value for c in at.sidebar.caption)
    for page in ADMIN_PAGES - pages:  # a typed address of a page not in the list runs the landing page
        open_page(at, page)
        assert not at.exception and at.title[0].value == landing


@pytest.mark.parametrize(("name", "page", "given"), [
    ("cau-giay", "dashboard", "p-dich-vong,p-yen-hoa,q-cau-giay"),
    ("lan", "staff-qr", "p-dich-vong"),
    ("quan-tri", "dashboard", "all"),
    ("quan-tri", "staff-qr", "all"),
])
def test_pages_get_the_scope_of_the_user(app_db: Path, name: str, page: str, given: str) -> None:
    """A district leader's dashboard is handed the district and its wards, never another district."""
    at = open_page(log_in(name), page)
    assert at.text[0].value == given


def test_wrong_passwords_are_refused_and_then_the_device_waits(app_db: Path, clock: Clock) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    answer = t("login.bad")
    for _ in range(accounts.FREE_TRIES):
        at = log_in("lan", "sai-mat-khau-roi", at)
        assert at.error[0].value == answer
    at = log_in("lan", at=at)  # the right password, during the delay: the same answer
    assert at.error[0].value == answer and nav_paths(at) == {"login"}
    assert query(app_db, "SELECT count(*) FROM login_throttle WHERE username = 'lan' AND blocked_until > ?",
                 [clock.moment]) == [(1,)]


def test_logout_forgets_the_session(app_db: Path) -> None:
    at = log_in("quan-tri")
    at = at.sidebar.button(key="logout").click().run()
    assert nav_paths(at) == {"login"}
    assert at.info[-1].value == "Đã đăng xuất."
    assert login.TICKET not in at.session_state


def test_inactive_session_ends(app_db: Path) -> None:
    at = log_in("cau-giay")
    at.session_state[login.TICKET].seen = time.time() - config.SESSION_IDLE_MINUTES * 60 - 1
    at.run()
    assert nav_paths(at) == {"login"}
    assert any("hết hạn" in i.value for i in at.info)


def test_deactivated_user_is_logged_out_at_the_next_click(app_db: Path) -> None:
    at = log_in("lan")
    query(app_db, "UPDATE users SET active = FALSE WHERE username = 'lan'")
    at.run()
    assert nav_paths(at) == {"login"}


def test_own_password_change(app_db: Path) -> None:
    at = open_page(log_in("lan"), "account")
    at.text_input(key="acct_current").input("mat-khau-du-dai-1")
    at.text_input(key="acct_new").input("mat-khau-moi-2026")
    at.text_input(key="acct_repeat").input("mat-khau-moi-2026")
    at = next(b for b in at.button if b.label == "Đổi mật khẩu").click().run()
    assert at.success[0].value == "Đã đổi mật khẩu."
    at = at.sidebar.button(key="logout").click().run()
    assert nav_paths(log_in("lan", "mat-khau-moi-2026", at)) == {"staff-qr", "cases", "account"}


def test_a_password_change_ends_the_other_sessions_of_the_user(app_db: Path) -> None:
    other = log_in("lan")  # e.g. a forgotten tab on the counter PC
    at = open_page(log_in("lan"), "account")
    at.text_input(key="acct_current").input("mat-khau-du-dai-1")
    at.text_input(key="acct_new").input("mat-khau-moi-2026")
    at.text_input(key="acct_repeat").input("mat-khau-moi-2026")
    at = next(b for b in at.button if b.label == "Đổi mật khẩu").click().run()
    assert "staff-qr" in nav_paths(at.run())  # the session that changed it goes on
    other.run()
    assert nav_paths(other) == {"login"}
    assert other.info[-1].value == t("login.password_changed")


def test_a_new_role_ends_the_session(app_db: Path) -> None:
    at = log_in("lan")
    query(app_db, "UPDATE users SET role = 'leader' WHERE username = 'lan'")
    at.run()
    assert nav_paths(at) == {"login"} and at.info[-1].value == t("login.role_changed")


# -- single sign-on (st.login) ---------------------------------------------------------------------

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "bi-mat-cookie",
        "client_id": "sipas", "client_secret": "bi-mat",
        "server_metadata_url": "https://sso.example.invalid/.well-known/openid-configuration"}


def sso_app(db: Path, **user: object) -> AppTest:
    query(db, "UPDATE users SET email = 'lan@hanoi.gov.vn' WHERE username = 'lan'")
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run()


def test_without_auth_secrets_there_is_no_sso_button(app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not [b for b in at.button if b.key == "sso_login"]


def test_sso_offers_its_button_and_maps_the_email_to_the_account(app_db: Path) -> None:
    at = sso_app(app_db, is_logged_in=False)
    assert at.button(key="sso_login").label == "Đăng nhập bằng tài khoản công vụ"
    at = sso_app(app_db, is_logged_in=True, email="Lan@hanoi.gov.vn", email_verified=True)
    assert nav_paths(at) == {"staff-qr", "cases", "account"}
    assert query(app_db, "SELECT actor, action FROM audit_log WHERE action = 'login.sso'") == [("lan", "login.sso")]
    at = at.sidebar.button(key="logout").click().run()  # also ends the provider's session here
    assert nav_paths(at) == {"login"} and at.button(key="sso_login")


@pytest.mark.parametrize("user", [
    {"is_logged_in": True, "email": "nguoi-la@gmail.com"},
    {"is_logged_in": True, "email": "lan@hanoi.gov.vn", "email_verified": False},
    {"is_logged_in": True, "email": "lan@hanoi.gov.vn"},  # no email_verified claim at all
    {"is_logged_in": True, "email": "lan@hanoi.gov.vn", "email_verified": "true"},  # a string is not true
])
def test_sso_without_a_mapped_verified_email_gets_no_pages(app_db: Path, user: dict) -> None:
    at = sso_app(app_db, **user)
    assert nav_paths(at) == {"login"}
    assert at.button(key="sso_logout")


@pytest.mark.parametrize("change", ["locked_until = now() + INTERVAL 1 HOUR", "active = FALSE"])
def test_sso_refuses_a_locked_or_deactivated_account(app_db: Path, change: str) -> None:
    query(app_db, f"UPDATE users SET {change} WHERE username = 'lan'")
    at = sso_app(app_db, is_logged_in=True, email="lan@hanoi.gov.vn", email_verified=True)
    assert nav_paths(at) == {"login"}
