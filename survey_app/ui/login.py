"""Login, logout, the inactivity timeout and a user's own account page.

The session keeps only the username and the time of the last click; the account is read again on
every run, so a deactivation or a change of role takes effect at the next click.

Single sign-on is optional: when `.streamlit/secrets.toml` has an `[auth]` section, the login page
also offers `st.login` (OpenID Connect), and the e-mail the provider vouches for is mapped to the
account whose `users.email` it is. The role and unit always come from our `users` table.
"""

from __future__ import annotations

import time

import streamlit as st

from survey_app.admin import accounts, audit
from survey_app.admin.accounts import LoginFailed, User
from survey_app.core import config
from survey_app.core.i18n import Refused, t
from survey_app.db.store import Store
from survey_app.ui import flash

# Session-state keys of the login, in one place.
USER, SEEN = "auth_user", "auth_seen"


def sso_configured() -> bool:
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _sso_signed_in() -> bool:
    """Whether an identity provider has signed this browser in (whoever it says they are)."""
    return sso_configured() and bool(st.user.get("is_logged_in"))


def _sso_email() -> str | None:
    """The address an identity provider vouched for in this browser, if any."""
    if not _sso_signed_in() or st.user.get("email_verified") is False:  # some providers take any address
        return None
    return st.user.get("email")


def _sso_login(store: Store) -> str | None:
    email = _sso_email()
    user = accounts.user_by_email(store, email) if email else None
    if user is None:
        return None
    audit.record_alone(store, user.username, "login.sso", user.username, email)
    st.session_state[USER], st.session_state[SEEN] = user.username, time.time()
    return user.username


def current_user(store: Store) -> User | None:
    """The logged-in user of this session; None after logout, inactivity or deactivation."""
    username = st.session_state.get(USER) or _sso_login(store)
    if username is None:
        return None
    if time.time() - st.session_state.get(SEEN, 0.0) > config.SESSION_IDLE_MINUTES * 60:
        end_session("login.expired")
        return None
    user = accounts.get_user(store, username)
    if user is None or not user.active:
        end_session("login.ended")
        return None
    st.session_state[SEEN] = time.time()
    return user


def end_session(notice: str = "login.logged_out") -> None:
    """Forget everything of this session (a shared counter PC), keeping only the notice to show."""
    st.session_state.clear()
    flash.say("info", t(notice))
    if _sso_signed_in():  # else the provider's cookie would log the browser straight back in
        st.logout()


def _log_in(store: Store) -> None:
    """Form callback: check the password; on success the router shows the user's pages."""
    try:
        user = accounts.authenticate(store, st.session_state.get("login_name", ""),
                                     st.session_state.get("login_password", ""))
    except LoginFailed as failed:
        if failed.reason == "locked" and failed.locked_until is not None:
            until = failed.locked_until.astimezone(config.TIMEZONE).strftime("%H:%M")
            flash.say("error", t("login.locked", until=until, n=accounts.LOCK_MINUTES))
        else:
            flash.say("error", t("login.bad"))
        return
    st.session_state.clear()  # nothing of a previous visitor survives a login
    st.session_state[USER], st.session_state[SEEN] = user.username, time.time()


def page(store: Store) -> None:
    """What a visitor without a survey link sees: where to scan, and the staff login."""
    st.title(t("app.title"))
    st.info(t("link.none"))
    st.caption(t("link.none", "en"))
    st.subheader(t("login.title"))
    flash.show()
    with st.form("login"):
        st.text_input(t("login.username"), key="login_name", autocomplete="username")
        st.text_input(t("login.password"), type="password", key="login_password", autocomplete="current-password")
        st.form_submit_button(t("login.submit"), type="primary", on_click=_log_in, args=(store,))
    if sso_configured():
        _sso_choice()


def _sso_choice() -> None:
    if not _sso_signed_in():
        st.button(t("login.sso"), key="sso_login", on_click=st.login)
        return
    # Signed in by the provider, but not as an active account of ours (or with an unverified address).
    st.warning(t("login.sso_unknown", email=st.user.get("email") or "?"))
    st.button(t("login.sso_other"), key="sso_logout", on_click=st.logout)


def sidebar(user: User) -> None:
    st.sidebar.caption(t("login.signed_in", name=user.username, role=t(f"role.{user.role}")))
    st.sidebar.button(t("login.logout"), key="logout", on_click=end_session)


def _change_password(store: Store, user: User) -> None:
    ss = st.session_state
    if ss.get("acct_new") != ss.get("acct_repeat"):
        flash.say("error", t("acct.password_mismatch"))
        return
    try:
        accounts.change_own_password(store, user, ss.get("acct_current", ""), ss.get("acct_new", ""))
    except Refused as exc:
        flash.say("error", exc.message())
        return
    flash.say("success", t("acct.password_changed"))


def account_page(store: Store, user: User) -> None:
    st.title(t("acct.title"))
    unit = user.unit_id or t("acct.whole_city")
    st.write(t("acct.who", name=user.username, role=t(f"role.{user.role}"), unit=unit))
    flash.show()
    with st.form("own_password", clear_on_submit=True):
        st.text_input(t("acct.current"), type="password", key="acct_current", autocomplete="current-password")
        st.text_input(t("acct.new", n=accounts.MIN_PASSWORD_CHARS), type="password", key="acct_new",
                      autocomplete="new-password")
        st.text_input(t("acct.repeat"), type="password", key="acct_repeat", autocomplete="new-password")
        st.form_submit_button(t("acct.change"), on_click=_change_password, args=(store, user))
