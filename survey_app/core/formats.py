"""How numbers and days are written for people: one format everywhere (dashboard, charts, PDF, XLSX
labels). Vietnamese writes a decimal comma and groups thousands with dots: 76,46 and 16.340.

Machine formats (CSV, JSON, numeric spreadsheet cells) keep plain numbers; this is only for text.
"""

from __future__ import annotations

from typing import Any

DECIMAL = ","
THOUSANDS = "."
NONE = "–"  # what a missing figure prints as
# The same rule for Vega charts (d3-format locale): axis labels, figures on bars, tooltips.
CHART_LOCALE = {"number": {"decimal": DECIMAL, "thousands": THOUSANDS, "grouping": [3], "currency": ["", " ₫"]}}

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


def number(value: float | None, digits: int | None = 2, *, signed: bool = False) -> str:
    """76,46; 1.234,50; +0,81 when `signed`; "–" for None. `digits=None`: as many as the value
    has (a parameter such as z = 1,96 or e = 0,05)."""
    if value is None:
        return NONE
    spec = ("+" if signed else "") + ",." + (f"{digits}f" if digits is not None else "12g")
    text = format(value, spec)
    return text.translate({ord(","): THOUSANDS, ord("."): DECIMAL})


def count(value: int | None) -> str:
    """A whole number of things: 16.340 phiếu."""
    return number(value, 0)
