"""All configuration in one place: environment variables with the SIPAS_ prefix, laptop defaults."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_DIR = Path(__file__).resolve().parent.parent
QUESTIONS_DIR = Path(os.environ.get("SIPAS_QUESTIONS", PROJECT_DIR / "questions"))
DATA_DIR = Path(os.environ.get("SIPAS_DATA_DIR", PROJECT_DIR / "data"))
DEFAULT_UNITS_CSV = PROJECT_DIR / "survey_app" / "demo_units.csv"

# Periods and "today" are Vietnam time whatever the server's zone.
TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)

DEFAULT_INSTRUMENT = "sipas-dvc"
COMMENT_MAX_CHARS = 2000
CHANNELS = ("qr", "kiosk", "web", "paper", "demo")
# A staff session ends after this long without a click: counter PCs are shared.
SESSION_IDLE_MINUTES = float(os.environ.get("SIPAS_SESSION_IDLE_MINUTES", "30"))


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The database file: --db, else SIPAS_DB, else data/sipas.duckdb."""
    return Path(explicit or os.environ.get("SIPAS_DB") or DATA_DIR / "sipas.duckdb")


def base_url() -> str:
    return os.environ.get("SIPAS_BASE_URL", "http://localhost:8501").rstrip("/")
