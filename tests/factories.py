"""Valid responses to vary in tests, and a count of what is stored."""

from __future__ import annotations

import uuid
from typing import Any

from survey_app.db.store import Store


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
