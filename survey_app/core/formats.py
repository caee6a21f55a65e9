"""How numbers and days are written for people: one format everywhere (dashboard, PDF, XLSX labels)."""

from __future__ import annotations

# Vietnamese weekday names, Monday first (datetime.weekday() 0 … 6; ISO weekday − 1).
WEEKDAYS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
