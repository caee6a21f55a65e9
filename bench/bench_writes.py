"""Writes through the real path: WRITERS threads × PER_WRITER submissions each to store.submit.

Prints throughput (acknowledged responses per second), p50/p99/max latency of one submit (from the
call to the commit), and checks that every acknowledged response is stored exactly once.
Goal (../shared/DESIGN.md §7): ≥ 500/s, p99 ≤ 50 ms, none lost. The integrity rules are on
(defaults), and the database can first be filled with demo data (--demo N) so that the writer's
look-back queries run against a realistic table.

Run: .venv/bin/python bench/bench_writes.py [--writers 16] [--per-writer 1000] [--demo 0] [--rules on|off]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

from factories import dvc_answers, dvc_response  # noqa: E402

from survey_app.admin.units import import_units_file, list_units  # noqa: E402
from survey_app.core import config  # noqa: E402
from survey_app.demo.generate import generate_demo  # noqa: E402
from survey_app.store import Store, open_store  # noqa: E402


def responses_for(writer: int, count: int, unit_ids: list[str]) -> list[dict]:
    """Citizens at many counters, with varied answers and reading times, as in a busy morning."""
    rng = random.Random(writer)
    items = list(dvc_answers())
    return [dvc_response(unit_id=rng.choice(unit_ids), client_hash=f"{writer}-{n}", seconds_taken=rng.uniform(40, 240),
                         answers={item: rng.choice((2, 3, 4, 4, 5, 5)) for item in items})
            for n in range(count)]


def run(store: Store, writers: int, per_writer: int) -> None:
    unit_ids = [u.unit_id for u in list_units(store)]
    work = [responses_for(w, per_writer, unit_ids) for w in range(writers)]

    def writer(batch: list[dict]) -> list[tuple[str, float]]:
        done = []
        for response in batch:
            begun = time.perf_counter()
            result = store.submit(response)
            done.append((result.response_id, time.perf_counter() - begun))
        return done

    begun = time.perf_counter()
    with ThreadPoolExecutor(writers) as pool:
        results = [r for batch in pool.map(writer, work) for r in batch]
    elapsed = time.perf_counter() - begun
    latencies = sorted(seconds * 1000 for _, seconds in results)
    acknowledged = {response_id for response_id, _ in results}
    stored = {str(r[0]) for r in store.query("SELECT response_id FROM responses")}
    missing = len(acknowledged - stored)
    flagged = store.query("SELECT count(*) FROM responses WHERE status = 'flagged'")[0][0]
    print(f"{writers} writers × {per_writer} submissions: {len(results)} acknowledged in {elapsed:.2f} s "
          f"= {len(results) / elapsed:.0f}/s")
    print(f"latency per submit: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {latencies[int(0.99 * len(latencies)) - 1]:.1f} ms, max {latencies[-1]:.1f} ms")
    print(f"acknowledged and not stored: {missing}; stored in total: {len(stored)} (flagged: {flagged})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--per-writer", type=int, default=1000)
    parser.add_argument("--demo", type=int, default=0, help="demo responses written first")
    parser.add_argument("--rules", choices=("on", "off"), default="on", help="integrity rules in the writer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, open_store(Path(folder) / "bench.duckdb") as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        if args.demo:
            print(generate_demo(store, responses=args.demo, seed=1, days=120))
        if args.rules == "off":
            store.flag_rules = config.FlagRules(**{f.name: type(f.default)() for f in fields(config.FlagRules)})
        run(store, args.writers, args.per_writer)


if __name__ == "__main__":
    main()
