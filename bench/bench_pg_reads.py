"""Aggregation over PostgreSQL: a local DuckDB copy refreshed by a high-water mark, against DuckDB
reading PostgreSQL's tables directly through the postgres extension (issue 13, item 3).

Fills a throw-away PostgreSQL server (Debian's packages, durable) with N demo responses — made in a
DuckDB file by the demo generator, then moved over with the extension — and prints:
- (a) copy: the first full sync, results.compute() on the copy, then NEW more responses written
  through the PostgreSQL store and the incremental sync that pulls them, and compute() again;
- (b) direct: results.compute() on DuckDB with PostgreSQL attached (every query scans PostgreSQL).
Goal: copy refresh + compute ≤ 1 s at 1 M responses after the first sync.

Run: .venv/bin/python bench/bench_pg_reads.py [--responses 1000000] [--new 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent.parent / "tests")]

import duckdb  # noqa: E402
import duckdb_extensions  # noqa: E402

from results import compute, period_between  # noqa: E402
from survey_app.admin.units import import_units_file  # noqa: E402
from survey_app.core import config  # noqa: E402
from survey_app.db.mirror import Mirror  # noqa: E402
from survey_app.db.pg_local import pg_server  # noqa: E402
from survey_app.db.store import in_vietnam_time  # noqa: E402
from survey_app.demo.generate import generate_demo  # noqa: E402
from survey_app.store import open_store  # noqa: E402


def timed(label: str, work: Callable[[], object]) -> object:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"  {label}: {time.perf_counter() - wall:.3f} s wall, {time.process_time() - cpu:.2f} CPU-s", flush=True)
    return result


def attached(url: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    duckdb_extensions.import_extension("postgres", con=con)
    con.execute("LOAD postgres")
    con.execute(f"ATTACH '{url}' AS pg (TYPE postgres)")
    return con


def fill(url: str, responses: int, folder: Path) -> None:
    """Demo responses in a DuckDB file, then every response table moved into PostgreSQL."""
    file = folder / "demo.duckdb"
    with open_store(file) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        print(" ", generate_demo(store, responses=responses, seed=2026, days=365), flush=True)
    con = attached(url)
    con.execute(f"ATTACH '{file}' AS demo (READ_ONLY)")
    for table in ("responses", "answers", "choices", "comments", "counters"):
        columns = ", ".join(r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'demo' AND table_name = ?"
            " ORDER BY column_index", [table]).fetchall())
        if table == "counters":
            con.execute("DELETE FROM pg.public.counters")
        con.execute(f"INSERT INTO pg.public.{table} ({columns}) SELECT {columns} FROM demo.{table}")
    con.close()


class Direct:
    """A reader whose cursors query PostgreSQL's tables through the extension."""

    def __init__(self, url: str) -> None:
        self.con = attached(url)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.execute("USE pg.public")  # each cursor starts in the default database
        return in_vietnam_time(cur)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=20_000)
    args = parser.parse_args()
    with pg_server(durable=True) as url, tempfile.TemporaryDirectory() as folder:
        with open_store(url) as store:
            import_units_file(store, config.DEFAULT_UNITS_CSV)
        print(f"filling PostgreSQL with {args.responses} responses …", flush=True)
        timed("fill", lambda: fill(url, args.responses, Path(folder)))
        mirror = Mirror(url)
        print("(a) local DuckDB copy:")
        timed("first sync", mirror.refresh)
        with mirror.cursor() as cur:
            period = period_between(*cur.execute(
                "SELECT min(submitted_at)::DATE, max(submitted_at)::DATE FROM responses").fetchone())
        timed("compute (point indices)", lambda: compute(mirror, period, margins=False, choices=False, compare=False))
        timed("compute (full)", lambda: compute(mirror, period))
        with open_store(url) as store:
            timed(f"{args.new} new responses written through the store",
                  lambda: generate_demo(store, responses=args.new, seed=7, days=30))
        timed(f"incremental sync of {args.new}", mirror.refresh)
        timed("compute (point indices)", lambda: compute(mirror, period, margins=False, choices=False, compare=False))
        timed("idle sync (nothing new)", mirror.refresh)
        mirror.close()
        print("(b) DuckDB reading PostgreSQL through the postgres extension:")
        direct = Direct(url)
        timed("compute (point indices)", lambda: compute(direct, period, margins=False, choices=False, compare=False))
        timed("compute (full)", lambda: compute(direct, period))


if __name__ == "__main__":
    main()
