"""Many citizens at once against the real Streamlit server, on 127.0.0.1 only, bounded in count and time.

Starts the app (`streamlit run`, fresh temporary database, integrity rules on) and SESSIONS browser
contexts in Debian's Chromium, each a different phone (its own user agent) at a different counter.
All open the form at once (or arriving over --ramp seconds), answer it and submit. Prints first-load
and submit latencies (p50/p95/max), errors, the server's CPU time, and what the database holds
afterwards (every thanked citizen must be there).

With --front the citizens go through the production front (survey_app.front: Debian's nginx serving
the static files and proxying the app); the server CPU then counts nginx's master and workers too.

Run: .venv/bin/python bench/bench_load.py [--sessions 50] [--instrument nhanh-3|sipas-dvc] [--ramp 0]
                                         [--timeout 300] [--front]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey_app import front
from survey_app.admin.units import DEFAULT_COUNTER, read_units_csv
from survey_app.core import config
from tests.browser.conftest import CHROMIUM, NOT_RUNNING, PHONE, LiveApp, Runs, start_app
from tests.browser.test_form_browser import survey_link

PAGE_TIMEOUT_MS = 90_000
THANKS = "Cảm ơn Ông/Bà!"


@dataclass
class Session:
    first_load: float | None = None
    submit: float | None = None
    error: str | None = None


_RUNS: dict[Page, Runs] = {}


def watch_runs(page: Page) -> None:
    """Follow the page's WebSocket to the app, for `rerun` (tests/browser/conftest.py's Runs, in async)."""
    runs = _RUNS[page] = Runs()
    page.on("websocket", runs.watch)
    page.on("request", runs.navigating)
    page.on("close", lambda closed: _RUNS.pop(closed, None))


@asynccontextmanager
async def rerun(page: Page) -> AsyncIterator[None]:
    """Around an action that makes the app run again: wait until the run it asked for has ended and the
    page is drawn (the async twin of tests/browser/conftest.py's `rerun`)."""
    runs = _RUNS[page]
    mark = runs.frames
    yield
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while not runs.done_since(mark):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app did not finish the run asked for within {PAGE_TIMEOUT_MS / 1000:g} s")
        if runs.socket is None or runs.socket.is_closed():
            await page.wait_for_event("websocket")
        else:
            try:  # slices of a second at most: a socket replaced meanwhile is noticed
                await runs.socket.wait_for_event("framereceived", timeout=1000)
            except PlaywrightError:
                continue
    await page.locator(NOT_RUNNING).wait_for()


async def open_form(page: Page, url: str) -> None:
    """Open the link and wait until the app's first run has drawn the page."""
    async with rerun(page):
        await page.goto(url)


async def _answer_quick(page: Page) -> None:
    async with rerun(page):  # nhanh-3 has no st.form: the face reruns the form
        await page.locator(".st-key-r_HL1").get_by_role("radio", name="Hài lòng", exact=True).tap()


async def _answer_full(page: Page) -> None:
    await page.get_by_text("Đã nhận kết quả (được cấp").tap()  # in the step's st.form: no rerun
    async with rerun(page):
        await page.get_by_role("button", name="Tiếp tục →").tap()
    while await page.get_by_role("button", name="Gửi đánh giá").count() == 0:
        for pills in await page.locator("[class*='st-key-r_']").all():
            await pills.get_by_role("radio").nth(3).tap()
        for question in await page.locator("[class*='st-key-q_']").all():
            await question.locator("button").first.tap()
        async with rerun(page):
            await page.get_by_role("button", name="Tiếp tục →").tap()


async def submit(page: Page) -> None:
    await page.get_by_role("button", name="Gửi đánh giá").tap()
    await page.get_by_text(THANKS).wait_for()


async def phone_page(browser: Browser, device: str) -> tuple[BrowserContext, Page]:
    """A phone of its own (its User-Agent names `device`, so each counts as one device), watched for runs."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN",
                                        user_agent=f"Mozilla/5.0 (Linux; Android 14; {device}) Mobile")
    page = await context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    watch_runs(page)
    return context, page


def failure(exc: Exception) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"


async def citizen(browser: Browser, url: str, n: int, instrument: str, delay: float) -> Session:
    await asyncio.sleep(delay)
    session = Session()
    context, page = await phone_page(browser, f"bench-phone-{n}")
    try:
        begun = time.perf_counter()
        await open_form(page, url)
        ready = ".st-key-r_HL1" if instrument == "nhanh-3" else "[data-testid=stRadio]"
        await page.locator(ready).wait_for()  # the form, not a refusal
        session.first_load = time.perf_counter() - begun
        await (_answer_quick(page) if instrument == "nhanh-3" else _answer_full(page))
        begun = time.perf_counter()
        await submit(page)
        session.submit = time.perf_counter() - begun
    except Exception as exc:  # a bench reports every failure and goes on
        session.error = failure(exc)
    finally:
        await context.close()
    return session


async def launch_chromium(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                        "--disable-dev-shm-usage"])


async def crowd(app: LiveApp, base_url: str, sessions: int, instrument: str, ramp: float,
                timeout: float) -> list[Session]:
    # The server holds the database: the units are those `init` loaded from the default file.
    units = [u.unit_id for u in read_units_csv(config.DEFAULT_UNITS_CSV.read_text(encoding="utf-8"))]
    urls = [survey_link(app, units[n % len(units)], DEFAULT_COUNTER[0], instrument, base_url=base_url)
            for n in range(sessions)]
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(citizen(browser, url, n, instrument, ramp * n / sessions)
                                 for n, url in enumerate(urls))), timeout)
        finally:
            await browser.close()


def cpu_seconds(pid: int | None) -> float:
    """User and system CPU time of a process so far (Linux /proc): the server's own cost, apart from the browser's."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def front_cpu(pid: int | None) -> float:
    """CPU seconds of nginx's master and its workers (its children), from /proc."""
    if pid is None:
        return 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def _figures(label: str, values: list[float]) -> str:
    if not values:
        return f"{label}: —"
    values = sorted(values)
    p95 = values[max(0, int(0.95 * len(values)) - 1)]
    return (f"{label}: p50 {statistics.median(values):.2f} s, p95 {p95:.2f} s, max {values[-1]:.2f} s "
            f"(n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--instrument", choices=("nhanh-3", "sipas-dvc"), default="nhanh-3")
    parser.add_argument("--ramp", type=float, default=0, help="spread the arrivals over this many seconds")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the whole crowd")
    parser.add_argument("--front", action="store_true", help="through the nginx front (survey_app.front)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-load-"))
    app = start_app(folder)  # binds 127.0.0.1 only
    nginx = front.start_front([int(app.url.rsplit(":", 1)[1])], folder / "front") if args.front else None
    nginx_pid = nginx.process.pid if nginx else None
    begun = time.perf_counter()
    cpu_before = cpu_seconds(app.process.pid) + front_cpu(nginx_pid)
    try:
        results = asyncio.run(crowd(app, nginx.url if nginx else app.url, args.sessions, args.instrument,
                                    args.ramp, args.timeout))
        server_cpu = cpu_seconds(app.process.pid) + front_cpu(nginx_pid) - cpu_before
    finally:
        elapsed = time.perf_counter() - begun
        if nginx is not None:
            nginx.stop()
        app.stop()
    thanked = [s for s in results if s.submit is not None]
    where = f"{nginx.url} (nginx front)" if nginx else app.url
    print(f"{args.sessions} sessions ({args.instrument}, arriving over {args.ramp:g} s) against {where} "
          f"in {elapsed:.1f} s; "
          f"server CPU {server_cpu:.1f} s ({1000 * server_cpu / args.sessions:.0f} ms per session; "
          f"{os.cpu_count()} cores shared with the browser)")
    print(_figures("first load (open link → form ready)", [s.first_load for s in results if s.first_load]))
    print(_figures("submit (tap → thank-you page)", [s.submit for s in thanked]))
    errors = [s.error for s in results if s.error]
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:10]))
    with duckdb.connect(str(app.db), read_only=True) as con:
        stored, flagged = con.execute("SELECT count(*), count(*) FILTER (WHERE status = 'flagged')"
                                      " FROM responses").fetchone()
    print(f"thanked: {len(thanked)}; stored: {stored} (flagged {flagged}); "
          f"{'every thanked citizen stored' if stored >= len(thanked) else 'RESPONSES MISSING'}")


if __name__ == "__main__":
    main()
