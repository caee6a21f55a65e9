"""Login, logout, the inactivity timeout and a user's own account page.

The session keeps a `sessions.Ticket` (who logged in, with which role, unit and password stamp, and
the time of the last click). It is checked on every run, at the top of every live fragment and inside
every download callable: idle too long, deactivated, role or unit changed, or password changed, and
the session ends for the whole page.

Single sign-on is optional: when `.streamlit/secrets.toml` has an `[auth]` section, the login page
also offers `st.login` (OpenID Connect), and the e-mail the provider vouches for is mapped to the
account whose `users.email` it is. The role and unit always come from our `users` table.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import NoReturn, TypeVar

import streamlit as st

from survey_app.admin import accounts, audit, sessions
from survey_app.admin.accounts import LoginFailed, User
from survey_app.admin.sessions import Ticket
from survey_app.core.i18n import Refused, t
from survey_app.db.store import Store
from survey_app.ui import flash
from survey_app.ui.text import plain

T = TypeVar("T")
# Session-state keys of the login: its ticket, and what the live fragments last showed.
TICKET, ACTIVITY = "auth_ticket", "auth_activity"


class SessionEnded(RuntimeError):
    """A download asked for after its session ended: Streamlit answers it with an error, no file."""


def sso_configured() -> bool:
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _sso_signed_in() -> bool:
    """Whether an identity provider has signed this browser in (whoever it says they are)."""
    return sso_configured() and bool(st.user.get("is_logged_in"))


def verified_email(claims: dict[str, object]) -> str | None:
    """The address in an identity provider's claims, only when it says it verified it (a claim
    missing or false is refused: some providers let anyone type any address)."""
    email = claims.get("email")
    return email if claims.get("email_verified") is True and isinstance(email, str) and email else None


def _sso_login(store: Store) -> Ticket | None:
    email = verified_email(st.user.to_dict()) if _sso_signed_in() else None
    user = accounts.user_by_email(store, email) if email else None  # active and unlocked accounts only
    if user is None:
        return None
    audit.record_alone(store, user.username, "login.sso", user.username, email)
    st.session_state[TICKET] = sessions.open_ticket(store, user)
    return st.session_state[TICKET]


def current_user(store: Store) -> User | None:
    """The logged-in user of this session; None after logout, inactivity or any change to the account."""
    ticket = st.session_state.get(TICKET) or _sso_login(store)
    if ticket is None:
        return None
    reason = sessions.problem(store, ticket)
    user = None if reason else accounts.get_user(store, ticket.username)
    if user is None:
        end_session(reason or "login.ended")
        return None
    sessions.touch(ticket)
    return user


def guard(store: Store, activity: Hashable = None) -> None:
    """At the top of every fragment: a fragment re-runs alone, without the router's check. When the
    session has ended, end it for the whole page (the router then shows the login).

    A fragment also re-runs on its own timer, which is no click: only a change of `activity` (the
    fragment's widgets' values, e.g. the open tab) restarts the idle clock."""
    ticket = st.session_state.get(TICKET)
    reason = "login.expired" if ticket is None else sessions.problem(store, ticket)
    if reason is not None:
        _end_page(reason)
    if activity is not None and st.session_state.get(ACTIVITY) != activity:
        st.session_state[ACTIVITY] = activity
        sessions.touch(ticket)


def _end_page(reason: str) -> NoReturn:
    end_session(reason)
    st.rerun(scope="app")


def guarded(store: Store, make: Callable[[], T]) -> Callable[[], T]:
    """A download callable that first checks the session. Streamlit runs it later, on a thread of its
    own without the session state: the ticket it holds is what it checks (and ends)."""
    ticket = st.session_state.get(TICKET)

    def run() -> T:
        if ticket is None or sessions.problem(store, ticket) is not None:
            raise SessionEnded("session ended")
        return make()

    return run


def client_address() -> str | None:
    """The browser's address as the server sees it (None in tests and when unknown)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def end_session(notice: str = "login.logged_out") -> None:
    """Forget everything of this session (a shared counter PC), keeping only the notice to show."""
    ticket = st.session_state.get(TICKET)
    if ticket is not None and ticket.ended is None:
        ticket.ended = notice  # downloads still holding it are refused from now on
    st.session_state.clear()
    flash.say("info", t(notice))
    if _sso_signed_in():  # else the provider's cookie would log the browser straight back in
        st.logout()


def _log_in(store: Store) -> None:
    """Form callback: check the password; on success the router shows the user's pages."""
    try:
        user = accounts.authenticate(store, st.session_state.get("login_name", ""),
                                     st.session_state.get("login_password", ""), client=client_address())
    except LoginFailed:
        flash.say("error", t("login.bad"))  # one answer for every cause
        return
    st.session_state.clear()  # nothing of a previous visitor survives a login
    st.session_state[TICKET] = sessions.open_ticket(store, user)


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
    st.warning(t("login.sso_unknown", email=plain(str(st.user.get("email") or "?"))))
    st.button(t("login.sso_other"), key="sso_logout", on_click=st.logout)


def sidebar(user: User) -> None:
    st.sidebar.caption(t("login.signed_in", name=plain(user.username), role=t(f"role.{user.role}")))
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
    if TICKET in ss:
        sessions.renew(store, ss[TICKET])  # this session goes on; the account's other sessions end
    flash.say("success", t("acct.password_changed"))


def account_page(store: Store, user: User) -> None:
    st.title(t("acct.title"))
    unit = plain(user.unit_id) if user.unit_id else t("acct.whole_city")
    st.markdown(t("acct.who", name=plain(user.username), role=t(f"role.{user.role}"), unit=unit))
    flash.show()
    with st.form("own_password", clear_on_submit=True):
        st.text_input(t("acct.current"), type="password", key="acct_current", autocomplete="current-password")
        st.text_input(t("acct.new", n=accounts.MIN_PASSWORD_CHARS), type="password", key="acct_new",
                      autocomplete="new-password")
        st.text_input(t("acct.repeat"), type="password", key="acct_repeat", autocomplete="new-password")
        st.form_submit_button(t("acct.change"), on_click=_change_password, args=(store, user))
