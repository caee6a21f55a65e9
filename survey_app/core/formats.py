"""How numbers and days are written for people: one format everywhere (dashboard, PDF, XLSX labels)."""

from __future__ import annotations

from typing import Any

# Vietnamese weekday names, Monday first (datetime.weekday() 0 … 6; ISO weekday − 1).
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that would start a spreadsheet formula gets a leading apostrophe; anything else as it is.
    Every CSV and spreadsheet the app writes passes its cells through this."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralise_sql(column: str) -> str:
    """The same in SQL, for a text column that COPY … TO (FORMAT csv) writes."""
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
    return f"CASE WHEN left({column}, 1) IN ({starts}) THEN chr(39) || {column} ELSE {column} END"
