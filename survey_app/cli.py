"""`python -m survey_app …`: the command line of ../shared/DESIGN.md §6.

Each command is a small function taking the parsed arguments and returning an exit code:
0 ok, 2 bad arguments or input (one line on stderr), 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path

from survey_app.admin.accounts import FIRST_ADMIN
from survey_app.collection import links
from survey_app.core import clock, config
from survey_app.core.config import BLOCKS
from survey_app.core.formats import number
from survey_app.core.i18n import Explained, both, t
from survey_app.core.keys import current_key_version, rotate_keys
from survey_app.store import Store, StoreUnavailable, open_store


class UsageError(Explained):
    """Bad input from the person at the keyboard: printed as one line, exit code 2."""


def _store(args: argparse.Namespace) -> Store:
    return open_store(args.db)


def cmd_init(args: argparse.Namespace) -> int:
    from survey_app.admin.units import import_units_file, list_units

    with _store(args) as store:
        if args.units or not list_units(store, active_only=False):
            count = import_units_file(store, Path(args.units) if args.units else config.DEFAULT_UNITS_CSV)
            print(both("cli.units_loaded", n=count))
        versions = ", ".join(f"{i.id}@{i.version}" for i in store.instruments.values())
        print(both("cli.ready", path=store.path, versions=versions))
        _first_admin(store, args.admin)
    return 0


def _actor() -> str:
    """Who runs the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:  # no login name in some containers
        return "cli"


def _first_admin(store: Store, name: str | None = None) -> None:
    """The first administrator, when there is no account: its password goes to a file only the
    service's user can read, and only the file's place is printed (service logs keep what is printed)."""
    from survey_app.admin import accounts

    name = (name or accounts.FIRST_ADMIN).strip().lower()
    secret = accounts.ensure_first_admin(store, _actor(), name)
    if secret:
        print(both("cli.first_admin", name=name, path=secret))


def cmd_users_add(args: argparse.Namespace) -> int:
    from survey_app.admin import accounts

    password = sys.stdin.read().rstrip("\r\n") if args.password_stdin else accounts.generate_password()
    with _store(args) as store:
        user = accounts.create_user(store, _actor(), args.name, args.role, password, unit_id=args.unit)
    print(both("cli.user_added", name=user.username, role=user.role, unit=user.unit_id or "-"))
    if not args.password_stdin:
        print(f"{both('cli.password_once')}: {password}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from survey_app.demo.generate import generate_demo
    from survey_app.integrity import maintenance

    if args.responses < 1:
        raise UsageError("cli.responses_positive")
    with _store(args) as store:
        summary = generate_demo(store, responses=args.responses, seed=args.seed, days=args.days,
                                progress=not args.quiet)
        print(summary)
        print(maintenance.scan(store))  # bulk rows skip the writer's checks: judge them as submit would
    return 0


def _prepare_to_serve(args: argparse.Namespace) -> None:
    """Schema, units, demo data when empty, retention, first admin; the app then finds SIPAS_DB."""
    import os

    from survey_app.demo.generate import generate_demo, has_responses
    from survey_app.integrity import maintenance

    with _store(args) as store:
        from survey_app.admin.units import import_units_file, list_units

        if not list_units(store, active_only=False):
            import_units_file(store, config.DEFAULT_UNITS_CSV)
        if args.demo and not has_responses(store):
            print(generate_demo(store, responses=args.demo, seed=1, days=120, progress=True))
            print(maintenance.scan(store))
        _first_admin(store)  # scripts/run.sh on a fresh checkout: someone must be able to log in
    os.environ["SIPAS_DB"] = str(config.db_path(args.db))


def cmd_serve(args: argparse.Namespace) -> int:
    """Prepare the database, then hand over to Streamlit."""
    import os

    _prepare_to_serve(args)
    app = Path(__file__).with_name("app.py")
    os.execvp(sys.executable, [sys.executable, "-m", "streamlit", "run", str(app),
                               "--server.port", str(args.port), *args.streamlit_args])


def cmd_production(args: argparse.Namespace) -> int:
    """Prepare the database, then run the app on 127.0.0.1 behind nginx until Ctrl-C or SIGTERM:
    one process on the DuckDB file, or several on PostgreSQL (`--db URL`, or `--postgres` for a
    local server of its own)."""
    from survey_app import front
    from survey_app.db.pg_local import PostgresMissing, pg_server

    if args.processes < 1:
        raise UsageError("cli.processes_positive")
    if args.postgres:
        if args.db:
            raise UsageError("cli.db_or_postgres")
        try:
            server = pg_server(keep=Path(args.postgres_dir))
            url = server.__enter__()
        except (PostgresMissing, RuntimeError) as exc:
            raise UsageError("cli.postgres_failed", folder=args.postgres_dir, why=str(exc)) from None
        try:
            print(f"SIPAS: PostgreSQL in {args.postgres_dir} on {url.rsplit('@', 1)[1]}", flush=True)
            return cmd_production(argparse.Namespace(**{**vars(args), "db": url, "postgres": False}))
        finally:
            server.__exit__(None, None, None)
    if args.processes > 1 and not config.is_postgres_url(str(config.db_path(args.db))):
        raise UsageError("cli.processes_need_postgres")
    _prepare_to_serve(args)
    return front.serve(args.port, config.DATA_DIR / "front", listen=args.listen, processes=args.processes)


def _place_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unit", help="unit id")
    parser.add_argument("--counter", help="counter id; default: the unit as a whole")
    parser.add_argument("--instrument", default=config.DEFAULT_INSTRUMENT, help="questionnaire id")
    parser.add_argument("--kiosk", action="store_true", help="a link for a tablet at the counter")
    parser.add_argument("--base-url", help="default: SIPAS_BASE_URL, else http://localhost:8501")


def _place_link(store: Store, args: argparse.Namespace) -> links.PlaceLink:
    if not args.unit:
        raise UsageError("cli.unit_required")
    try:
        return links.place_link(store, args.unit, args.counter, args.instrument,
                                channel="kiosk" if args.kiosk else "qr", base_url=args.base_url)
    except links.UnknownPlace as exc:
        raise UsageError(exc.key, **exc.fields) from None


def cmd_link(args: argparse.Namespace) -> int:
    with _store(args) as store:
        url = _place_link(store, args).url
    print(links.with_large_text(url) if args.large else url)
    return 0


def _tree_links(store: Store, args: argparse.Namespace) -> list[links.PlaceLink]:
    if args.counter or (args.unit and args.block):
        raise UsageError("cli.tree_alone")
    try:
        found = links.tree_links(store, args.instrument, block=None if args.block in (None, "all") else args.block,
                                 root=args.unit, channel="kiosk" if args.kiosk else "qr", base_url=args.base_url)
    except links.UnknownPlace as exc:
        raise UsageError(exc.key, **exc.fields) from None
    if not found:
        raise UsageError("cli.no_counter")
    return found


def _single_code(place: links.PlaceLink, out: Path, args: argparse.Namespace) -> bytes:
    from survey_app.collection import qr
    if out.suffix == ".png":
        return qr.qr_png(place.url, logo=args.logo)
    if out.suffix == ".svg":
        return qr.qr_svg(place.url)
    return qr.poster_pdf(place, args.size, logo=args.logo)


def cmd_qr(args: argparse.Namespace) -> int:
    from survey_app.collection import qr  # PDF and imaging libraries: loaded only by the command that draws

    out = Path(args.out)
    if args.size not in qr.PAGE_SIZES:
        raise UsageError("cli.size", sizes=", ".join(qr.PAGE_SIZES))
    if out.suffix not in (".png", ".svg", ".pdf", ".zip"):
        raise UsageError("cli.qr_out")
    if args.sheet and out.suffix != ".pdf":
        raise UsageError("cli.sheet_pdf")
    if args.logo is not None and not args.logo.is_file():
        raise UsageError("cli.no_logo", path=args.logo)
    many = args.sheet or out.suffix == ".zip"
    if args.block and not many:
        raise UsageError("cli.block_many")
    with _store(args) as store:
        if many:
            places = _tree_links(store, args)
            data = qr.label_sheet_pdf(places) if args.sheet else qr.posters_zip(places, args.size, logo=args.logo)
        else:
            places = [_place_link(store, args)]
            data = _single_code(places[0], out, args)
    out.write_bytes(data)
    print(both("cli.codes_written", path=out, n=len(places), version=current_key_version()))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    version = rotate_keys()
    print(both("cli.keys_rotated", version=version))
    return 0


def cmd_integrity_scan(args: argparse.Namespace) -> int:
    from survey_app.integrity import maintenance

    with _store(args) as store:
        print(maintenance.scan(store))
    return 0


def cmd_integrity_purge(args: argparse.Namespace) -> int:
    from survey_app.integrity import maintenance

    days = config.CONTACT_RETENTION_DAYS if args.days is None else args.days
    with _store(args) as store:
        count = maintenance.purge_contacts(store, days=days)
    print(both("cli.contacts_purged", n=count, days=number(days, None)))
    return 0


def cmd_integrity_hours(args: argparse.Namespace) -> int:
    from survey_app.integrity import maintenance

    with _store(args) as store:
        maintenance.set_opening_hours(store, args.unit, args.hours)
    if args.hours:
        print(both("cli.hours_set", unit=args.unit, hours=args.hours))
    else:
        print(both("cli.hours_default", unit=args.unit, hours=config.flag_rules().opening_hours))
    return 0


def cmd_dossiers_import(args: argparse.Namespace) -> int:
    from survey_app.admin.dossiers import import_dossiers_file

    with _store(args) as store:
        count = import_dossiers_file(store, Path(args.file))  # DossiersFileError is a ValueError: exit 2
    print(both("cli.dossiers_imported", n=count))
    return 0


def cmd_targets_import(args: argparse.Namespace) -> int:
    from survey_app.admin.targets import import_targets_file

    with _store(args) as store:
        count = import_targets_file(store, _actor(), Path(args.file))  # TargetsFileError is a ValueError: exit 2
    print(both("cli.targets_imported", n=count))
    return 0


def _add_targets_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("targets", help="yearly SIPAS targets per unit")
    targets = p.add_subparsers(dest="targets_command", required=True)
    imp = targets.add_parser("import", parents=[common], help="import a CSV with unit_id, year, sipas [, TC, TT …]")
    imp.add_argument("file", help="CSV: unit_id,year,sipas (optional element columns TC, TT, CC, KQ, PA)")
    imp.set_defaults(run=cmd_targets_import)


def cmd_cases_list(args: argparse.Namespace) -> int:
    import json

    from survey_app.cases import workflow

    at = clock.now()
    with _store(args) as store:
        cases = workflow.list_cases(store, None, unit_id=args.unit, overdue=args.overdue, at=at)
    rows = [{"case_id": str(c.case_id), "code": c.code, "response_id": str(c.response_id), "unit_id": c.unit_id,
             "status": c.status, "opened_at": c.opened_at.isoformat(), "due_at": c.due_at.isoformat(),
             "overdue": c.overdue(at)} for c in cases]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    print(f"{'code':<12} {'unit_id':<22} {'status':<11} {'opened_at':<17} {'due_at':<17} overdue")
    for c in cases:
        print(f"{c.code:<12} {c.unit_id:<22.22} {c.status:<11} {c.opened_at:%Y-%m-%d %H:%M} "
              f"{c.due_at:%Y-%m-%d %H:%M} {'x' if c.overdue(at) else ''}")
    print(both("cli.cases_listed", n=len(cases)))
    return 0


def cmd_cases_escalate(args: argparse.Namespace) -> int:
    from survey_app.cases import workflow

    with _store(args) as store:
        done = workflow.escalate_overdue(store, actor=_actor())
    for e in done:
        print(f"{e.case_id} {e.unit_id} → {e.escalated_to or both('cli.city')}: {', '.join(e.leaders) or '-'}")
    print(both("cli.cases_escalated", n=len(done)))
    return 0


def _add_cases_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("cases", help="citizens' complaints the units must answer by a deadline")
    cases = p.add_subparsers(dest="cases_command", required=True)
    lst = cases.add_parser("list", parents=[common], help="the cases, overdue first")
    lst.add_argument("--unit", help="only this unit's cases")
    lst.add_argument("--overdue", action="store_true", help="only cases past their deadline")
    lst.add_argument("--format", choices=["table", "json"], default="table")
    lst.set_defaults(run=cmd_cases_list)
    cases.add_parser("escalate", parents=[common], help="hand overdue cases to the parent unit's leaders"
                     ).set_defaults(run=cmd_cases_escalate)


def _add_dossiers_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("dossiers", help="dossier counts per unit and period (sample sizes, response rates)")
    dossiers = p.add_subparsers(dest="dossiers_command", required=True)
    imp = dossiers.add_parser("import", parents=[common], help="import a CSV with unit_id, period, dossiers")
    imp.add_argument("file", help="CSV: unit_id,period,dossiers (period 2026, 2026-Q3 or 2026-09)")
    imp.set_defaults(run=cmd_dossiers_import)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m survey_app", description="SIPAS survey service")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database file (default: SIPAS_DB, else data/sipas.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", parents=[common], help="create or migrate the database; load units")
    p.add_argument("--units", help="units CSV (unit_id,name,block[,parent_id]); default: the Hanoi demo units")
    p.add_argument("--admin", help=f"name of the first administrator, when there is no account yet "
                                   f"(default: {FIRST_ADMIN})")
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

    p = sub.add_parser("production", parents=[common],
                       help="the app behind nginx, in the foreground (scripts/serve-production.sh)")
    p.add_argument("--port", type=int, default=8080, help="the port nginx listens on")
    p.add_argument("--listen", default="0.0.0.0", help="the address nginx listens on")
    p.add_argument("--demo", type=int, default=0, help="demo responses when the database is empty")
    p.add_argument("--processes", type=int, default=1, help="app processes behind nginx (more than 1: PostgreSQL)")
    p.add_argument("--postgres", action="store_true",
                   help="start a local PostgreSQL from Debian's packages (its data in --postgres-dir) and use it")
    p.add_argument("--postgres-dir", default="/var/lib/sipas/postgres",
                   help="where --postgres keeps its server (default /var/lib/sipas/postgres)")
    p.set_defaults(run=cmd_production)

    p = sub.add_parser("link", parents=[common], help="print the signed survey link of a unit or counter")
    _place_args(p)
    p.add_argument("--large", action="store_true", help="the form opens with larger text (kiosks for older citizens)")
    p.set_defaults(run=cmd_link)

    p = sub.add_parser("qr", parents=[common], help="QR code, poster, ZIP of posters, or a sheet of labels")
    _place_args(p)
    p.add_argument("--block", choices=[*BLOCKS, "all"], help="every counter of a block, or of the province")
    p.add_argument("--sheet", action="store_true", help="one PDF of small labelled codes to cut out")
    p.add_argument("--size", default="a4", help="poster size: a4 or a5")
    p.add_argument("--logo", type=Path, help="image placed in the code's centre (at most 20 %% of its width)")
    p.add_argument("--out", required=True, help="FILE.png | .svg (the code), .pdf (poster or --sheet), .zip")
    p.set_defaults(run=cmd_qr)

    p = sub.add_parser("users", help="staff, leader and admin accounts")
    users = p.add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", parents=[common], help="add an account; prints a generated password once")
    add.add_argument("name", help="username (lower case)")
    add.add_argument("--role", required=True, choices=config.ROLES)
    add.add_argument("--unit", help="unit id (staff: required; leader: none = the whole city)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(run=cmd_users_add)

    p = sub.add_parser("keys", help="the keys that sign survey links")
    keys = p.add_subparsers(dest="keys_command", required=True)
    keys.add_parser("rotate", help="move to a new key version; codes of older versions are refused").set_defaults(
        run=cmd_keys_rotate)

    p = sub.add_parser("integrity", help="anti-gaming flags, opening hours, retention of contact details")
    integrity = p.add_subparsers(dest="integrity_command", required=True)
    integrity.add_parser("scan", parents=[common], help="flag suspect responses already stored (bulk or demo data)"
                         ).set_defaults(run=cmd_integrity_scan)
    purge = integrity.add_parser("purge-contacts", parents=[common], help="delete contact details past retention")
    purge.add_argument("--days", type=float, help="keep this many days (default: SIPAS_CONTACT_RETENTION_DAYS, 180)")
    purge.set_defaults(run=cmd_integrity_purge)
    hours = integrity.add_parser("hours", parents=[common], help="a unit's own opening hours")
    hours.add_argument("--unit", required=True, help="unit id")
    hours.add_argument("hours", nargs="?", help="e.g. 'T2-T6 07:30-17:00; T7 07:30-11:30'; leave out for the default")
    hours.set_defaults(run=cmd_integrity_hours)
    _add_dossiers_parser(sub, common)
    _add_targets_parser(sub, common)
    _add_cases_parser(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (UsageError, StoreUnavailable, ValueError, OSError) as exc:  # InstrumentError, InvalidResponse too
        print(f"{t('cli.error')}: {exc}", file=sys.stderr)
        return 2
    except Exception:
        logging.getLogger("survey_app").exception("unexpected failure")
        return 1
