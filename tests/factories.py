"""Valid responses to vary in tests, and a count of what is stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from survey_app.core.config import TIMEZONE
from survey_app.db.store import Store


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Vietnam time."""
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)


NOW = at(2026, 5, 13, 10)  # the tests' clock (tests/conftest.py): a Wednesday in opening hours, mid-Q2


@dataclass
class Clock:
    """The time the service reads (survey_app.core.clock) while a test runs; it moves only when told."""

    moment: datetime

    def set(self, moment: datetime) -> None:
        self.moment = moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def today(self) -> date:
        return self.moment.date()


def dvc_answers(value: int | None = 4, **overrides: int | None) -> dict[str, int | None]:
    """Every sipas-dvc item answered `value` (PA items may be None), overall 4, then overrides."""
    counts = {"TC": 4, "TT": 4, "CC": 5, "KQ": 3, "PA": 3}
    answers: dict[str, int | None] = {f"{e}{i}": value for e, n in counts.items() for i in range(1, n + 1)}
    answers["HL"] = 4
    answers.update(overrides)
    return answers


def dvc_response(**fields: Any) -> dict[str, Any]:
    """A valid sipas-dvc response for Sở Tài chính, counter quay-1; keyword arguments replace fields."""
    response: dict[str, Any] = {
        "response_id": str(uuid.uuid4()),
        "unit_id": "so-tai-chinh",
        "counter_id": "quay-1",
        "instrument_id": "sipas-dvc",
        "channel": "qr",
        "lang": "vi",
        "stage": "da_nhan",
        "answers": dvc_answers(),
        "choices": {"gay_phien_ha": "khong", "mong_doi": ["thai_do", "cntt"]},
        "comment": "Cán bộ hướng dẫn tận tình.",
    }
    response.update(fields)
    return response


def table_counts(store: Store) -> dict[str, int]:
    tables = ("responses", "answers", "choices", "comments", "contacts")
    return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in tables}
