"""`python -m results …`: compute, cchc, report (DESIGN.md §6).

Exit codes: 0 ok; 2 bad arguments or input, one line on stderr, Vietnamese first; 1 unexpected.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from results.aggregate import compute
from results.catalog import CatalogError
from results.cchc import RulesError, cchc_points, load_rules
from results.export import (
    ordered_groups,
    points_columns,
    points_json,
    priorities_json,
    priority_columns,
    priority_rows,
    provenance_columns,
    result_columns,
    to_csv,
    to_json,
    to_table,
    write_priorities_xlsx,
    write_xlsx,
)
from results.method import Method, MethodError, load_method
from results.model import GROUPINGS, Results
from results.priorities import priorities
from survey_app.core.config import DEFAULT_INSTRUMENT
from survey_app.core.i18n import Explained, both, t
from survey_app.core.periods import Period, PeriodError, current_year, parse_date, parse_period, period_between
from survey_app.db.backends import open_store
from survey_app.db.store import StoreUnavailable

FORMATS = ("table", "csv", "json", "xlsx")
EXAMPLE_RULES = Path(__file__).with_name("rules") / "vi-du-ha-noi.yaml"
log = logging.getLogger("results")


class UsageError(Explained):
    """Bad input from the person at the keyboard: one line on stderr, exit code 2."""


def _period(args: argparse.Namespace) -> Period:
    if args.period:
        if args.date_from or args.date_to:
            raise UsageError("results.cli.period_or_dates")
        return parse_period(args.period)
    if bool(args.date_from) != bool(args.date_to):
        raise UsageError("results.cli.from_and_to")
    if args.date_from:
        return period_between(parse_date(args.date_from), parse_date(args.date_to))
    return current_year()


def _method(args: argparse.Namespace) -> Method:
    return load_method(args.method) if args.method else Method()


def _compute(args: argparse.Namespace, by: str, **options: bool) -> Results:
    with open_store(args.db, read_only=True) as store:
        return compute(store, _period(args), by=by, instrument_id=args.instrument, method=_method(args),
                       include_flagged=args.include_flagged, **options)


def _emit(args: argparse.Namespace, text: str) -> None:
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _xlsx_target(args: argparse.Namespace) -> Path:
    if not args.out:
        raise UsageError("results.cli.xlsx_needs_out")
    return Path(args.out)


def cmd_compute(args: argparse.Namespace) -> int:
    if args.format == "xlsx":
        target = _xlsx_target(args)
        write_xlsx(_compute(args, args.by), target)
        return 0
    results = _compute(args, args.by, choices=args.format == "json")
    if args.format == "json":
        _emit(args, to_json(results))
    elif args.format == "csv":
        _emit(args, to_csv(result_columns(results) + provenance_columns(results), ordered_groups(results)))
    else:
        _emit(args, to_table(result_columns(results), ordered_groups(results)) + f"\n{results.provenance}\n")
    return 0


def cmd_cchc(args: argparse.Namespace) -> int:
    table = load_rules(args.rules)
    target = _xlsx_target(args) if args.format == "xlsx" else None
    results = _compute(args, "unit", choices=target is not None)
    points = cchc_points(results, table)
    if target is not None:
        write_xlsx(results, target, points, table)
    elif args.format == "json":
        _emit(args, points_json(points, table, results))
    else:
        place = {g.key: i for i, g in enumerate(ordered_groups(results))}
        ordered = sorted(points, key=lambda p: place[p.group.key])
        if args.format == "csv":
            _emit(args, to_csv(points_columns(ordered) + provenance_columns(results, table), ordered))
        else:
            _emit(args, to_table(points_columns(ordered), ordered) + f"\n{results.provenance}; {table.title}\n")
    if table.example:
        print(both("results.cli.example_rules"), file=sys.stderr)
    return 0


def cmd_priorities(args: argparse.Namespace) -> int:
    table = load_rules(args.rules or EXAMPLE_RULES)
    target = _xlsx_target(args) if args.format == "xlsx" else None
    results = _compute(args, "unit", choices=False, compare=False)
    if args.unit and not any(g.key == args.unit for g in results.groups):
        raise UsageError("results.cli.unknown_unit", unit=f"{args.unit!r:.40}")
    with open_store(args.db, read_only=True) as store:
        found = priorities(store, results.period, unit_id=args.unit, instrument_id=args.instrument,
                           method=results.method, rules=table, results=results)
    if target is not None:
        write_priorities_xlsx(found, results, target, table)
    elif args.format == "json":
        _emit(args, priorities_json(found, results))
    else:
        _emit(args, to_table(priority_columns(), priority_rows(found)) + f"\n{results.provenance}; {table.title}\n")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    if not args.out.lower().endswith(".pdf"):
        raise UsageError("results.cli.report_is_pdf")
    table = load_rules(args.rules) if args.rules else None
    results = _compute(args, "unit", choices=False)
    blocks = _compute(args, "block", choices=False, compare=False)
    points = cchc_points(results, table) if table else None
    from results.report import FontMissing, write_report  # fpdf is loaded only for a PDF

    try:
        write_report(results, blocks, args.out, points, table)
    except FontMissing as exc:  # a missing font file, said in its own one line (Vietnamese, English)
        raise FileNotFoundError(str(exc)) from None
    return 0


def cmd_scorecard(args: argparse.Namespace) -> int:
    if args.period or args.date_from or args.date_to:
        raise UsageError("results.cli.scorecard_month")
    if not args.out:
        raise UsageError("results.cli.scorecard_needs_out")
    from results.report import FontMissing  # fpdf and openpyxl are loaded only for this command
    from results.scorecard import parse_month, write_scorecards

    month = parse_month(args.month)
    with open_store(args.db, read_only=True) as store:
        try:
            written = write_scorecards(store, month, args.out, args.unit)
        except FontMissing as exc:
            raise FileNotFoundError(str(exc)) from None
    print(both("results.cli.scorecards_written", n=len(written) - 1, summary=written[-1]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m results", description=both("results.cli.description"))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: SIPAS_DB, else data/sipas.duckdb)")
    common.add_argument("--period", help="2026 | 2026-Q3 | 2026-09 (Vietnam time; default: this year)")
    common.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (with --to)")
    common.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day, included")
    common.add_argument("--instrument", default=DEFAULT_INSTRUMENT, help="questionnaire id (default: sipas-dvc)")
    common.add_argument("--method", help="YAML rule set overriding sipas-default (see results/README.md)")
    common.add_argument("--include-flagged", action="store_true", help="also count responses flagged as suspect")
    common.add_argument("--out", help="write to this file instead of standard output")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("compute", parents=[common], help="indices, margins, adequacy and rankings")
    p.add_argument("--by", choices=GROUPINGS, default="unit")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(run=cmd_compute)

    p = sub.add_parser("cchc", parents=[common], help="CCHC points from a rule table")
    p.add_argument("--rules", required=True, help="rule table YAML (example: results/rules/vi-du-ha-noi.yaml)")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(run=cmd_cchc)

    p = sub.add_parser("priorities", parents=[common], help="which element each unit should fix first")
    p.add_argument("--unit", help="only this unit")
    p.add_argument("--rules", help=f"CCHC rule table for the points at stake (default: the example {EXAMPLE_RULES})")
    p.add_argument("--format", choices=("table", "json", "xlsx"), default="table")
    p.set_defaults(run=cmd_priorities)

    p = sub.add_parser("report", parents=[common], help="PDF report with the block rankings")
    p.add_argument("--rules", help="add CCHC points from this rule table")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("scorecard", parents=[common], help="a unit's monthly scorecard (PDF) and an XLSX summary")
    p.add_argument("--month", required=True, help="YYYY-MM, e.g. 2026-11")
    p.add_argument("--unit", help="only this unit (default: every unit)")
    p.set_defaults(run=cmd_scorecard)
    return parser


USER_ERRORS = (UsageError, PeriodError, MethodError, RulesError, CatalogError, StoreUnavailable, OSError)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "report" and not args.out:
        print(f"{t('cli.error')}: {both('results.cli.report_needs_out')}", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except USER_ERRORS as exc:
        print(f"{t('cli.error')}: {exc}", file=sys.stderr)
        return 2
    except Exception:
        log.exception("unexpected failure")
        return 1
