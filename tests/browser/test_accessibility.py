"""The citizen form for everyone: axe-core finds no WCAG 2.1 A/AA violation on any page a citizen,
a counter clerk or a leader sees; larger text fits a 360 px phone; the form works by keyboard alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from survey_app.ui.survey import KIOSK_RESET_SECONDS

from .axe_check import assert_accessible
from .conftest import NOT_RUNNING, LiveApp, new_page, open_app, rerun, shot, start_app, start_demo_app
from .test_admin_browser import ADMIN, PASSWORD, log_in
from .test_dashboard_browser import TABS, open_tab
from .test_form_browser import next_step, rating, survey_link

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_app(tmp_path_factory.mktemp("a11y"))
    yield app
    app.stop()


def lang(page: Page) -> str:
    return page.evaluate("document.documentElement.lang")


def answer_step(page: Page) -> None:
    """Tap an answer in every rating group and question of the step shown."""
    for pills in page.locator("[class*='st-key-r_']").all():
        item_id = next(c for c in (pills.get_attribute("class") or "").split() if c.startswith("st-key-r_"))[9:]
        rating(page, item_id, "Chưa phản ánh, kiến nghị" if item_id.startswith("PA") else "4").tap()  # in a form
    for question in page.locator("[class*='st-key-q_']").all():
        question.locator("button").first.tap()


def test_every_step_of_sipas_dvc_and_the_thanks_page(live_app: LiveApp, phone: Page) -> None:
    open_app(phone, survey_link(live_app, "q-cau-giay", "quay-1", "sipas-dvc"))
    phone.get_by_text("Quận Cầu Giấy — Quầy 1").wait_for()
    assert lang(phone) == "vi"
    assert_accessible(phone, "sipas-dvc start")
    phone.get_by_text("Đã nhận kết quả (được cấp").tap()
    next_step(phone)
    step = 1
    while phone.get_by_role("button", name="Gửi đánh giá").count() == 0:
        assert_accessible(phone, f"sipas-dvc step {step}")
        for pills in phone.locator("[class*='st-key-r_']").all():  # a screen reader names each group by its question
            name = pills.get_by_role("radiogroup").get_attribute("aria-label") or ""
            question = pills.evaluate("e => e.previousElementSibling.innerText")  # the bold text shown above
            assert name and name in question, (name, question)
        answer_step(phone)
        next_step(phone)
        step += 1
    assert_accessible(phone, "sipas-dvc last step")
    next_step(phone, "Gửi đánh giá")
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    assert_accessible(phone, "thank-you page")


def test_english_form_says_so_to_the_browser(live_app: LiveApp, phone: Page) -> None:
    open_app(phone, survey_link(live_app, "q-cau-giay", None, "sipas-dvc"))
    with rerun(phone):
        phone.get_by_role("button", name="English").tap()
    phone.get_by_role("button", name="Next →").wait_for()
    assert lang(phone) == "en"
    assert_accessible(phone, "sipas-dvc start in English")


def test_quick_kiosk_form_its_thanks_and_the_reset(live_app: LiveApp, browser: Browser) -> None:
    with new_page(browser, 30_000, viewport={"width": 800, "height": 1280}, has_touch=True, locale="vi-VN") as tablet:
        open_app(tablet, survey_link(live_app, "h-ba-vi", "quay-1", "nhanh-3", channel="kiosk"))
        assert_accessible(tablet, "nhanh-3")
        with rerun(tablet):  # no st.form in nhanh-3: the face reruns the form and shows the reasons
            rating(tablet, "HL1", "Không hài lòng").tap()
        tablet.locator(".st-key-q_ly_do").wait_for()
        assert_accessible(tablet, "nhanh-3 with its reasons")
        with rerun(tablet):
            tablet.get_by_role("button", name="Gửi đánh giá").tap()
        tablet.get_by_text("Cảm ơn Ông/Bà!").wait_for()
        assert_accessible(tablet, "kiosk thank-you page")
        # The kiosk resets for the next citizen on a timer (a run the browser did not ask for): the form
        # is back once that run draws it, and whole once the run has ended.
        tablet.locator(".st-key-r_HL1").wait_for(timeout=(KIOSK_RESET_SECONDS + 30) * 1000)
        tablet.locator(NOT_RUNNING).wait_for()
        assert_accessible(tablet, "kiosk after the reset")


def test_refusal_page_and_login_page(live_app: LiveApp, phone: Page) -> None:
    url = survey_link(live_app, "q-cau-giay", "quay-1", "sipas-dvc")
    open_app(phone, url[:-14] + "AA&embed=true")  # the signature no longer matches
    phone.get_by_text("Không mở được phiếu đánh giá").wait_for()
    assert lang(phone) == "vi"
    assert_accessible(phone, "refusal of a bad link")
    open_app(phone, live_app.url)
    phone.get_by_label("Tên đăng nhập").fill("can-bo")
    hint = phone.locator("[data-testid=InputInstructions]").first
    hint.wait_for(state="attached")  # Streamlit writes "Press Enter to submit form" there: not shown
    assert not hint.is_visible()
    assert lang(phone) == "vi"
    assert_accessible(phone, "login page")


def fits_width(page: Page) -> bool:
    return page.evaluate("(() => { const e = document.scrollingElement;"
                         " const main = document.querySelector('[data-testid=stMain]');"
                         " return e.scrollWidth <= e.clientWidth && main.scrollWidth <= main.clientWidth; })()")


def test_larger_text_from_the_link_fits_a_phone_on_every_step(live_app: LiveApp, phone: Page) -> None:
    url = survey_link(live_app, "q-cau-giay", "quay-1", "sipas-dvc")
    open_app(phone, url)
    normal = phone.evaluate("getComputedStyle(document.documentElement).fontSize")
    shot(phone, "a11y-normal-text")
    open_app(phone, url + "&large=1")  # a separate parameter: the signed k is untouched
    phone.get_by_text("Quận Cầu Giấy — Quầy 1").wait_for()
    large = phone.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(large[:-2]) >= 1.25 * float(normal[:-2])
    assert phone.get_by_role("switch", name="Chữ lớn").is_checked()
    assert fits_width(phone)
    shot(phone, "a11y-large-0-start")
    assert_accessible(phone, "sipas-dvc start, larger text")
    phone.get_by_text("Đã nhận kết quả (được cấp").tap()
    next_step(phone)
    step = 1
    while phone.get_by_role("button", name="Gửi đánh giá").count() == 0:
        assert fits_width(phone), f"step {step} scrolls sideways at 360 px with larger text"
        shot(phone, f"a11y-large-{step}")
        answer_step(phone)
        next_step(phone)
        step += 1
    assert fits_width(phone)
    shot(phone, f"a11y-large-{step}-last")
    assert phone.get_by_role("switch", name="Chữ lớn").is_checked()  # kept through the steps


def test_switching_larger_text_on_the_form(live_app: LiveApp, phone: Page) -> None:
    open_app(phone, survey_link(live_app, "q-cau-giay", "quay-1", "nhanh-3"))
    normal = phone.evaluate("getComputedStyle(document.documentElement).fontSize")
    with rerun(phone):  # the switch is outside any form: it reruns the page
        phone.get_by_text("Chữ lớn", exact=True).tap()
    assert phone.evaluate("getComputedStyle(document.documentElement).fontSize") != normal
    assert fits_width(phone)
    shot(phone, "a11y-large-nhanh-3")


def tab_to(page: Page, predicate: str, what: str, limit: int = 60, key: str = "Tab") -> None:
    """Press `key` until the focused element satisfies `predicate` (JavaScript, `e` is the element)."""
    for _ in range(limit):
        if page.evaluate(f"(e => Boolean({predicate}))(document.activeElement)"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} never reached {what}")


def in_group(key: str, text: str = "") -> str:
    inside = f"e.closest('.st-key-{key}')"
    return f"{inside} && e.matches('button, input') && e.innerText.trim().endsWith({text!r})" if text else \
        f"{inside} && e.matches('button, input')"


def press_button(page: Page, label: str) -> None:
    tab_to(page, f"e.tagName === 'BUTTON' && e.innerText.trim() === {label!r}", label)
    with rerun(page):  # the step's form submit button
        page.keyboard.press("Enter")


def test_the_whole_form_by_keyboard_alone(live_app: LiveApp, phone: Page) -> None:
    open_app(phone, survey_link(live_app, "q-hoan-kiem", "quay-1", "sipas-dvc"))
    phone.get_by_text("Quận Hoàn Kiếm — Quầy 1").wait_for()
    tab_to(phone, in_group("stage"), "the first answer about the result")  # "Đã nhận kết quả"
    phone.keyboard.press("Space")
    heading = phone.locator("[data-testid=stForm] h3").inner_text()
    press_button(phone, "Tiếp tục →")
    step = 1
    while phone.get_by_role("button", name="Gửi đánh giá").count() == 0:
        # The focus is at the top of the new step: on its heading, which is not the last step's.
        phone.wait_for_function("document.activeElement.matches('[data-testid=stForm] h3')"
                                " && document.activeElement.innerText !== " + repr(heading))
        heading = phone.evaluate("document.activeElement.innerText")
        for pills in phone.locator("[class*='st-key-r_']").all():
            key = next(c for c in (pills.get_attribute("class") or "").split() if c.startswith("st-key-r_"))[7:]
            # A rating group is one Tab stop (a radio group): arrows move inside it, Space picks.
            tab_to(phone, in_group(key), key)
            tab_to(phone, in_group(key, "Chưa phản ánh, kiến nghị" if key.startswith("r_PA") else "4"), key,
                   limit=8, key="ArrowRight")
            phone.keyboard.press("Space")
        for question in phone.locator("[class*='st-key-q_']").all():
            key = next(c for c in (question.get_attribute("class") or "").split() if c.startswith("st-key-q_"))[7:]
            tab_to(phone, in_group(key), key)
            phone.keyboard.press("Space")
        shot(phone, f"a11y-keyboard-{step}")
        press_button(phone, "Tiếp tục →")
        assert phone.get_by_text("câu chưa trả lời").count() == 0, f"step {step} did not validate"
        step += 1
    tab_to(phone, "e.closest('.st-key-comment') && e.tagName === 'TEXTAREA'", "the comment box")
    phone.keyboard.type("Rất tốt")
    hints = phone.locator(".st-key-comment [data-testid=InputInstructions]")
    hints.filter(has_text="7/").wait_for()  # the counter stays, Streamlit's English hint goes
    assert "Ctrl" not in hints.inner_text() and "7/" in hints.inner_text()
    press_button(phone, "Gửi đánh giá")
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    assert step == 7  # start, TC, TT, CC, KQ, PA, overall, then the last


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = start_demo_app(tmp_path_factory.mktemp("a11y-demo"), responses=2000, seed=5,
                         user=(ADMIN, "admin", PASSWORD))
    yield app
    app.stop()


def test_staff_pages_dashboard_tabs_and_qr_page(demo_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, demo_app, ADMIN, PASSWORD, "Đơn vị và quầy")
    with rerun(laptop):
        laptop.get_by_role("link", name="Kết quả đánh giá").click()
    laptop.get_by_role("heading", name="Kết quả đánh giá sự hài lòng").wait_for()
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    assert lang(laptop) == "vi"
    assert_accessible(laptop, "dashboard, first tab")
    for label in TABS:
        open_tab(laptop, label)
        assert_accessible(laptop, f"dashboard tab {label!r}")
    with rerun(laptop):
        laptop.get_by_role("link", name="Mã QR và áp phích").click()
    laptop.get_by_role("heading", name="Mã QR và áp phích").wait_for()
    assert_accessible(laptop, "staff QR page")
