"""The leaders' dashboard on 1 000 000 responses: first render, refresh, and bytes per refresh.

Prints (quality bar, DESIGN.md §7 and issue 6: first render ≤ 2 s, refresh ≤ 0.5 s on this machine):
- each data function the first render calls (city level, this quarter against the last), with
  nothing cached, best and median of RUNS, and their sum;
- the data functions of the other tabs, likewise;
- the page itself through AppTest: the first run (Streamlit's caches empty) and a refresh (what
  `run_every` does: cached aggregates, charts rebuilt and sent again), for the opening tab and each
  other tab, with the bytes of every element sent to the browser (protobuf, before the WebSocket's
  compression) and the part of them that is chart specs and data.
The database is bench_aggregate.py's cached demo (1M responses over a year), copied so that the two
benchmarks never hold the same file.
Run: .venv/bin/python bench/bench_dashboard.py [--responses N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_aggregate import database  # the shared 1M-response demo database
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Node

from results import compute, live
from results.slicing import Slice, SlicedSource
from survey_app.core.periods import current_quarter
from survey_app.store import open_store
from survey_app.ui import dashboard

RUNS = 3
BENCH_LEADER = "lanh-dao-bench"
INSTRUMENT = "sipas-dvc"
UNIT = "q-cau-giay"  # a busy district, for the unit-level functions


def timed(work: Callable[[], object]) -> str:
    seconds = []
    for _ in range(RUNS):
        begun = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - begun)
    return f"best {min(seconds):6.3f} s   median {statistics.median(seconds):6.3f} s"


def data_functions(db: Path) -> None:
    period = current_quarter()
    with open_store(db, read_only=True) as store:
        city, unit = SlicedSource(store, Slice()), SlicedSource(store, Slice(frozenset({UNIT})))
        n = sum(g.n for g in compute(city, period, margins=False, choices=False, compare=False).groups)
        print(f"\nperiod {period.title()} against {period.previous().title()}: {n:,} counted responses")
        first = {
            "data_span (fresh-install check, period list)": lambda: live.data_span(city, INSTRUMENT),
            "compute by unit (+margins, choices, change)": lambda: compute(city, period, instrument_id=INSTRUMENT),
            "responses_today": lambda: live.responses_today(city, INSTRUMENT),
        }
        others = {
            "trend by week (2 quarters, with margins)": lambda: live.trend(city, period, "week", INSTRUMENT),
            "hour × weekday": lambda: live.hour_weekday(city, period, INSTRUMENT),
            "feed (50 newest)": lambda: live.feed(city, period, INSTRUMENT),
            f"compute by counter, {UNIT}": lambda: compute(unit, period, by="counter", instrument_id=INSTRUMENT,
                                                          choices=False, compare=False),
            f"compute by unit, {UNIT} slice": lambda: compute(unit, period, instrument_id=INSTRUMENT),
        }
        print("\nfirst render, data functions with nothing cached (goal: sum ≤ 2 s)")
        total = 0.0
        for name, work in first.items():
            begun = time.perf_counter()
            work()
            total += time.perf_counter() - begun
            print(f"  {name:<46} {timed(work)}")
        print(f"  {'sum of one cold call each':<46} {total:6.3f} s")
        print("\nother tabs, data functions with nothing cached")
        for name, work in others.items():
            print(f"  {name:<46} {timed(work)}")


def dashboard_app(db: str) -> None:
    import streamlit as st

    from survey_app.admin import sessions
    from survey_app.admin.accounts import get_user
    from survey_app.store import open_store
    from survey_app.ui import dashboard, login

    with open_store(db, read_only=True) as store:
        user = get_user(store, BENCH_LEADER)
        assert user is not None
        st.session_state.setdefault(login.TICKET, sessions.open_ticket(store, user))  # fragments check it
        dashboard.page(store, None)


def nodes(block: Block) -> Iterator[Node]:
    for child in block.children.values():
        yield child
        if isinstance(child, Block):
            yield from nodes(child)


def sent_bytes(at: AppTest) -> tuple[int, int]:
    """Bytes of every element of the run, and of the Vega-Lite charts among them."""
    sizes = [(n.type, len(n.proto.SerializeToString())) for root in (at.main, at.sidebar) for n in nodes(root)
             if getattr(n, "proto", None) is not None]
    return sum(s for _, s in sizes), sum(s for kind, s in sizes if kind == "vega_lite_chart")


def run(at: AppTest) -> float:
    begun = time.perf_counter()
    at.run()
    if at.exception:
        raise RuntimeError(at.exception)
    return time.perf_counter() - begun


def page(db: Path) -> None:
    at = AppTest.from_function(dashboard_app, args=(str(db),), default_timeout=600)
    first = run(at)
    print("\nthe page in AppTest (goal: first render ≤ 2 s, refresh ≤ 0.5 s)")
    print(f"  {'tab':<28} {'first run':>10} {'refresh':>9} {'bytes/refresh':>14} {'of which charts':>16}")
    refresh = min(run(at) for _ in range(RUNS))
    total, charts = sent_bytes(at)
    print(f"  {dashboard.t('dash.tab.ranking'):<28} {first:9.3f}s {refresh:8.3f}s {total:14,} {charts:16,}")
    for name in ("elements", "items", "trend", "choices", "feed", "files"):
        label = dashboard.t(f"dash.tab.{name}")
        at.session_state[dashboard.TAB] = label
        first = run(at)
        refresh = min(run(at) for _ in range(RUNS))
        total, charts = sent_bytes(at)
        print(f"  {label:<28} {first:9.3f}s {refresh:8.3f}s {total:14,} {charts:16,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "dashboard.duckdb"
        shutil.copyfile(database(args.responses), db)
        with open_store(db) as store:  # the page's live part runs for a logged-in leader only
            store.write(lambda con: con.execute(
                "INSERT INTO users (username, role, password_hash, created_at, active) VALUES"
                " (?, 'leader', NULL, current_timestamp, TRUE) ON CONFLICT DO NOTHING", [BENCH_LEADER]))
        print(f"database: {args.responses:,} demo responses ({db.stat().st_size / 1e6:.0f} MB)")
        data_functions(db)
        page(db)


if __name__ == "__main__":
    main()
