"""Writes through the real path: PROCESSES × WRITERS threads × PER_WRITER submissions to store.submit.

Prints throughput (acknowledged responses per second), p50/p99/max latency of one submit (from the
call to the commit), and checks that every acknowledged response is stored exactly once (lost:
acknowledged and not stored; duplicated: stored twice, or answers beyond one set per response).
Goal (../shared/DESIGN.md §7): ≥ 500/s, p99 ≤ 50 ms, none lost. The integrity rules are on
(defaults), and the database can first be filled with demo data (--demo N) so that the writer's
look-back queries run against a realistic table.

PostgreSQL (issue 13; goal ≥ 1 000/s, p99 ≤ 50 ms from 4 processes × 4 threads): `--db postgres`
starts a throw-away durable server from Debian's packages (fsync on), `--db postgresql://…` uses
yours (its data is kept); `--processes N` runs N writer processes, released together.

Run: .venv/bin/python bench/bench_writes.py [--writers 16] [--per-writer 1000] [--demo 0] [--rules on|off]
     .venv/bin/python bench/bench_writes.py --db postgres --processes 4 --writers 4 --per-writer 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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


def submit_all(store: Store, work: list[list[dict]]) -> list[tuple[str, float]]:
    """Each batch from its own thread; (response id, seconds to the commit) of every submission."""

    def writer(batch: list[dict]) -> list[tuple[str, float]]:
        done = []
        for response in batch:
            begun = time.perf_counter()
            result = store.submit(response)
            done.append((result.response_id, time.perf_counter() - begun))
        return done

    with ThreadPoolExecutor(len(work)) as pool:
        return [r for batch in pool.map(writer, work) for r in batch]


def report(store: Store, results: list[tuple[str, float]], elapsed: float, shape: str) -> None:
    latencies = sorted(seconds * 1000 for _, seconds in results)
    acknowledged = {response_id for response_id, _ in results}
    stored = [str(r[0]) for r in store.query("SELECT response_id FROM responses")]
    answers = store.query("SELECT count(*) FROM answers")[0][0]
    missing = len(acknowledged - set(stored))
    duplicated = len(stored) - len(set(stored)) + max(0, answers - len(set(stored)) * len(dvc_answers()))
    flagged = store.query("SELECT count(*) FROM responses WHERE status = 'flagged'")[0][0]
    print(f"{shape}: {len(results)} acknowledged in {elapsed:.2f} s = {len(results) / elapsed:.0f}/s")
    print(f"latency per submit: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {latencies[int(0.99 * len(latencies)) - 1]:.1f} ms, max {latencies[-1]:.1f} ms")
    print(f"lost (acknowledged, not stored): {missing}; duplicated: {duplicated}; "
          f"stored in total: {len(set(stored))} (flagged: {flagged})")


def child(db: str, process: int, writers: int, per_writer: int, go: str) -> None:
    """One of --processes: submit its share once `go` exists; print (id, seconds) as JSON lines."""
    with open_store(db) as store:
        unit_ids = [u.unit_id for u in list_units(store)]
        work = [responses_for(process * 1000 + w, per_writer, unit_ids) for w in range(writers)]
        print("ready", flush=True)
        while not Path(go).exists():
            time.sleep(0.005)
        results = submit_all(store, work)
    sys.stdout.write("".join(json.dumps(r) + "\n" for r in results))


def run_processes(store: Store, db: str, processes: int, writers: int, per_writer: int, rules_off: bool) -> None:
    env = {**os.environ, **({f"SIPAS_FLAG_{f.name.upper()}": "0" if isinstance(f.default, (int, float)) else ""
                             for f in fields(config.FlagRules)} if rules_off else {})}
    with tempfile.TemporaryDirectory() as folder:
        go = str(Path(folder) / "go")
        command = [sys.executable, __file__, "--db", db, "--writers", str(writers), "--per-writer", str(per_writer),
                   "--go", go, "--child"]
        children = [subprocess.Popen([*command, str(p)], stdout=subprocess.PIPE, text=True, env=env)
                    for p in range(processes)]
        for c in children:
            assert c.stdout is not None and c.stdout.readline().strip() == "ready"
        begun = time.perf_counter()
        Path(go).touch()
        outputs = [c.communicate()[0] for c in children]
        elapsed = time.perf_counter() - begun
    results = [tuple(json.loads(line)) for out in outputs for line in out.splitlines()]
    report(store, results, elapsed, f"{processes} processes × {writers} writers × {per_writer} submissions")


@contextmanager
def database(db: str | None) -> Iterator[str]:
    """A temporary DuckDB file, a throw-away durable PostgreSQL server ("postgres"), or the URL given."""
    if db == "postgres":
        from survey_app.db.pg_local import pg_server

        with pg_server(durable=True) as url:
            yield url
    elif db:
        yield db
    else:
        with tempfile.TemporaryDirectory() as folder:
            yield str(Path(folder) / "bench.duckdb")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="postgres (a throw-away server), a postgresql:// URL, or a DuckDB file")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--writers", type=int, default=16, help="threads per process")
    parser.add_argument("--per-writer", type=int, default=1000)
    parser.add_argument("--demo", type=int, default=0, help="demo responses written first")
    parser.add_argument("--rules", choices=("on", "off"), default="on", help="integrity rules in the writer")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(args.db, args.child, args.writers, args.per_writer, args.go)
    with database(args.db) as db, open_store(db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        if args.demo:
            print(generate_demo(store, responses=args.demo, seed=1, days=120))
        if args.processes > 1:
            return run_processes(store, db, args.processes, args.writers, args.per_writer, args.rules == "off")
        if args.rules == "off":
            store.flag_rules = config.FlagRules(**{f.name: type(f.default)() for f in fields(config.FlagRules)})
        unit_ids = [u.unit_id for u in list_units(store)]
        work = [responses_for(w, args.per_writer, unit_ids) for w in range(args.writers)]
        begun = time.perf_counter()
        results = submit_all(store, work)
        report(store, results, time.perf_counter() - begun, f"{args.writers} writers × {args.per_writer} submissions")


if __name__ == "__main__":
    main()
