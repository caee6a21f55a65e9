"""The Streamlit entry point: a router. It decides which pages this visitor may see and runs one.

A survey link (?k=…) gets only the survey page; staff, leader and admin pages join the navigation
only after login, so a page not in the list cannot be reached at all.
"""

from __future__ import annotations

import atexit
import logging
from functools import partial

import streamlit as st

from survey_app import config
from survey_app.i18n import t
from survey_app.store import Store, StoreUnavailable, open_store
from survey_app.views import survey

log = logging.getLogger("survey_app")


@st.cache_resource(show_spinner=False)
def _store(path: str) -> Store:
    store = open_store(path)
    atexit.register(store.close)  # drain the write queue and checkpoint when the server stops
    return store


def _welcome() -> None:
    st.title(t("app.title"))
    st.info(t("link.none"))
    st.caption(t("link.none", "en"))


def main() -> None:
    st.set_page_config(page_title="SIPAS — " + t("app.title"), page_icon="🏛️", layout="centered")
    try:
        store = _store(str(config.db_path()))
    except StoreUnavailable as exc:
        log.error("database unavailable: %s", exc)
        st.error(t("app.unavailable"))
        st.caption(t("app.unavailable", "en"))
        return
    if "k" in st.query_params:
        pages = [st.Page(partial(survey.page, store), title=t("app.title"), url_path="survey", default=True)]
        st.navigation(pages, position="hidden").run()
        return
    st.navigation([st.Page(_welcome, title="SIPAS", default=True)], position="hidden").run()


main()
