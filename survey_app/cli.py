"""`python -m survey_app …`: the command line of ../shared/DESIGN.md §6.

Each command is a small function taking the parsed arguments and returning an exit code:
0 ok, 2 bad arguments or input (one line on stderr), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from survey_app import config
from survey_app.store import Store, StoreUnavailable, open_store

Command = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad input from the person at the keyboard: printed as one line, exit code 2."""


def _store(args: argparse.Namespace) -> Store:
    return open_store(args.db)


def cmd_init(args: argparse.Namespace) -> int:
    from survey_app.units import import_units_file, list_units

    with _store(args) as store:
        if args.units or not list_units(store, active_only=False):
            count = import_units_file(store, Path(args.units) if args.units else config.DEFAULT_UNITS_CSV)
            print(f"Đã nạp {count} đơn vị (units loaded).")
        versions = ", ".join(f"{i.id}@{i.version}" for i in store.instruments.values())
        print(f"Cơ sở dữ liệu sẵn sàng: {store.path} — bộ câu hỏi: {versions}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from survey_app.demo import generate_demo

    if args.responses < 1:
        raise UsageError("--responses phải là số dương (must be positive)")
    with _store(args) as store:
        summary = generate_demo(store, responses=args.responses, seed=args.seed, days=args.days,
                                progress=not args.quiet)
    print(summary)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Prepare the database (schema, units, demo data when empty), then hand over to Streamlit."""
    import os

    from survey_app.demo import generate_demo, has_responses

    with _store(args) as store:
        from survey_app.units import import_units_file, list_units

        if not list_units(store, active_only=False):
            import_units_file(store, config.DEFAULT_UNITS_CSV)
        if args.demo and not has_responses(store):
            print(generate_demo(store, responses=args.demo, seed=1, days=120, progress=True))
    os.environ["SIPAS_DB"] = str(config.db_path(args.db))
    app = Path(__file__).with_name("app.py")
    os.execvp(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app),
                               "--server.port", str(args.port), *args.streamlit_args])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m survey_app", description="SIPAS survey service")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: SIPAS_DB, else data/sipas.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", parents=[common], help="create or migrate the database; load units")
    p.add_argument("--units", help="units CSV (unit_id,name,block[,parent_id]); default: Hà Nội demo units")
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("demo", parents=[common], help="add realistic demo responses")
    p.add_argument("--responses", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--days", type=int, default=120)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("serve", parents=[common], help="prepare the database and start the app")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--demo", type=int, default=20_000, help="demo responses when the database is empty (0: none)")
    p.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="passed on to `streamlit run`")
    p.set_defaults(run=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, StoreUnavailable, ValueError, OSError) as exc:  # InstrumentError, InvalidResponse too
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    except Exception:
        logging.getLogger("survey_app").exception("unexpected failure")
        return 1
