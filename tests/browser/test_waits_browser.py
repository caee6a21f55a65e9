"""The browser tests' own wait (conftest `rerun`): it returns once the run the browser asked for has
ended and is drawn, also after a reload (a new WebSocket) and on a second page of the same context."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from .conftest import LiveApp, open_app, rerun
from .test_form_browser import rating, survey_link

pytestmark = pytest.mark.browser


def reasons(page: Page) -> int:
    """How many reason groups are drawn right now (no waiting): nhanh-3 draws one after a sad face."""
    return page.locator(".st-key-q_ly_do").count()


def sad_face(page: Page) -> None:
    with rerun(page):  # nhanh-3 has no st.form: the tap reruns the form and draws the reasons
        rating(page, "HL1", "Không hài lòng").tap()


def test_rerun_waits_for_the_run_after_a_reload_and_on_a_new_page(live_app: LiveApp, phone: Page) -> None:
    url = survey_link(live_app, "h-ba-vi", "quay-1", "nhanh-3")
    open_app(phone, url)
    assert phone.locator(".st-key-r_HL1").count() == 1 and reasons(phone) == 0
    sad_face(phone)
    assert reasons(phone) == 1

    with rerun(phone):  # a new document, socket and session: its first run is the one waited for
        phone.reload()
    assert phone.locator(".st-key-r_HL1").count() == 1 and reasons(phone) == 0
    sad_face(phone)  # the wait follows the new socket
    assert reasons(phone) == 1

    second = phone.context.new_page()  # watched too: new_page() watches every page of its context
    open_app(second, url)
    assert second.locator(".st-key-r_HL1").count() == 1 and reasons(second) == 0
    sad_face(second)
    assert reasons(second) == 1
    second.close()
    with pytest.raises(LookupError), rerun(second):  # a closed page is no longer watched: an error, not a hang
        pass
