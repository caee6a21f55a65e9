"""The one builder of test data: moments in Vietnam time and the tests' clock, sipas-dvc answers and
responses to vary, writing many at once, and counts of what is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from survey_app.core.config import TIMEZONE
from survey_app.core.responses import validate_response
from survey_app.db.store import Store, write_records

ELEMENTS = {"TC": 4, "TT": 4, "CC": 5, "KQ": 3, "PA": 3}  # sipas-dvc: items per element, then HL
CHOICES = {"gay_phien_ha": "khong", "mong_doi": ["thai_do", "cntt"]}  # a valid answer to the choice questions
_SAME: Any = object()


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


def dvc_answers(value: int | None = 4, *, pa: int | None = _SAME, hl: int | None = _SAME,
                **overrides: Any) -> dict[str, Any]:
    """Every sipas-dvc item answered `value`, except the PA items `pa` (None = not applicable) and the
    overall HL `hl` when given; then `overrides` by item id (any value, to try invalid ones)."""
    answers: dict[str, Any] = {f"{e}{i}": value for e, n in ELEMENTS.items() for i in range(1, n + 1)}
    answers.update({f"PA{i}": value if pa is _SAME else pa for i in range(1, ELEMENTS["PA"] + 1)})
    answers["HL"] = value if hl is _SAME else hl
    answers.update(overrides)
    return answers


def dvc_response(unit_id: str = "so-tai-chinh", given: dict[str, Any] | None = None, *,
                 when: datetime | None = None, stage: str | None = "da_nhan", **fields: Any) -> dict[str, Any]:
    """A valid sipas-dvc response at `unit_id`'s counter quay-1 with the answers `given` (default:
    every item 4), submitted `when` (default: the store stamps it), without choices or comment.
    At stage chua_nhan the KQ items are dropped (not asked). `fields` set any other field."""
    given = dvc_answers() if given is None else given
    if stage == "chua_nhan":
        given = {k: v for k, v in given.items() if not k.startswith("KQ")}
    response: dict[str, Any] = {"response_id": str(uuid.uuid4()), "unit_id": unit_id, "counter_id": "quay-1",
                                "instrument_id": "sipas-dvc", "channel": "qr", "lang": "vi", "stage": stage,
                                "answers": given}
    if when is not None:
        response["submitted_at"] = when
    return {**response, **fields}


def quick_response(unit_id: str, value: int, *, when: datetime | None = None, **fields: Any) -> dict[str, Any]:
    """A one-question nhanh-3 response (faces 1–3), as a kiosk sends it."""
    return dvc_response(unit_id, {"HL1": value}, when=when, stage=None, instrument_id="nhanh-3", **fields)


def add(store: Store, responses: Iterable[dict[str, Any]]) -> list[str]:
    """Validate and write many responses in one transaction, as a bulk import does: no integrity rules
    (fast; store.submit() judges and commits them one by one)."""
    records = [validate_response(r, store.instruments) for r in responses]
    store.write(lambda con: write_records(con, records))
    return [str(r.response_id) for r in records]


def set_status(store: Store, response_ids: Iterable[str], status: str) -> None:
    ids = list(response_ids)
    if not ids:
        return
    store.write(lambda con: con.executemany("UPDATE responses SET status = ? WHERE response_id = ?",
                                            [[status, i] for i in ids]))


def set_dossiers(store: Store, unit_id: str, period: str, dossiers: int) -> None:
    store.write(lambda con: con.execute("INSERT OR REPLACE INTO dossier_counts VALUES (?, ?, ?)",
                                        [unit_id, period, dossiers]))


def golden_unit(store: Store, unit_id: str = "so-tai-chinh", when: datetime | None = None) -> list[str]:
    """The four responses whose indices test_results_golden.py computes by hand."""
    when = when or at(2026, 2, 10)
    return add(store, [
        dvc_response(unit_id, dvc_answers(5, pa=None), when=when, channel="qr",
                     choices={"gay_phien_ha": "khong", "mong_doi": ["thai_do", "cntt"]}),
        dvc_response(unit_id, dvc_answers(4, pa=None, PA1=2, PA2=4), when=when, channel="qr",
                     choices={"gay_phien_ha": "khong", "mong_doi": ["thai_do"]}),
        dvc_response(unit_id, dvc_answers(3, pa=None, CC1=5), when=when, channel="kiosk",
                     choices={"gay_phien_ha": "co"}),
        dvc_response(unit_id, dvc_answers(2, pa=None, TC1=4, PA1=5, PA2=5, PA3=1), when=when, stage="chua_nhan",
                     channel="qr"),
    ])


def table_counts(store: Store) -> dict[str, int]:
    tables = ("responses", "answers", "choices", "comments", "contacts")
    return {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in tables}
