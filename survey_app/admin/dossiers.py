"""Dossier counts (số hồ sơ) per unit and period: the `dossier_counts` table.

The one-stop system knows how many dossiers each unit handled; results needs that number N for the
required sample n = N/(1 + N·e²), the finite population correction, the response rate and the
QĐ 766 ratio. A CSV with columns unit_id, period, dossiers is checked whole first: one bad row and
nothing is imported, and the error lists every bad row in Vietnamese (English after).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from survey_app.core.files import FileProblems
from survey_app.core.i18n import both
from survey_app.core.periods import PeriodError, parse_period
from survey_app.db.store import Store

COLUMNS = ("unit_id", "period", "dossiers")
MAX_DOSSIERS = 2_000_000_000  # the column is an INTEGER


class DossiersFileError(FileProblems):
    """A dossier-count file that cannot be imported; lists every bad row. Nothing is imported from it."""


@dataclass(frozen=True)
class DossierCount:
    unit_id: str
    period: str  # canonical label: 2026, 2026-Q3 or 2026-09
    dossiers: int


def csv_reader(text: str) -> csv.DictReader[str]:
    """Rows of a CSV as people save it: UTF-8 with or without a BOM, comma or semicolon separated."""
    text = text.lstrip("\ufeff")  # Excel writes a BOM
    try:  # Excel in a Vietnamese locale separates with ';'
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;")
    except csv.Error:
        dialect = csv.excel
    return csv.DictReader(io.StringIO(text), dialect=dialect)


def _count(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_DOSSIERS else None


def read_dossiers_csv(text: str, known_units: set[str], source: str = "CSV") -> list[DossierCount]:
    """Parse and check every row; raise DossiersFileError listing each problem."""
    reader = csv_reader(text)
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in fields]
    if missing:
        raise DossiersFileError(source, [both("import.missing_columns", missing=", ".join(missing),
                                              needed=", ".join(COLUMNS))])
    rows: list[DossierCount] = []
    problems: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "") for k, v in raw.items()}
        unit_id, period_text, count_text = (row[c].strip() for c in COLUMNS)
        count = _count(count_text)
        try:
            period = parse_period(period_text.upper()).label
        except PeriodError:
            problems.append(both("import.dossiers.bad_period", line=line, period=period_text[:20]))
            continue
        if unit_id not in known_units:
            problems.append(both("import.dossiers.unknown_unit", line=line, unit=unit_id[:40]))
        elif count is None:
            problems.append(both("import.dossiers.bad_count", line=line, count=count_text[:20]))
        elif (unit_id, period) in seen:
            problems.append(both("import.dossiers.duplicate", line=line, unit=unit_id, period=period,
                                 first=seen[unit_id, period]))
        else:
            seen[unit_id, period] = line
            rows.append(DossierCount(unit_id, period, count))
    if problems:
        raise DossiersFileError(source, problems)
    if not rows:
        raise DossiersFileError(source, [both("import.no_rows")])
    return rows


def write_dossiers(store: Store, rows: list[DossierCount]) -> int:
    """Insert or replace the counts, all in one transaction."""

    def work(con: duckdb.DuckDBPyConnection) -> int:
        con.executemany(
            "INSERT INTO dossier_counts (unit_id, period, dossiers) VALUES (?, ?, ?)"
            " ON CONFLICT (unit_id, period) DO UPDATE SET dossiers = excluded.dossiers",
            [[r.unit_id, r.period, r.dossiers] for r in rows],
        )
        return len(rows)

    return store.write(work)


def import_dossiers_csv(store: Store, text: str, source: str = "CSV") -> int:
    """Check the whole CSV text against the units, then store it; the admin page and the CLI call this."""
    known = {row[0] for row in store.query("SELECT unit_id FROM units")}
    return write_dossiers(store, read_dossiers_csv(text, known, source))


def read_text_file(path: Path, error: type[FileProblems]) -> str:
    """A CSV file's text; `error(source, problems)` when it is not UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(str(path), [both("import.not_utf8")]) from None


def import_dossiers_file(store: Store, path: Path) -> int:
    return import_dossiers_csv(store, read_text_file(path, DossiersFileError), str(path))


def list_dossiers(store: Store, unit_id: str | None = None) -> list[DossierCount]:
    rows = store.query(
        "SELECT unit_id, period, dossiers FROM dossier_counts WHERE unit_id = ? OR ? IS NULL ORDER BY unit_id, period",
        [unit_id, unit_id],
    )
    return [DossierCount(*row) for row in rows]
