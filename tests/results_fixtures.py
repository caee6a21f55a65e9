"""Small, explicit data for the results tests: responses built by hand and written in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from survey_app.core.config import TIMEZONE
from survey_app.core.responses import validate_response
from survey_app.db.store import Store, write_records

ELEMENTS = {"TC": 4, "TT": 4, "CC": 5, "KQ": 3, "PA": 3}


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Vietnam time."""
    return datetime(year, month, day, hour, minute, tzinfo=TIMEZONE)


def answers(value: int | None, *, pa: int | None = None, hl: int | None = None, **overrides: int | None
            ) -> dict[str, int | None]:
    """Every TC/TT/CC/KQ item `value`, every PA item `pa` (None = N/A), HL `hl` (default `value`)."""
    out: dict[str, int | None] = {f"{e}{i}": value for e, k in ELEMENTS.items() for i in range(1, k + 1)}
    out.update({f"PA{i}": pa for i in range(1, 4)})
    out["HL"] = value if hl is None else hl
    out.update(overrides)
    return out


def dvc(unit_id: str, given: dict[str, int | None], *, when: datetime, stage: str = "da_nhan",
        choices: dict[str, Any] | None = None, channel: str = "qr", counter_id: str = "quay-1",
        service_field: str | None = None) -> dict[str, Any]:
    """A sipas-dvc response; at stage chua_nhan the KQ items are dropped (not asked)."""
    if stage == "chua_nhan":
        given = {k: v for k, v in given.items() if not k.startswith("KQ")}
    return {"response_id": str(uuid.uuid4()), "unit_id": unit_id, "counter_id": counter_id,
            "instrument_id": "sipas-dvc", "channel": channel, "lang": "vi", "stage": stage,
            "service_field": service_field, "answers": given, "choices": choices or {}, "submitted_at": when}


def add(store: Store, responses: Iterable[dict[str, Any]]) -> list[str]:
    """Validate and write many responses in one transaction (fast; submit() commits one by one)."""
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
        dvc(unit_id, answers(5, pa=None), when=when, channel="qr",
            choices={"gay_phien_ha": "khong", "mong_doi": ["thai_do", "cntt"]}),
        dvc(unit_id, answers(4, PA1=2, PA2=4, PA3=None), when=when, channel="qr",
            choices={"gay_phien_ha": "khong", "mong_doi": ["thai_do"]}),
        dvc(unit_id, answers(3, pa=None, CC1=5), when=when, channel="kiosk",
            choices={"gay_phien_ha": "co"}),
        dvc(unit_id, answers(2, TC1=4, PA1=5, PA2=5, PA3=1), when=when, stage="chua_nhan", channel="qr"),
    ])
