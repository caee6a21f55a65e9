"""What one citizen's whole visit costs the server: direct to Streamlit and through the nginx front, side by side.

Starts the app (`streamlit run`, fresh temporary database) and the production front (survey_app.front:
Debian's nginx in front of the same app process). Then VISITS whole sipas-dvc visits per target in
Debian's Chromium at 360×740, each a new phone (fresh browser context, empty cache): open the link, tap
through every step, submit, see the thank-you page. Prints per target:
- server CPU seconds per visit: the app process, and nginx's own (master + workers) through the front;
- bytes over the wire per first load: HTTP (bodies and headers as Chromium received them) and the
  WebSocket payload (Chromium reports it uncompressed);
- first render p50/p95 (open link → form ready to tap) and the whole visit p50;
- the app's RSS before and after (and every --rss-every visits: over 1 000 visits it must stay flat).

One warm-up visit per target is not counted (the first script run imports the pages). Visits run one at a
time (or --parallel P), so the CPU figures belong to them; the machine is shared, so CPU seconds, not
wall time, are the figures to compare.

Run: .venv/bin/python bench/bench_visit.py [--visits 10] [--parallel 1] [--rss-every 0] [--only direct|front]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_load import (
    _answer_full,
    cpu_seconds,
    failure,
    front_cpu,
    launch_chromium,
    open_form,
    phone_page,
    submit,
)

from survey_app import front
from tests.browser.conftest import LiveApp, start_app
from tests.browser.test_form_browser import survey_link

UNITS = ("q-cau-giay", "q-ba-dinh", "h-ba-vi", "so-tu-phap")


@dataclass
class Target:
    name: str
    base_url: str
    app_pid: int
    nginx_pid: int | None = None


@dataclass
class Visit:
    first_render: float | None = None
    whole: float | None = None
    http_bytes: int = 0
    ws_bytes: int = 0
    error: str | None = None


@dataclass
class Result:
    target: Target
    visits: list[Visit] = field(default_factory=list)
    app_cpu: float = 0.0
    nginx_cpu: float = 0.0
    rss_before: int = 0
    rss_after: int = 0


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Wire:
    """Bytes Chromium received for one page until `freeze()`: HTTP as sent, WebSocket payloads."""

    def __init__(self) -> None:
        self.http = self.ws = 0
        self.frozen = False

    def on_http(self, event: dict) -> None:
        if not self.frozen:
            self.http += int(event.get("encodedDataLength", 0))

    def on_ws(self, event: dict) -> None:
        if self.frozen:
            return
        payload = event["response"]["payloadData"]
        # Binary frames (Streamlit's protobuf messages) arrive base64-encoded.
        self.ws += len(base64.b64decode(payload)) if event["response"]["opcode"] == 2 else len(payload.encode())

    def freeze(self) -> None:
        self.frozen = True


async def visit(browser: Browser, url: str, n: int) -> Visit:
    result = Visit()
    context, page = await phone_page(browser, f"bench-visit-{n}")
    wire = Wire()
    cdp = await context.new_cdp_session(page)
    cdp.on("Network.loadingFinished", wire.on_http)
    cdp.on("Network.webSocketFrameReceived", wire.on_ws)
    await cdp.send("Network.enable")
    try:
        begun = time.perf_counter()
        await open_form(page, url)
        await page.locator("[data-testid=stRadio]").wait_for()  # the form, not a refusal
        result.first_render = time.perf_counter() - begun
        wire.freeze()
        await _answer_full(page)
        await submit(page)
        result.whole = time.perf_counter() - begun
    except Exception as exc:  # a bench reports every failure and goes on
        result.error = failure(exc)
    finally:
        result.http_bytes, result.ws_bytes = wire.http, wire.ws
        await context.close()
    return result


async def run_target(browser: Browser, target: Target, urls: list[str], parallel: int, rss_every: int) -> Result:
    await visit(browser, urls[0], -1)  # warm-up: the first run of each page imports it
    result = Result(target, rss_before=rss_bytes(target.app_pid))
    cpu_before, nginx_before = cpu_seconds(target.app_pid), front_cpu(target.nginx_pid)
    gate = asyncio.Semaphore(parallel)
    done = 0

    async def one(n: int, url: str) -> Visit:
        nonlocal done
        async with gate:
            outcome = await visit(browser, url, n)
        done += 1
        if rss_every and done % rss_every == 0:
            print(f"  {target.name}: after {done} visits the app's RSS is {rss_bytes(target.app_pid) / 2**20:.0f} MB "
                  f"(CPU {cpu_seconds(target.app_pid) - cpu_before:.1f} s)", flush=True)
        return outcome

    result.visits = list(await asyncio.gather(*(one(n, url) for n, url in enumerate(urls))))
    result.app_cpu = cpu_seconds(target.app_pid) - cpu_before
    result.nginx_cpu = front_cpu(target.nginx_pid) - nginx_before
    result.rss_after = rss_bytes(target.app_pid)
    return result


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, round(q * len(values)) - 1)]


def report(result: Result) -> None:
    ok = [v for v in result.visits if v.whole is not None]
    n = max(1, len(result.visits))
    first = [v.first_render for v in result.visits if v.first_render is not None]
    print(f"\n{result.target.name} ({result.target.base_url}): {len(ok)}/{len(result.visits)} visits completed")
    nginx = f" + nginx {result.nginx_cpu / n:.3f} s" if result.target.nginx_pid else ""
    print(f"  server CPU per whole visit: app {result.app_cpu / n:.3f} s{nginx}")
    if first:
        http = statistics.median(v.http_bytes for v in result.visits) / 1024
        ws = statistics.median(v.ws_bytes for v in result.visits) / 1024
        print(f"  first load over the wire: HTTP {http:.0f} KB + WebSocket {ws:.0f} KB = {http + ws:.0f} KB (median)")
        print(f"  first render: p50 {statistics.median(first):.2f} s, p95 {_p(first, 0.95):.2f} s; "
              f"whole visit p50 {statistics.median(v.whole for v in ok) if ok else float('nan'):.2f} s")
    print(f"  app RSS: {result.rss_before / 2**20:.0f} MB before, {result.rss_after / 2**20:.0f} MB after")
    errors = [v.error for v in result.visits if v.error]
    if errors:
        print(f"  errors: {len(errors)}" + "".join(f"\n    {e}" for e in errors[:5]))


def urls_for(app: LiveApp, base_url: str, count: int) -> list[str]:
    return [survey_link(app, UNITS[n % len(UNITS)], "quay-1", "sipas-dvc", base_url=base_url) for n in range(count)]


async def main_async(args: argparse.Namespace, app: LiveApp, nginx: front.Nginx | None) -> list[Result]:
    targets = []
    if args.only in (None, "direct"):
        targets.append(Target("direct to Streamlit", app.url, app.process.pid))
    if nginx is not None:
        targets.append(Target("through the nginx front", nginx.url, app.process.pid, nginx.process.pid))
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            return [await run_target(browser, target, urls_for(app, target.base_url, args.visits),
                                     args.parallel, args.rss_every) for target in targets]
        finally:
            await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=1, help="visits at once (1: the CPU is theirs alone)")
    parser.add_argument("--rss-every", type=int, default=0, help="print the app's RSS every this many visits")
    parser.add_argument("--only", choices=("direct", "front"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sipas-visit-"))
    app = start_app(folder)  # binds 127.0.0.1 only
    nginx = None
    try:
        if args.only in (None, "front"):
            nginx = front.start_front([int(app.url.rsplit(":", 1)[1])], folder / "front")
        begun = time.perf_counter()
        results = asyncio.run(main_async(args, app, nginx))
        elapsed = time.perf_counter() - begun
    finally:
        if nginx is not None:
            nginx.stop()
        app.stop()
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{args.visits} whole sipas-dvc visits per target, {args.parallel} at a time, in {elapsed:.0f} s; "
          f"load average {' '.join(load)} on {os.cpu_count()} shared cores")
    for result in results:
        report(result)


if __name__ == "__main__":
    main()
