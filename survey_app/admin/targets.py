"""Yearly SIPAS targets per unit (chỉ tiêu): the `targets` and `element_targets` tables.

An admin imports them from a CSV with columns unit_id, year, sipas and, optionally, one column per
element (TC, TT, CC, KQ, PA) for element targets. As with dossier counts the file is checked whole
first: one bad row and nothing is imported; every bad row is listed. results/targets.py reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from survey_app.admin import audit
from survey_app.admin.administration import ImportPreview
from survey_app.admin.dossiers import csv_reader, read_text_file
from survey_app.core.files import FileProblems
from survey_app.core.i18n import Refused
from survey_app.db.store import Store

COLUMNS = ("unit_id", "year", "sipas")
FIRST_YEAR, LAST_YEAR = 2000, 2100


class TargetsFileError(FileProblems):
    """A targets file that cannot be imported; lists every bad row. Nothing is imported from it."""


@dataclass(frozen=True)
class Target:
    unit_id: str
    year: int
    sipas: float
    elements: dict[str, float] = field(default_factory=dict)


def _problem(line: int, key: str, **fields: object) -> str:
    return TargetsFileError.on_line(line, str(Refused(key, **fields)))


def _percent(raw: str) -> float | None:
    """A target in percent, 0–100; a decimal comma is what Vietnamese spreadsheets write."""
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        return None
    return value if 0 <= value <= 100 else None


def _year(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR else None


def _row(line: int, row: dict[str, str], known_units: set[str], elements: list[str]) -> Target | str:
    unit_id, year_text, sipas_text = (row[c].strip() for c in COLUMNS)
    year, sipas = _year(year_text), _percent(sipas_text)
    if unit_id not in known_units:
        return _problem(line, "targets.unknown_unit", unit=unit_id[:40])
    if year is None:
        return _problem(line, "targets.bad_year", value=year_text[:20], first=FIRST_YEAR, last=LAST_YEAR)
    if sipas is None:
        return _problem(line, "targets.bad_value", column="sipas", value=sipas_text[:20])
    given: dict[str, float] = {}
    for element in elements:
        text = row.get(element, "").strip()
        if not text:
            continue
        value = _percent(text)
        if value is None:
            return _problem(line, "targets.bad_value", column=element, value=text[:20])
        given[element] = value
    return Target(unit_id, year, sipas, given)


def read_targets_csv(text: str, known_units: set[str], elements: list[str], source: str = "CSV") -> list[Target]:
    """Parse and check every row; raise TargetsFileError listing each problem."""
    reader = csv_reader(text)
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in fields]
    if missing:
        raise TargetsFileError(source, [str(Refused("targets.missing_columns", columns=", ".join(missing)))])
    rows: list[Target] = []
    problems: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    for line, raw in enumerate(reader, start=2):
        found = _row(line, {(k or "").strip(): (v or "") for k, v in raw.items()}, known_units, elements)
        if isinstance(found, str):
            problems.append(found)
        elif (found.unit_id, found.year) in seen:
            problems.append(_problem(line, "targets.duplicate", unit=found.unit_id, year=found.year,
                                     first=seen[found.unit_id, found.year]))
        else:
            seen[found.unit_id, found.year] = line
            rows.append(found)
    if problems or not rows:
        raise TargetsFileError(source, problems or [str(Refused("targets.empty"))])
    return rows


def known_elements(store: Store) -> list[str]:
    """Element ids of every questionnaire: the optional columns of a targets file."""
    return sorted({e.id for inst in store.instruments.values() for e in inst.elements})


def preview_targets(store: Store, text: str, source: str = "CSV") -> ImportPreview[Target]:
    """The rows of a targets CSV and its problems (one line per bad row), changing nothing."""
    known = {row[0] for row in store.query("SELECT unit_id FROM units")}
    try:
        return ImportPreview(read_targets_csv(text, known, known_elements(store), source), [])
    except TargetsFileError as exc:
        return ImportPreview([], exc.problems)


def import_targets(store: Store, actor: str, preview: ImportPreview[Target]) -> int:
    """Insert or replace the previewed targets (a row's element targets replace that unit-year's),
    audited, in one transaction."""
    if preview.problems or not preview.rows:
        raise Refused("admin.import_refused")
    rows = preview.rows

    def work(con: duckdb.DuckDBPyConnection) -> int:
        con.executemany(
            "INSERT INTO targets (unit_id, year, sipas, updated_at) VALUES (?, ?, ?, current_timestamp)"
            " ON CONFLICT (unit_id, year) DO UPDATE SET sipas = excluded.sipas, updated_at = excluded.updated_at",
            [[r.unit_id, r.year, r.sipas] for r in rows])
        con.executemany("DELETE FROM element_targets WHERE unit_id = ? AND year = ?",
                        [[r.unit_id, r.year] for r in rows])
        elements = [[r.unit_id, r.year, e, v] for r in rows for e, v in r.elements.items()]
        if elements:
            con.executemany("INSERT INTO element_targets (unit_id, year, element_id, target) VALUES (?, ?, ?, ?)",
                            elements)
        years = sorted({r.year for r in rows})
        audit.record(con, actor, "targets.import", None, f"{len(rows)} units, years {', '.join(map(str, years))}")
        return len(rows)

    return store.write(work)


def import_targets_file(store: Store, actor: str, path: Path) -> int:
    """The command line's import: check the whole file, then store it."""
    preview = preview_targets(store, read_text_file(path, TargetsFileError), str(path))
    if preview.problems:
        raise TargetsFileError(str(path), preview.problems)
    return import_targets(store, actor, preview)


def list_targets(store: Store, year: int | None = None) -> list[Target]:
    found = {(u, y): Target(u, y, s) for u, y, s in store.query(
        "SELECT unit_id, year, sipas FROM targets WHERE year = ? OR ? IS NULL ORDER BY unit_id, year", [year, year])}
    for unit_id, y, element, value in store.query(
            "SELECT unit_id, year, element_id, target FROM element_targets WHERE year = ? OR ? IS NULL", [year, year]):
        if (unit_id, y) in found:
            found[unit_id, y].elements[element] = value
    return list(found.values())
