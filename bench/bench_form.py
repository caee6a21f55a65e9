"""Citizen form on a 360×740 phone: first render, and a full sipas-dvc answer by tapping.

Drives the real app (`streamlit run` on a temporary database) in Debian's Chromium and prints:
- first render: from navigation to the form being ready to tap;
- server time of a full answer (every tap and step, no pauses);
- a person's time: the same plus READ_SECONDS per question read and TAP_SECONDS per tap,
  an estimate for a citizen who reads every line (goal: under 90 s).
Run: .venv/bin/python bench/bench_form.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright

from tests.browser.conftest import CHROMIUM, PHONE, new_page, open_app, rerun, start_app
from tests.browser.test_form_browser import survey_link

READ_SECONDS = 2.0  # reading one question and choosing
TAP_SECONDS = 0.6  # moving the thumb to a button
RUNS = 3


def one_answer(page, url: str) -> tuple[float, float, int, int]:
    begun = time.perf_counter()
    open_app(page, url)
    page.locator("[data-testid=stRadio]").wait_for()
    first_render = time.perf_counter() - begun
    taps = questions = 0
    page.get_by_text("Đã nhận kết quả (được cấp").tap()
    with rerun(page):
        page.get_by_role("button", name="Tiếp tục →").tap()
    taps, questions = 2, 1
    while page.get_by_role("button", name="Gửi đánh giá").count() == 0:
        for pills in page.locator("[class*='st-key-r_']").all():
            pills.get_by_role("radio").nth(3).tap()
            taps, questions = taps + 1, questions + 1
        for question in page.locator("[class*='st-key-q_']").all():
            question.locator("button").first.tap()
            taps, questions = taps + 1, questions + 1
        with rerun(page):
            page.get_by_role("button", name="Tiếp tục →").tap()
        taps += 1
    with rerun(page):
        page.get_by_role("button", name="Gửi đánh giá").tap()
    page.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    return first_render, time.perf_counter() - begun, taps + 1, questions


def main() -> None:
    app = start_app(Path(tempfile.mkdtemp()))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for run in range(RUNS):
                with new_page(browser, 60_000, viewport=PHONE, is_mobile=True, has_touch=True) as page:
                    first, total, taps, questions = one_answer(page, survey_link(app, "q-cau-giay", "quay-1",
                                                                                 "sipas-dvc"))
                person = total + questions * READ_SECONDS + taps * TAP_SECONDS
                print(f"run {run + 1}: first render {first:.2f} s; full answer {total:.1f} s of server and browser "
                      f"time; {taps} taps, {questions} questions → a person ≈ {person:.0f} s")
            browser.close()
    finally:
        app.stop()


if __name__ == "__main__":
    main()
