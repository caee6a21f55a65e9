"""All SIPAS indices by unit × element × item for 1 000 000 sipas-dvc responses: DuckDB vs pandas.

Prints (quality bar, DESIGN.md §7: DuckDB ≤ 1 s and ≥ 10× pandas on this 2-core machine):
- results.compute() point indices (S_i per unit and item, S_e, unit SIPAS), best and median of RUNS;
- the full compute() a leader's page asks for (with margins of error, perceptions, ranking change);
- the same point indices in pandas from DataFrames already in memory (loading is timed apart), with
  the ratio, after checking both give the same numbers;
- with --integer-key, the same count query when answers join responses on a BIGINT key instead of
  the UUID (a schema experiment on a copy; the live schema is not touched).
The 1M-response database is made once by the demo generator and cached in bench/.cache/.
Run: .venv/bin/python bench/bench_aggregate.py [--responses N] [--integer-key]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import numpy as np
import pandas as pd

from results import Results, compute, period_between
from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.core.instruments import load_instruments
from survey_app.core.periods import Period
from survey_app.demo.generate import generate_demo
from survey_app.store import open_store

CACHE = Path(__file__).resolve().parent / ".cache"
RUNS = 7
INSTRUMENT = "sipas-dvc"


def database(responses: int) -> Path:
    """The cached demo database with `responses` responses (made on first use)."""
    path = CACHE / f"aggregate-{responses}.duckdb"
    if path.exists():
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
    """Wall and CPU seconds (all threads) of each run. The machine is shared with other work, so the
    best wall time is the figure; CPU seconds say what the work costs whatever the load."""

    wall: list[float]
    cpu: list[float]

    def __str__(self) -> str:
        return (f"best {min(self.wall):.3f} s, median {statistics.median(self.wall):.3f} s wall; "
                f"{min(self.cpu):.2f} CPU-s")


def timed(work: Callable[[], object], runs: int) -> tuple[Timing, object]:
    timing, result = Timing([], []), None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        timing.wall.append(time.perf_counter() - wall)
        timing.cpu.append(time.process_time() - cpu)
    return timing, result


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def whole_range(con: duckdb.DuckDBPyConnection) -> Period:
    row = con.execute("SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM responses").fetchone()
    assert row is not None
    return period_between(*row)


def load_frames(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What pandas starts from: the tables in memory (string keys: pandas has no UUID type)."""
    responses = con.execute(
        "SELECT response_id::VARCHAR AS response_id, submitted_at, unit_id, instrument_id, instrument_version,"
        " status FROM responses").to_arrow_table().to_pandas()
    answers = con.execute("SELECT response_id::VARCHAR AS response_id, item_id, value FROM answers"
                          ).to_arrow_table().to_pandas()
    items = pd.DataFrame([(item.id, item.element_id) for item in load_instruments()[INSTRUMENT].items],
                         columns=["item_id", "element_id"])
    return responses, answers, items


def pandas_indices(responses: pd.DataFrame, answers: pd.DataFrame, items: pd.DataFrame,
                   period: Period) -> pd.Series:
    """The same point indices as compute(): S_i per unit and item, S_e as their mean, SIPAS as the mean of S_e."""
    counted = responses[(responses.instrument_id == INSTRUMENT) & (responses.status == "ok")
                        & (responses.submitted_at >= period.start) & (responses.submitted_at < period.end)]
    rated = answers.merge(counted[["response_id", "unit_id"]], on="response_id").merge(items, on="item_id")
    rated = rated[rated.value.notna()]
    rated = rated.assign(satisfied=rated.value >= 4)
    per_item = rated.groupby(["unit_id", "element_id", "item_id"], observed=True).satisfied.mean() * 100
    per_element = per_item.groupby(level=["unit_id", "element_id"]).mean()
    return per_element.groupby(level="unit_id").mean()


def duckdb_indices(con: duckdb.DuckDBPyConnection, period: Period) -> Results:
    return compute(con, period, margins=False, choices=False, compare=False)


def integer_key_experiment(source: Path, period: Period) -> None:
    """Copy the tables with a BIGINT response key and time the count query both ways."""
    copy = CACHE / f"{source.stem}-intkey.duckdb"
    if not copy.exists():
        print("building the integer-key copy (once) …", flush=True)
        with duckdb.connect(str(copy)) as con:
            con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")
            con.execute("CREATE TABLE responses AS SELECT row_number() OVER () AS response_no, * FROM src.responses")
            con.execute("CREATE TABLE answers AS SELECT r.response_no, a.item_id, a.value FROM src.answers a"
                        " JOIN responses r ON r.response_id = a.response_id")
    query = ("SELECT r.unit_id, r.instrument_version, a.item_id, a.value, count(*) FROM answers a"
             " JOIN responses r ON r.{key} = a.{key} WHERE r.instrument_id = ? AND r.status = 'ok'"
             " AND r.submitted_at >= ? AND r.submitted_at < ? GROUP BY ALL")
    params = [INSTRUMENT, period.start, period.end]
    for label, path, key in (("UUID key   ", source, "response_id"), ("BIGINT key ", copy, "response_no")):
        with duckdb.connect(str(path), read_only=True) as con:
            timing, _ = timed(lambda con=con, key=key: con.execute(query.format(key=key), params).fetchall(), RUNS)
        print(f"  count query, {label}: {timing}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--integer-key", action="store_true", help="also time a BIGINT response key (schema idea)")
    args = parser.parse_args()
    path = database(args.responses)
    print(f"database: {path} ({path.stat().st_size / 2**20:.0f} MiB); machine: {os.cpu_count()} cores, "
          f"{load()}, duckdb {duckdb.__version__}, pandas {pd.__version__}")
    with duckdb.connect(str(path), read_only=True) as con:
        period = whole_range(con)
        n = con.execute("SELECT count(*) FROM responses WHERE instrument_id = ?", [INSTRUMENT]).fetchone()[0]
        items = con.execute("SELECT count(*) FROM answers").fetchone()[0]
        print(f"{n:,} responses, {items:,} answers, period {period.label}\n")

        duck, results = timed(lambda: duckdb_indices(con, period), RUNS)
        print(f"DuckDB  point indices, unit × element × item: {duck}  (goal ≤ 1 s; {load()})")
        full, _ = timed(lambda: compute(con, period), 2)
        print(f"DuckDB  full compute (margins, perceptions, change vs previous period): {full}")

        begun = time.perf_counter()
        frames = load_frames(con)
        print(f"pandas  loading the tables into DataFrames (not compared): {time.perf_counter() - begun:.1f} s")
    panda, by_pandas = timed(lambda: pandas_indices(*frames, period), 2)
    assert isinstance(results, Results) and isinstance(by_pandas, pd.Series)
    ours = pd.Series({g.key: g.sipas for g in results.groups if g.sipas is not None})
    assert np.allclose(ours.sort_index(), by_pandas.sort_index()), "pandas and DuckDB disagree"
    print(f"pandas  point indices, same computation: {panda}  (same SIPAS for all {len(ours)} units; {load()})")
    print(f"\nratio pandas / DuckDB: {min(panda.wall) / min(duck.wall):.1f}× wall (goal ≥ 10×), "
          f"{min(panda.cpu) / min(duck.cpu):.1f}× CPU")
    if args.integer_key:
        print()
        integer_key_experiment(path, period)


if __name__ == "__main__":
    main()
