"""Priorities and honest rankings for every unit at 1 000 000 responses (issue: ≤ 3 s, bootstrap included).

Prints, for the year of the cached 1M demo database (bench/bench_aggregate.py builds it once):
- results.compute() by unit with margins (what priorities reuse), for reference;
- rank intervals, block standing and tied bands for every ranked unit (results/ranks.py);
- priorities of every unit: the per-respondent query, relative weights and their bootstrap
  (results/priorities.py), with the split between SQL and numpy;
each as wall and CPU seconds (the machine is shared: CPU time is the steadier figure), best of RUNS.
Run: .venv/bin/python bench/bench_decisions.py [--responses N] [--runs K]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_aggregate import database

from results import compute
from results.cchc import load_rules
from results.priorities import priorities
from results.ranks import standings
from survey_app.core.periods import period_between
from survey_app.db.backends import open_store
from survey_app.store import open_store as open_for_writing

RULES = Path(__file__).resolve().parent.parent / "results" / "rules" / "vi-du-ha-noi.yaml"


def timed(run: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of `runs` calls, and the last result."""
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = database(args.responses)
    open_for_writing(path).close()  # newer migrations (targets) on an older cached file
    table = load_rules(RULES)
    with open_store(path, read_only=True) as store:
        first, last = store.query("SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM responses")[0]
        period = period_between(first, last)
        wall, cpu, results = timed(lambda: compute(store, period, by="unit", choices=False, compare=False), args.runs)
        print(f"compute by unit with margins ({len(results.groups)} units): {wall:.2f} s wall, {cpu:.2f} s CPU")
        wall, cpu, ranked = timed(lambda: standings(results.groups, results.method.confidence_z), args.runs)
        print(f"rank intervals + block standing + bands ({len(ranked)} ranked units): {wall:.3f} s wall, "
              f"{cpu:.3f} s CPU")
        wall, cpu, found = timed(lambda: priorities(store, period, method=results.method, rules=table,
                                                    results=results), args.runs)
        methods = sorted({u.method or "none" for u in found})
        print(f"priorities, every unit ({len(found)}; methods {', '.join(methods)}): {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU")
        total = wall + timed(lambda: standings(results.groups), 1)[0]
        print(f"priorities + rank intervals, all units: {total:.2f} s wall (goal ≤ 3 s)")


if __name__ == "__main__":
    main()
