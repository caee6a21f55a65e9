"""All configuration in one place: environment variables with the SIPAS_ prefix, laptop defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from survey_app.core.i18n import Refused, t

PROJECT_DIR = Path(__file__).resolve().parents[2]
QUESTIONS_DIR = Path(os.environ.get("SIPAS_QUESTIONS", PROJECT_DIR / "questions"))
DATA_DIR = Path(os.environ.get("SIPAS_DATA_DIR", PROJECT_DIR / "data"))
DEFAULT_UNITS_CSV = PROJECT_DIR / "survey_app" / "demo" / "units.csv"
# DejaVu Sans ships with the app: every Vietnamese letter in posters, charts and reports on any machine.
FONTS_DIR = Path(__file__).resolve().with_name("fonts")

# Periods and "today" are Vietnam time whatever the server's zone.
TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
TIMEZONE = ZoneInfo(TIMEZONE_NAME)

DEFAULT_INSTRUMENT = "sipas-dvc"
# The blocks units are ranked within (SIPAS.md): departments, and districts.
BLOCKS = {block: t(f"block.{block}") for block in ("so", "huyen")}  # id → the name reports print
COMMENT_MAX_CHARS = 2000
# The CSV files admins upload (units, dossier counts) are small; .streamlit/config.toml sets
# server.maxUploadSize to the same, and the admin page checks the size again.
MAX_UPLOAD_MB = 2
CHANNELS = ("qr", "kiosk", "web", "paper", "demo")
ROLES = ("admin", "leader", "staff")  # what an account may be; each has its role.<name> text
# A staff session ends after this long without a click: counter PCs are shared.
SESSION_IDLE_MINUTES = float(os.environ.get("SIPAS_SESSION_IDLE_MINUTES", "30"))


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(location: str | os.PathLike[str]) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def db_path(explicit: str | os.PathLike[str] | None = None) -> Path | str:
    """The database: --db, else SIPAS_DB, else data/sipas.duckdb. A file's Path, or a
    `postgresql://user@host:port/db` URL kept as it is (a Path would fold its '//')."""
    chosen = explicit or os.environ.get("SIPAS_DB") or DATA_DIR / "sipas.duckdb"
    return str(chosen) if is_postgres_url(chosen) else Path(chosen)


def base_url() -> str:
    return os.environ.get("SIPAS_BASE_URL", "http://localhost:8501").rstrip("/")


# Contact details exist only to answer a complaint: purged after this many days
# (`python -m survey_app integrity purge-contacts`).
CONTACT_RETENTION_DAYS = float(os.environ.get("SIPAS_CONTACT_RETENTION_DAYS", "180"))
# Backups are deleted after this many days; younger ones lose contact details past the retention
# above (the running app's daily job, survey_app/housekeeping.py).
BACKUP_RETENTION_DAYS = float(os.environ.get("SIPAS_BACKUP_RETENTION_DAYS", "90"))


@dataclass(frozen=True)
class FlagRules:
    """Thresholds of the integrity flags (survey_app/integrity/rules.py); 0 or "" switches a rule off.

    Each field is read from SIPAS_FLAG_<NAME>, e.g. SIPAS_FLAG_BURST_MINUTES=15.
    """

    burst_minutes: float = 10.0  # the window of both burst rules
    burst_client: int = 3  # this many responses from one device at one counter within the window
    burst_pattern: int = 4  # this many identical answer sets at one counter within the window
    repeat_client: int = 1  # responses a device may give one unit per day; the next ones are flagged
    # Responses one client address (whatever its User-Agent) may give one unit per day: higher, as a
    # carrier or the centre's Wi-Fi puts many phones behind one address.
    repeat_address: int = 20
    speed_min_items: int = 5  # the speed rules skip shorter forms: one tap on a kiosk is rightly quick
    min_seconds_per_item: float = 1.5  # faster than this per rating: the questions were not read
    all_top_seconds_per_item: float = 2.5  # every rating at the top of the scale, and faster than this
    opening_hours: str = "T2-T7 07:00-17:30"  # units without hours of their own (set_opening_hours)
    after_hours_grace_minutes: float = 60.0  # a citizen may still answer this long after closing


def flag_rules() -> FlagRules:
    """The thresholds in force: FlagRules' defaults, each overridden by its SIPAS_FLAG_* variable."""
    given: dict[str, object] = {}
    for rule in fields(FlagRules):
        name = f"SIPAS_FLAG_{rule.name.upper()}"
        value = os.environ.get(name)
        if value is None:
            continue
        try:
            given[rule.name] = type(rule.default)(value)
        except ValueError:
            raise Refused("config.not_a_number", name=name, value=value) from None
    return FlagRules(**given)


@dataclass(frozen=True)
class CaseRules:
    """Which responses open a case and how long the unit has to answer (survey_app/cases).

    These are the defaults; an admin overrides any of them on the admin page (table case_rules).
    """

    dissatisfied: str = "1,2"  # the rating codes that count as dissatisfied
    items: str = "any"  # "any": a dissatisfied rating on any item or on HL; "overall": on HL only
    needs: str = "comment_or_contact"  # also a comment or a contact given with consent; "none": the rating alone
    deadline_days: int = 5  # working days to answer; weekends and holidays are skipped
    weekend: str = "5,6"  # Python weekday numbers of the days off (Saturday, Sunday)

    @property
    def dissatisfied_codes(self) -> frozenset[int]:
        return frozenset(int(code) for code in self.dissatisfied.split(",") if code.strip())

    @property
    def weekend_days(self) -> frozenset[int]:
        return frozenset(int(day) for day in self.weekend.split(",") if day.strip())


# National holidays on fixed solar dates (month, day): New Year, Reunification, Labour Day,
# National Day and the day before it. Lunar ones are entered per year in the holidays table.
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 1), (9, 2))


def smtp_url() -> str | None:
    """SIPAS_SMTP_URL, e.g. smtp://user:pass@mail.example.vn:587?from=sipas@example.vn&starttls=1;
    unset or empty: no e-mail is sent."""
    return os.environ.get("SIPAS_SMTP_URL") or None


def scheduler_seconds() -> float:
    """How often the app's scheduler runs (escalation, e-mail); 0 switches it off."""
    return float(os.environ.get("SIPAS_SCHEDULER_SECONDS", "300"))


def digest_hour() -> int:
    """The hour (Vietnam time) from which the day's digest goes out."""
    return int(os.environ.get("SIPAS_DIGEST_HOUR", "7"))
