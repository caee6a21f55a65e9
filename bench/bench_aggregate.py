"""The period's results on 1 000 000 sipas-dvc responses, as a user waits for them, against pandas.

Prints side by side in one run (issue 17: whole command ≤ 1.5 s, pandas ≥ 10× slower, dashboard first
render ≤ 1 s, trend tab ≤ 1 s on this 2-core machine):
- `python -m results compute --from 2000-01-01 --to 2100-01-01 --by unit --format json` as a whole
  process (start-up, imports, opening the database, the computation, the JSON), best and median of
  RUNS, wall and CPU seconds;
- the same compute() and JSON inside this process (modules imported, database open);
- the same output in pandas — per unit the item, element and SIPAS indices and the margin of error
  (linearisation, SIPAS.md §3), for the period and the one before it — as a whole process (reading the
  tables out of DuckDB included) and its computation alone, after checking both give the same numbers;
- the dashboard at city level, this quarter against the last, nothing cached: the data of its first
  render (data_span, compute with margins, choices and change, responses_today) and the trend tab
  (SIPAS with its margin per week and per month over two quarters).
CPU seconds count every thread (and child process): they say what the work costs whatever the load.
The database is made once by the demo generator and cached in bench/.cache/.
Run: .venv/bin/python bench/bench_aggregate.py [--responses N] [--runs N] [--skip-pandas]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CACHE = Path(__file__).resolve().parent / ".cache"
INSTRUMENT = "sipas-dvc"
SATISFIED = 4  # sipas-dvc: codes 4 and 5
FROM, TO = "2000-01-01", "2100-01-01"
COMMAND = ["-m", "results", "compute", "--from", FROM, "--to", TO, "--by", "unit", "--format", "json"]


def database(responses: int) -> Path:
    """The cached demo database with `responses` responses (made on first use)."""
    from survey_app.admin.units import import_units_file
    from survey_app.core import config
    from survey_app.demo.generate import generate_demo
    from survey_app.store import open_store

    path = CACHE / f"aggregate-{responses}.duckdb"
    if path.exists():
        open_store(path).close()  # newer migrations (the commands open it read-only, applying nothing)
        return path
    CACHE.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    print(f"building {path.name} (once) …", flush=True)
    with open_store(partial) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        print(" ", generate_demo(store, responses=responses, seed=2026, days=365), flush=True)
    partial.rename(path)
    return path


@dataclass
class Timing:
    """Wall and CPU seconds of each run. The machine is shared, so the best wall time is the figure."""

    wall: list[float]
    cpu: list[float]

    def __str__(self) -> str:
        return (f"best {min(self.wall):6.3f} s, median {statistics.median(self.wall):6.3f} s wall; "
                f"{min(self.cpu):5.2f} CPU-s")


def timed(work: Callable[[], object], runs: int) -> tuple[Timing, object]:
    timing, result = Timing([], []), None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        timing.wall.append(time.perf_counter() - wall)
        timing.cpu.append(time.process_time() - cpu)
    return timing, result


def process(args: list[str], runs: int) -> tuple[Timing, str]:
    """A whole Python process, as a user starts it: wall seconds, and CPU seconds of the child."""
    timing, out = Timing([], []), ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=True)
        timing.wall.append(time.perf_counter() - wall)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        timing.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out = done.stdout
    return timing, out


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


# -- the pandas baseline ------------------------------------------------------------------------------

def pandas_process(db: str) -> None:
    """Run by the benchmark as its own process: read the tables with DuckDB into pandas, compute
    every unit's indices and margin for the period and the one before it, print them as JSON."""
    import pandas as pd

    from results import period_between
    from survey_app.core.instruments import load_instruments
    from survey_app.core.periods import parse_date

    begun = time.perf_counter()
    with duckdb.connect(db, read_only=True) as con:
        con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        responses = con.execute(  # strings: pandas has no UUID type
            "SELECT response_id::VARCHAR AS response_id, submitted_at, unit_id, instrument_id, status FROM responses"
        ).to_arrow_table().to_pandas()
        answers = con.execute("SELECT response_id::VARCHAR AS response_id, item_id, value FROM answers"
                              ).to_arrow_table().to_pandas()
    items = pd.DataFrame([(i.id, i.element_id) for i in load_instruments()[INSTRUMENT].items],
                         columns=["item_id", "element_id"])
    loaded = time.perf_counter()
    period = period_between(parse_date(FROM), parse_date(TO))
    out = {"now": pandas_indices(responses, answers, items, period.start, period.end),
           "before": pandas_indices(responses, answers, items, period.previous().start, period.previous().end)}
    print(json.dumps({"load": loaded - begun, "compute": time.perf_counter() - loaded, **out}))


def pandas_indices(responses: object, answers: object, items: object, start: object, end: object) -> dict:
    """S_i per unit and item, S_e their mean, SIPAS the mean of S_e, and its margin by linearisation."""
    import pandas as pd

    assert isinstance(responses, pd.DataFrame) and isinstance(answers, pd.DataFrame)
    counted = responses[(responses.instrument_id == INSTRUMENT) & (responses.status == "ok")
                        & (responses.submitted_at >= start) & (responses.submitted_at < end)]
    n = counted.groupby("unit_id").size().rename("n")
    rated = answers.merge(counted[["response_id", "unit_id"]], on="response_id").merge(items, on="item_id")
    rated = rated[rated.value.notna()]
    rated = rated.assign(s=(rated.value >= SATISFIED).astype(float))
    per_item = rated.groupby(["unit_id", "element_id", "item_id"]).s.agg(["mean", "size"]).reset_index()
    per_item["k"] = per_item.groupby(["unit_id", "element_id"]).item_id.transform("size")
    per_item["e"] = per_item.groupby("unit_id").element_id.transform("nunique")
    per_element = per_item.groupby(["unit_id", "element_id"])["mean"].mean() * 100
    sipas = per_element.groupby("unit_id").mean()
    # z_r = Σ a_i (s_ri − p_i), a_i = 100·w_i·n/n_i with w_i = 1/(E·k_e): SIPAS.md §3
    per_item = per_item.join(n, on="unit_id")
    per_item["a"] = 100 / (per_item.e * per_item.k) * per_item.n / per_item["size"]
    terms = rated.merge(per_item[["unit_id", "item_id", "a", "mean"]], on=["unit_id", "item_id"])
    terms["z"] = terms.a * (terms.s - terms["mean"])
    z = terms.groupby(["unit_id", "response_id"]).z.sum()
    sum_z2 = (z * z).groupby(level="unit_id").sum()
    moe = 1.96 * (sum_z2 / (n * (n - 1))).pow(0.5)
    return {u: {"sipas": sipas[u], "moe": moe[u], "elements": per_element[u].to_dict()} for u in sipas.index}


def same_numbers(ours: list[dict], theirs: dict) -> int:
    """Assert pandas and our command agree on every unit's SIPAS, elements and margin; the unit count."""
    indexed = {g["unit_id"]: g for g in ours if g["sipas"] is not None}
    assert set(indexed) == set(theirs), "pandas and results see different units"
    for unit, mine in indexed.items():
        other = theirs[unit]
        assert math.isclose(mine["sipas"], other["sipas"], rel_tol=1e-9), unit
        assert math.isclose(mine["moe"], other["moe"], rel_tol=1e-9), unit
        assert all(math.isclose(mine["elements"][e], v, rel_tol=1e-9) for e, v in other["elements"].items()), unit
    return len(indexed)


# -- the dashboard -------------------------------------------------------------------------------------

def dashboard(db: Path) -> None:
    from results import compute, live
    from results.slicing import Slice, SlicedSource
    from survey_app.core.periods import current_quarter
    from survey_app.store import open_store

    period = current_quarter()
    with open_store(db, read_only=True) as store:
        city = SlicedSource(store, Slice())
        first = {
            "data_span": lambda: live.data_span(city, INSTRUMENT),
            "compute by unit (+margins, choices, change)": lambda: compute(city, period, instrument_id=INSTRUMENT),
            "responses_today": lambda: live.responses_today(city, INSTRUMENT),
        }
        print(f"\ndashboard, city level, {period.title()} against {period.previous().title()}, nothing cached")
        total_wall = total_cpu = 0.0
        for name, work in first.items():
            timing, _ = timed(work, 1)  # cold: the first call of each, as a first visit makes it
            total_wall, total_cpu = total_wall + timing.wall[0], total_cpu + timing.cpu[0]
            print(f"  {name:<46} {timing.wall[0]:6.3f} s wall; {timing.cpu[0]:5.2f} CPU-s")
        print(f"  {'first render, data (goal ≤ 1 s)':<46} {total_wall:6.3f} s wall; {total_cpu:5.2f} CPU-s  ({load()})")
        for grain in ("week", "month"):
            timing, _ = timed(lambda grain=grain: live.trend(city, period, grain, INSTRUMENT), 3)
            print(f"  {f'trend tab by {grain} (goal ≤ 1 s)':<46} {timing}")


# -- the run -------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the pandas baseline (minutes)")
    parser.add_argument("--pandas-process", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pandas_process:
        pandas_process(args.pandas_process)
        return
    path = database(args.responses)
    with duckdb.connect(str(path), read_only=True) as con:
        n, answers = con.execute("SELECT (SELECT count(*) FROM responses), (SELECT count(*) FROM answers)").fetchone()
    print(f"database: {path} ({path.stat().st_size / 2**20:.0f} MiB), {n:,} responses, {answers:,} answers; "
          f"{os.cpu_count()} cores, {load()}, duckdb {duckdb.__version__}")

    whole, printed = process([*COMMAND, "--db", str(path)], args.runs)
    print(f"\nresults compute … --format json, whole process:   {whole}  (goal ≤ 1.5 s; {load()})")

    from results import compute, period_between
    from results.export import to_json
    from survey_app.core.periods import parse_date
    from survey_app.store import open_store

    with open_store(path, read_only=True) as store:
        period = period_between(parse_date(FROM), parse_date(TO))
        inside, _ = timed(lambda: to_json(compute(store, period)), args.runs)
    print(f"same compute() + JSON inside this process:         {inside}")
    if args.skip_pandas:
        dashboard(path)
        return

    pandas, out = process([str(Path(__file__).resolve()), "--pandas-process", str(path)], 1)
    theirs = json.loads(out)
    units = same_numbers(json.loads(printed), theirs["now"])
    assert not theirs["before"], "the period before 2000 has no responses"
    print(f"pandas, same indices and margins, whole process:   {pandas}  "
          f"(reading the tables {theirs['load']:.1f} s, computing {theirs['compute']:.1f} s; "
          f"same SIPAS, elements and margins for all {units} units)")
    print(f"ratio pandas / results: {min(pandas.wall) / min(whole.wall):.1f}× wall as processes (goal ≥ 10×), "
          f"{min(pandas.cpu) / min(whole.cpu):.1f}× CPU; computation alone "
          f"{theirs['compute'] / min(inside.wall):.1f}× wall")
    dashboard(path)


if __name__ == "__main__":
    main()
