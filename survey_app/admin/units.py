"""Units (cơ quan, đơn vị) and their counters (quầy): the `units` and `counters` tables."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from survey_app.core.config import BLOCKS
from survey_app.core.files import FileProblems
from survey_app.core.i18n import Refused, both, t
from survey_app.db.store import Store

DEFAULT_COUNTER = ("quay-1", t("counter.default"))  # id and name of a new unit's counter (stored text)
UNIT_COLUMNS = ("unit_id", "name", "block")
# Ids end up in URLs, QR tokens and file names: keep them plain.
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    block: str
    parent_id: str | None = None
    active: bool = True
    instrument_id: str | None = None  # the questionnaire its codes ask; None: the default one


@dataclass(frozen=True)
class Counter:
    unit_id: str
    counter_id: str
    name: str
    active: bool = True


class UnitsFileError(FileProblems):
    """A units CSV that cannot be imported; lists every bad row. Nothing is imported from it."""


def check_id(value: str) -> str:
    """A unit or counter id as the admin form and the CSV import accept it; else Refused."""
    value = value.strip()
    if not _ID.fullmatch(value):
        raise Refused("admin.bad_id", value=value[:40])
    return value


def check_name(value: str) -> str:
    """A name on one line, not empty, at most MAX_NAME_CHARS; else Refused."""
    value = " ".join(value.split())
    if not value or len(value) > MAX_NAME_CHARS:
        raise Refused("admin.bad_name")
    return value


def _row_unit(row: dict[str, str | None]) -> Unit:
    """One CSV row through the admin form's checks (Refused says what is wrong)."""
    parent = (row.get("parent_id") or "").strip()
    return Unit(check_id(row["unit_id"] or ""), check_name(row["name"] or ""), (row["block"] or "").strip(),
                check_id(parent) if parent else None)


def read_units_csv(text: str, source: str = "CSV") -> list[Unit]:
    """Parse a units CSV (unit_id, name, block[, parent_id]); raise UnitsFileError listing each bad row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in UNIT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UnitsFileError(source, [both("import.missing_columns", missing=", ".join(missing),
                                                    needed=", ".join(UNIT_COLUMNS))])
    units: list[Unit] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        try:
            unit = _row_unit(row)
        except Refused as exc:  # the admin form's own check, in both languages
            problems.append(UnitsFileError.on_line(line, str(exc)))
            continue
        if unit.unit_id in seen:
            problems.append(both("import.units.duplicate", line=line, unit=unit.unit_id))
        elif unit.block not in BLOCKS:
            problems.append(both("import.units.bad_block", line=line, block=unit.block[:20], blocks=", ".join(BLOCKS)))
        else:
            seen.add(unit.unit_id)
            units.append(unit)
    if problems:
        raise UnitsFileError(source, problems)
    return units


def write_units(con: duckdb.DuckDBPyConnection, units: list[Unit]) -> int:
    """Inside the caller's transaction: add new units (with counter quay-1), update known ones."""
    for unit in units:
        con.execute(
            "INSERT INTO units (unit_id, name, block, parent_id, active) VALUES (?, ?, ?, ?, TRUE)"
            " ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name, block = excluded.block,"
            " parent_id = excluded.parent_id",
            [unit.unit_id, unit.name, unit.block, unit.parent_id],
        )
    con.execute(
        "INSERT INTO counters (unit_id, counter_id, name) SELECT unit_id, ?, ? FROM units"
        " WHERE unit_id NOT IN (SELECT unit_id FROM counters)",
        list(DEFAULT_COUNTER),
    )
    return len(units)


def parents(con: duckdb.DuckDBPyConnection, unit_ids: list[str]) -> dict[str, str | None]:
    """The stored parent of each of `unit_ids` that exists."""
    if not unit_ids:
        return {}
    return dict(con.execute(f"SELECT unit_id, parent_id FROM units WHERE unit_id IN ({', '.join('?' * len(unit_ids))})",
                            unit_ids).fetchall())


def upsert_units(store: Store, units: list[Unit]) -> int:
    """Add new units (with counter quay-1) and update names and blocks of known ones."""
    return store.write(lambda con: write_units(con, units))


def import_units_file(store: Store, path: Path) -> int:
    return upsert_units(store, read_units_csv(path.read_text(encoding="utf-8"), str(path)))


def list_units(store: Store, *, active_only: bool = True) -> list[Unit]:
    rows = store.query(
        "SELECT unit_id, name, block, parent_id, active, instrument_id FROM units"
        " WHERE active OR NOT ? ORDER BY block, name",
        [active_only],
    )
    return [Unit(*row) for row in rows]


def get_unit(store: Store, unit_id: str) -> Unit | None:
    rows = store.query("SELECT unit_id, name, block, parent_id, active, instrument_id FROM units WHERE unit_id = ?",
                       [unit_id])
    return Unit(*rows[0]) if rows else None


def list_counters(store: Store, unit_id: str | None = None, *, active_only: bool = True) -> list[Counter]:
    rows = store.query(
        "SELECT unit_id, counter_id, name, active FROM counters"
        " WHERE (unit_id = ? OR ? IS NULL) AND (active OR NOT ?) ORDER BY unit_id, counter_id",
        [unit_id, unit_id, active_only],
    )
    return [Counter(*row) for row in rows]


def get_counter(store: Store, unit_id: str, counter_id: str) -> Counter | None:
    rows = store.query(
        "SELECT unit_id, counter_id, name, active FROM counters WHERE unit_id = ? AND counter_id = ?",
        [unit_id, counter_id],
    )
    return Counter(*rows[0]) if rows else None


def unit_subtree(store: Store, root: str) -> frozenset[str]:
    """`root` and every unit below it through parent_id, active or not (old data stays in scope)."""
    rows = store.query(
        "WITH RECURSIVE tree(unit_id) AS ("
        " SELECT unit_id FROM units WHERE unit_id = ?"
        " UNION SELECT u.unit_id FROM units u JOIN tree t ON u.parent_id = t.unit_id)"
        " SELECT unit_id FROM tree",
        [root],
    )
    return frozenset(row[0] for row in rows)


# -- single changes, inside the caller's transaction (the admin page pairs each with an audit row).
# Each returns whether a row was added or changed, so the caller can tell "unknown id" apart.

def add_unit(con: duckdb.DuckDBPyConnection, unit: Unit) -> bool:
    """Add a unit and its counter quay-1; False when the id is taken."""
    added = con.execute(
        "INSERT INTO units (unit_id, name, block, parent_id, active, instrument_id) VALUES (?, ?, ?, ?, TRUE, ?)"
        " ON CONFLICT DO NOTHING RETURNING unit_id",
        [unit.unit_id, unit.name, unit.block, unit.parent_id, unit.instrument_id],
    ).fetchall()
    if added:
        add_counter(con, unit.unit_id, *DEFAULT_COUNTER)
    return bool(added)


def set_unit_name(con: duckdb.DuckDBPyConnection, unit_id: str, name: str) -> bool:
    return bool(con.execute("UPDATE units SET name = ? WHERE unit_id = ? RETURNING unit_id",
                            [name, unit_id]).fetchall())


def set_unit_active(con: duckdb.DuckDBPyConnection, unit_id: str, active: bool) -> bool:
    return bool(con.execute("UPDATE units SET active = ? WHERE unit_id = ? RETURNING unit_id",
                            [active, unit_id]).fetchall())


def set_unit_instrument(con: duckdb.DuckDBPyConnection, unit_id: str, instrument_id: str | None) -> bool:
    return bool(con.execute("UPDATE units SET instrument_id = ? WHERE unit_id = ? RETURNING unit_id",
                            [instrument_id, unit_id]).fetchall())


def add_counter(con: duckdb.DuckDBPyConnection, unit_id: str, counter_id: str, name: str) -> bool:
    """Add an active counter; False when the unit already has this counter id."""
    return bool(con.execute(
        "INSERT INTO counters (unit_id, counter_id, name, active) VALUES (?, ?, ?, TRUE)"
        " ON CONFLICT DO NOTHING RETURNING counter_id",
        [unit_id, counter_id, name],
    ).fetchall())


def set_counter_name(con: duckdb.DuckDBPyConnection, unit_id: str, counter_id: str, name: str) -> bool:
    return bool(con.execute("UPDATE counters SET name = ? WHERE unit_id = ? AND counter_id = ? RETURNING counter_id",
                            [name, unit_id, counter_id]).fetchall())


def set_counter_active(con: duckdb.DuckDBPyConnection, unit_id: str, counter_id: str, active: bool) -> bool:
    return bool(con.execute(
        "UPDATE counters SET active = ? WHERE unit_id = ? AND counter_id = ? RETURNING counter_id",
        [active, unit_id, counter_id]).fetchall())
