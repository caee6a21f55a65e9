"""What the admin page does, as plain functions: each change commits together with its audit row.

Units and counters are changed through units.py's SQL; flagged responses are reviewed here (a
status change, never a deletion); backups use `EXPORT DATABASE`; the raw-data export leaves out
everything that could point at a person (contacts, comments, client_hash).
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

import duckdb

from survey_app.admin import audit, dossiers, units
from survey_app.admin.dossiers import DossierCount, DossiersFileError
from survey_app.admin.units import Unit, UnitsFileError
from survey_app.core import clock, config, files
from survey_app.core.config import BLOCKS
from survey_app.core.formats import neutralise_sql
from survey_app.core.i18n import Refused, both
from survey_app.core.keys import rotate_keys
from survey_app.db.store import Store

MIN_REASON_CHARS = 5
EXPORT_FORMATS = ("csv", "parquet")
Row = TypeVar("Row")
# One change of a multi-field edit: its audit action, the audit detail, the SQL (in units.py) that makes it.
Change = tuple[str, str | None, Callable[[duckdb.DuckDBPyConnection], bool]]


def _audited(store: Store, actor: str, action: str, target: str, detail: str | None,
             change: Callable[[duckdb.DuckDBPyConnection], bool]) -> bool:
    """Run `change` and, when it changed something, its audit row, in one transaction."""

    def work(con: duckdb.DuckDBPyConnection) -> bool:
        if not change(con):
            return False
        audit.record(con, actor, action, target, detail)
        return True

    return store.write(work)


def _check_instrument(store: Store, instrument_id: str | None) -> None:
    if instrument_id is not None and instrument_id not in store.instruments:
        raise Refused("admin.unknown_instrument", instrument=instrument_id)


# -- units and counters ----------------------------------------------------------------------------

def add_unit(store: Store, actor: str, unit_id: str, name: str, block: str, *,
             parent_id: str | None = None, instrument_id: str | None = None) -> None:
    """A new active unit with its counter quay-1."""
    unit_id, name = units.check_id(unit_id), units.check_name(name)
    if block not in BLOCKS:
        raise Refused("admin.bad_block", blocks=", ".join(BLOCKS))
    if parent_id is not None and units.get_unit(store, parent_id) is None:
        raise Refused("admin.unknown_unit", unit=parent_id)
    _check_instrument(store, instrument_id)
    unit = Unit(unit_id, name, block, parent_id, True, instrument_id)
    if not _audited(store, actor, "unit.add", unit_id, f"{name} ({block}, parent {parent_id or '-'})",
                    lambda con: units.add_unit(con, unit)):
        raise Refused("admin.unit_exists", unit=unit_id)


def update_unit(store: Store, actor: str, unit_id: str, *, name: str, instrument_id: str | None,
                active: bool) -> int:
    """Apply what differs from the stored unit, one audit row per change; the number of changes.

    A deactivated unit's codes stop opening the survey; its data stay. `instrument_id` None: the
    default questionnaire.
    """
    unit = units.get_unit(store, unit_id)
    if unit is None:
        raise Refused("admin.unknown_unit", unit=unit_id)
    name = units.check_name(name)
    _check_instrument(store, instrument_id)
    todo: list[Change] = []
    if name != unit.name:
        todo.append(("unit.rename", f"{unit.name} → {name}", lambda con: units.set_unit_name(con, unit_id, name)))
    if instrument_id != unit.instrument_id:
        todo.append(("unit.instrument", instrument_id or config.DEFAULT_INSTRUMENT,
                     lambda con: units.set_unit_instrument(con, unit_id, instrument_id)))
    if active != unit.active:
        todo.append(("unit.activate" if active else "unit.deactivate", None,
                     lambda con: units.set_unit_active(con, unit_id, active)))
    _apply(store, actor, unit_id, todo)
    return len(todo)


def _apply(store: Store, actor: str, target: str, todo: list[Change]) -> None:
    def work(con: duckdb.DuckDBPyConnection) -> None:
        for action, detail, change in todo:
            change(con)
            audit.record(con, actor, action, target, detail)

    store.write(work)


def _existing_unit(store: Store, unit_id: str) -> None:
    if units.get_unit(store, unit_id) is None:
        raise Refused("admin.unknown_unit", unit=unit_id)


def add_counter(store: Store, actor: str, unit_id: str, counter_id: str, name: str) -> None:
    counter_id, name = units.check_id(counter_id), units.check_name(name)
    _existing_unit(store, unit_id)
    if not _audited(store, actor, "counter.add", f"{unit_id}/{counter_id}", name,
                    lambda con: units.add_counter(con, unit_id, counter_id, name)):
        raise Refused("admin.counter_exists", counter=counter_id, unit=unit_id)


def update_counter(store: Store, actor: str, unit_id: str, counter_id: str, *, name: str, active: bool) -> int:
    counter = units.get_counter(store, unit_id, counter_id)
    if counter is None:
        raise Refused("admin.unknown_counter", counter=counter_id, unit=unit_id)
    name = units.check_name(name)
    todo: list[Change] = []
    if name != counter.name:
        todo.append(("counter.rename", f"{counter.name} → {name}",
                     lambda con: units.set_counter_name(con, unit_id, counter_id, name)))
    if active != counter.active:
        todo.append(("counter.activate" if active else "counter.deactivate", None,
                     lambda con: units.set_counter_active(con, unit_id, counter_id, active)))
    _apply(store, actor, f"{unit_id}/{counter_id}", todo)
    return len(todo)


# -- CSV imports (units, dossier counts): preview first, then all rows or none ---------------------

@dataclass(frozen=True)
class ImportPreview(Generic[Row]):
    rows: list[Row]
    problems: list[str]  # one line per bad row; when any, nothing may be imported
    new_ids: frozenset[str] = frozenset()  # units: the ids not yet in the database


def preview_units_import(store: Store, text: str, source: str = "CSV") -> ImportPreview[Unit]:
    """Parse a units CSV and check it against the database, changing nothing."""
    try:
        parsed = units.read_units_csv(text, source)
    except UnitsFileError as exc:
        return ImportPreview([], exc.problems)
    known = {u.unit_id for u in units.list_units(store, active_only=False)}
    in_file = {u.unit_id for u in parsed}
    problems = [both("import.units.unknown_parent", unit=u.unit_id, parent=u.parent_id)
                for u in parsed
                if u.parent_id is not None and (u.parent_id == u.unit_id or u.parent_id not in known | in_file)]
    return ImportPreview(parsed, problems, frozenset(in_file - known))


def import_units(store: Store, actor: str, preview: ImportPreview[Unit]) -> int:
    if preview.problems or not preview.rows:
        raise Refused("admin.import_refused")

    def work(con: duckdb.DuckDBPyConnection) -> int:
        before = units.parents(con, [u.unit_id for u in preview.rows])
        count = units.write_units(con, preview.rows)
        audit.record(con, actor, "units.import", None,
                     f"{count} units, {len(preview.new_ids)} new: {', '.join(sorted(preview.new_ids))[:500]}")
        for unit in preview.rows:  # a new parent changes who may see the unit: each move on its own row
            if unit.unit_id in before and before[unit.unit_id] != unit.parent_id:
                audit.record(con, actor, "unit.parent", unit.unit_id,
                             f"{before[unit.unit_id] or '-'} → {unit.parent_id or '-'}")
        return count

    return store.write(work)


def preview_dossiers_import(store: Store, text: str, source: str = "CSV") -> ImportPreview[DossierCount]:
    """Parse a dossier-count CSV (unit_id, period, dossiers) and check it, changing nothing."""
    known = {u.unit_id for u in units.list_units(store, active_only=False)}
    try:
        return ImportPreview(dossiers.read_dossiers_csv(text, known, source), [])
    except DossiersFileError as exc:
        return ImportPreview([], exc.problems)


def import_dossiers(store: Store, actor: str, preview: ImportPreview[DossierCount]) -> int:
    if preview.problems or not preview.rows:
        raise Refused("admin.import_refused")
    # dossiers.write_dossiers commits on its own: the audit row follows in a second transaction.
    count = dossiers.write_dossiers(store, preview.rows)
    periods = sorted({row.period for row in preview.rows})
    audit.record_alone(store, actor, "dossiers.import", None, f"{count} rows, periods {', '.join(periods)[:500]}")
    return count


# -- survey link keys ------------------------------------------------------------------------------

def rotate_link_keys(store: Store, actor: str) -> int:
    """Every printed code stops working: the audit row says who did it and when."""
    version = rotate_keys()
    audit.record_alone(store, actor, "keys.rotate", None, f"version {version}")
    return version


# -- review of flagged responses -------------------------------------------------------------------

@dataclass(frozen=True)
class FlaggedResponse:
    response_id: str
    submitted_at: datetime
    unit_id: str
    unit_name: str | None
    counter_id: str | None
    channel: str
    seconds_taken: float | None
    flag_reasons: str | None
    mean_rating: float | None
    comment: str | None


def _scope_list(scope: frozenset[str] | None) -> list[str] | None:
    return None if scope is None else sorted(scope)


def flagged_responses(store: Store, scope: frozenset[str] | None = None, limit: int = 200) -> list[FlaggedResponse]:
    """Responses set aside as suspect, newest first, within `scope` (None: every unit)."""
    rows = store.query(
        "SELECT r.response_id::VARCHAR, r.submitted_at, r.unit_id, u.name, r.counter_id, r.channel,"
        " r.seconds_taken, r.flag_reasons,"
        " (SELECT avg(a.value) FROM answers a WHERE a.response_id = r.response_id), c.text"
        " FROM responses r LEFT JOIN units u ON u.unit_id = r.unit_id"
        " LEFT JOIN comments c ON c.response_id = r.response_id"
        " WHERE r.status = 'flagged' AND (?::VARCHAR[] IS NULL OR r.unit_id = ANY(?::VARCHAR[]))"
        " ORDER BY r.submitted_at DESC LIMIT ?",
        [_scope_list(scope), _scope_list(scope), limit],
    )
    return [FlaggedResponse(*row) for row in rows]


def review_response(store: Store, actor: str, response_id: str, include: bool, reason: str) -> None:
    """Count a response (status ok) or exclude it, with the reason in the audit log."""
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON_CHARS:
        raise Refused("admin.reason_needed", n=MIN_REASON_CHARS)
    new = "ok" if include else "excluded"

    def work(con: duckdb.DuckDBPyConnection) -> bool:
        rows = con.execute("SELECT status FROM responses WHERE response_id = ?", [response_id]).fetchall()
        if not rows:
            return False
        con.execute("UPDATE responses SET status = ? WHERE response_id = ?", [new, response_id])
        audit.record(con, actor, "response.include" if include else "response.exclude", response_id,
                     f"{rows[0][0]} → {new}: {reason}")
        return True

    if not store.write(work):
        raise Refused("admin.unknown_response")


# -- backup and export -----------------------------------------------------------------------------

def _sql_path(path: Path) -> str:
    # EXPORT DATABASE and COPY take no parameter for the path; ours is built here, never typed in.
    return "'" + str(path).replace("'", "''") + "'"


def _new_folder(kind: str) -> Path:
    # config.DATA_DIR is looked up at call time so tests (and tools) can point it elsewhere.
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    parent = files.private_dir(Path(config.DATA_DIR) / kind)
    folder = parent / f"sipas-{stamp}"
    try:
        folder.mkdir(mode=files.PRIVATE_DIR)
    except FileExistsError:
        raise Refused("admin.busy") from None
    files.private_dir(Path(config.DATA_DIR))
    return folder


def backup(store: Store, actor: str) -> Path:
    """A full copy (schema and Parquet files) in a new folder of data/backups; IMPORT DATABASE restores it."""
    if store.backend == "postgresql":  # the app holds only a partial copy; the server backs up
        raise Refused("admin.backup.postgres")
    folder = _new_folder("backups")
    with store.cursor() as cur:
        cur.execute(f"EXPORT DATABASE {_sql_path(folder)} (FORMAT parquet)")
    files.make_private(folder)
    audit.record_alone(store, actor, "backup", str(folder))
    return folder


_SCOPE = "(?::VARCHAR[] IS NULL OR r.unit_id = ANY(?::VARCHAR[]))"
# The anonymous raw data: no contacts, no comments (free text can name people), no client_hash.
RAW_TABLES = {
    "responses": "SELECT r.response_id, r.submitted_at, r.unit_id, r.counter_id, r.instrument_id,"
                 " r.instrument_version, r.channel, r.lang, r.stage, r.service_field, r.seconds_taken,"
                 " r.status, r.flag_reasons FROM responses r WHERE " + _SCOPE + " ORDER BY r.submitted_at",
    "answers": "SELECT a.response_id, a.item_id, a.value FROM answers a"
               " JOIN responses r ON r.response_id = a.response_id WHERE " + _SCOPE,
    "choices": "SELECT ch.response_id, ch.question_id, ch.option_id FROM choices ch"
               " JOIN responses r ON r.response_id = ch.response_id WHERE " + _SCOPE,
}


def _csv_safe(cur: duckdb.DuckDBPyConnection, query: str, params: list[object]) -> str:
    """`query` with each text column neutralised against spreadsheet formulas (as every CSV we write)."""
    columns = cur.execute(f"DESCRIBE ({query})", params).fetchall()
    shown = [neutralise_sql(f'"{name}"') + f' AS "{name}"' if kind == "VARCHAR" else f'"{name}"'
             for name, kind, *_ in columns]
    return f"SELECT {', '.join(shown)} FROM ({query}) AS raw"


def export_raw(store: Store, actor: str, fmt: str, scope: frozenset[str] | None = None) -> Path:
    """A ZIP (in a new folder of data/exports) of the raw anonymous tables, one file each."""
    if fmt not in EXPORT_FORMATS:
        raise Refused("admin.bad_format", formats=", ".join(EXPORT_FORMATS))
    folder = _new_folder("exports")
    options = "(FORMAT csv, HEADER)" if fmt == "csv" else "(FORMAT parquet)"
    params = [_scope_list(scope)] * 2
    with tempfile.TemporaryDirectory() as tmp, store.cursor() as cur:
        for name, query in RAW_TABLES.items():
            safe = _csv_safe(cur, query, params) if fmt == "csv" else query
            cur.execute(f"COPY ({safe}) TO {_sql_path(Path(tmp) / f'{name}.{fmt}')} {options}", params)
        archive = folder / f"sipas-raw-{fmt}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in RAW_TABLES:
                zf.write(Path(tmp) / f"{name}.{fmt}", f"{name}.{fmt}")
    files.make_private(archive)
    audit.record_alone(store, actor, "export.raw", str(archive),
                 f"{fmt}, scope {'all' if scope is None else ','.join(sorted(scope))[:500]}")
    return archive
