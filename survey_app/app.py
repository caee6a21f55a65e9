"""The Streamlit entry point: a router. It decides which pages this visitor may see and runs one.

A survey link (?k=…) gets only the survey page; staff, leader and admin pages join the navigation
only after login, so a page not in the list cannot be reached at all (a URL of another page falls
back to the visitor's first page).
"""

from __future__ import annotations

import atexit
import gc
import logging
from functools import partial

import streamlit as st
from starlette.middleware import Middleware

from survey_app import housekeeping
from survey_app.admin import accounts
from survey_app.admin.accounts import User
from survey_app.cases import scheduler
from survey_app.core import config
from survey_app.core.i18n import t
from survey_app.store import Store, StoreUnavailable, open_store
from survey_app.ui import a11y, admin, cases, dashboard, login, staff_qr, survey, web

log = logging.getLogger("survey_app")


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    store = open_store(path)
    atexit.register(store.close)  # drain the write queue and checkpoint when the server stops
    housekeeping.start(store)  # contacts and backups past retention go every day, not only at a restart
    atexit.register(housekeeping.stop, store)  # registered last, so it stops before the store closes
    running = scheduler.start(store)  # escalation and e-mail: once per process, like the store
    if running is not None:
        atexit.register(running.stop)  # runs before store.close (atexit is last in, first out)
    return store


@st.cache_resource(show_spinner=False)
def _freeze_start_up_heap() -> bool:
    """Once per process, after the first run imported every page: the modules, DuckDB and the store
    stay for the process's life, so Python's automatic full collections need not scan them again."""
    gc.collect()
    gc.freeze()
    return True


def _pages(store: Store, user: User) -> dict[str, list[st.Page]]:
    """The navigation of a logged-in user, by section; the first page is where they land."""
    results = [st.Page(partial(dashboard.page, store, accounts.scope_unit_ids(store, user)),
                       title=t("nav.dashboard"), url_path="dashboard")]
    # staff_qr takes None as "every unit": that is an admin's view.
    codes = [st.Page(partial(staff_qr.page, store, user.unit_id if user.role == "staff" else None),
                     title=t("nav.qr"), url_path="staff-qr")]
    queue = [st.Page(partial(cases.queue_page, store, user), title=t("nav.cases"), url_path="cases")]
    account = [st.Page(partial(login.account_page, store, user), title=t("nav.account"), url_path="account")]
    if user.role == "staff":
        return {t("nav.work"): codes + queue, t("nav.me"): account}
    if user.role == "leader":
        return {t("nav.work"): results + queue, t("nav.me"): account}
    admin_pages = [
        st.Page(partial(page, store, user), title=t(f"nav.admin.{slug}"), url_path=f"admin-{slug}")
        for slug, page in (("units", admin.units_page), ("users", admin.users_page),
                           ("review", admin.review_page), ("data", admin.data_page), ("audit", admin.audit_page),
                           ("case_rules", cases.rules_page))
    ]
    return {t("nav.admin"): admin_pages, t("nav.work"): results + queue + codes, t("nav.me"): account}


def main() -> None:
    st.set_page_config(page_title="SIPAS — " + t("app.title"), page_icon="🏛️", layout="centered")
    a11y.page_setup()  # every page: readable contrast, lang="vi" (the survey page switches it to English)
    try:
        store = _store(str(config.db_path()))
    except StoreUnavailable as exc:
        log.error("database unavailable: %s", exc)
        st.error(t("app.unavailable"))
        st.caption(t("app.unavailable", "en"))
        return
    _freeze_start_up_heap()
    if "k" in st.query_params:
        pages = [st.Page(partial(survey.page, store), title=t("app.title"), url_path="survey", default=True)]
        st.navigation(pages, position="hidden").run()
        return
    if "case" in st.query_params:  # a citizen with a case code: the lookup page and nothing else
        st.navigation([st.Page(partial(cases.public_page, store), title=t("case.public_title"), url_path="case",
                               default=True)], position="hidden").run()
        return
    user = login.current_user(store)
    if user is None:
        st.navigation([st.Page(partial(login.page, store), title=t("login.title"), url_path="login", default=True)],
                      position="hidden").run()
        return
    st.set_page_config(layout="wide")  # staff and leaders work on laptops and meeting-room screens
    login.sidebar(user)
    st.navigation(_pages(store, user)).run()


def _known_hosts() -> tuple[str, ...]:
    """The host names to answer (from SIPAS_BASE_URL), also set as Streamlit's `server.allowedHosts`
    for its own WebSocket check unless configured otherwise."""
    from streamlit import config as streamlit_config

    hosts = web.allowed_hosts(config.base_url())
    if not streamlit_config.get_option("server.allowedHosts"):
        streamlit_config.set_option("server.allowedHosts", list(hosts), "SIPAS_BASE_URL")
    return hosts


if __name__ == "__main__":  # a run of the page script (each rerun of each session)
    main()
else:  # imported by `streamlit run survey_app/app.py` (uvicorn): the ASGI application serving the pages,
    # with our security middleware around Streamlit's own (a direct start is as safe as one behind nginx)
    app = st.App(__file__, middleware=[Middleware(web.SecurityMiddleware, hosts=_known_hosts())])
