"""The store: round trip, idempotency, every invalid value refused with nothing written."""

from __future__ import annotations

import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from factories import CHOICES, dvc_answers, dvc_response, table_counts

from survey_app.core.responses import InvalidResponse
from survey_app.db.store import apply_migrations
from survey_app.store import Store, open_store


def test_submit_round_trip_stores_every_part(store: Store) -> None:
    response = dvc_response(answers=dvc_answers(5, hl=4, PA1=None, PA2=None, PA3=None, CC1=2), choices=CHOICES,
                            comment="Cán bộ hướng dẫn tận tình.", contact={"phone": "0912 345 678", "consent": True},
                            seconds_taken=64.5)
    result = store.submit(response)
    assert result.status == "ok" and not result.duplicate
    stored = dict(store.query("SELECT item_id, value FROM answers WHERE response_id = ?", [response["response_id"]]))
    assert stored["TC1"] == 5 and stored["CC1"] == 2 and stored["PA1"] is None and stored["HL"] == 4
    assert len(stored) == 20
    row = store.query("SELECT unit_id, counter_id, instrument_version, stage, seconds_taken FROM responses")[0]
    assert row == ("so-tai-chinh", "quay-1", store.instruments["sipas-dvc"].version, "da_nhan", 64.5)
    assert sorted(store.query("SELECT question_id, option_id FROM choices")) == [
        ("gay_phien_ha", "khong"), ("mong_doi", "cntt"), ("mong_doi", "thai_do")]
    assert store.query("SELECT text FROM comments") == [("Cán bộ hướng dẫn tận tình.",)]
    assert store.query("SELECT phone FROM contacts") == [("0912345678",)]


def test_not_yet_received_stores_result_items_as_na(store: Store) -> None:
    answers = {k: v for k, v in dvc_answers().items() if not k.startswith("KQ")}
    store.submit(dvc_response(stage="chua_nhan", answers=answers, choices={}))
    assert store.query("SELECT count(*) FROM answers WHERE item_id LIKE 'KQ%' AND value IS NULL") == [(3,)]


def test_same_response_id_twice_stores_one_and_returns_first(store: Store) -> None:
    response = dvc_response(choices=CHOICES, comment="Cán bộ hướng dẫn tận tình.")
    first = store.submit(response)
    again = store.submit(dict(response, answers=dvc_answers(1), comment="khác"))
    assert again.duplicate and again.response_id == first.response_id
    assert again.submitted_at == first.submitted_at
    assert table_counts(store) == {"responses": 1, "answers": 20, "choices": 3, "comments": 1, "contacts": 0}
    assert store.query("SELECT DISTINCT value FROM answers WHERE item_id = 'TC1'") == [(4,)]


def test_concurrent_double_taps_store_one_response(store: Store) -> None:
    response = dvc_response()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: store.submit(response), range(16)))
    assert sum(not r.duplicate for r in results) == 1
    assert table_counts(store)["responses"] == 1


@pytest.mark.usefixtures("integrity_rules_off")  # 400 identical answer sets at once: burst_pattern flags them
def test_sixteen_writers_lose_nothing(store: Store) -> None:
    responses = [dvc_response() for _ in range(400)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(store.submit, responses))
    assert all(r.status == "ok" for r in results)
    ids = {str(r[0]) for r in store.query("SELECT response_id FROM responses")}
    assert ids == {r["response_id"] for r in responses}
    assert table_counts(store)["answers"] == 400 * 20


BAD = [
    ({"answers": dvc_answers(6, hl=4)}, "answers.TC1", "out_of_scale"),
    ({"answers": dvc_answers(0, hl=4)}, "answers.TC1", "out_of_scale"),
    ({"answers": dvc_answers(TT2=4.5)}, "answers.TT2", "invalid"),
    ({"answers": dvc_answers(TT2="5")}, "answers.TT2", "invalid"),
    ({"answers": dvc_answers(TT2=True)}, "answers.TT2", "invalid"),
    ({"answers": dvc_answers(CC3=None)}, "answers.CC3", "na_not_allowed"),
    ({"answers": {**dvc_answers(), "XX9": 3}}, "answers.XX9", "unknown_item"),
    ({"answers": {k: v for k, v in dvc_answers().items() if k != "KQ2"}}, "answers.KQ2", "missing"),
    ({"answers": "5 5 5"}, "answers", "missing"),
    ({"stage": "chua_nhan", "answers": dvc_answers()}, "answers.KQ1", "skipped"),  # KQ answered, not asked
    ({"stage": None}, "stage", "missing"),
    ({"stage": "hôm qua"}, "stage", "invalid"),
    ({"instrument_id": "sipas-1999"}, "instrument_id", "unknown_instrument"),
    ({"unit_id": "so-khong-co"}, "unit_id", "unknown_unit"),
    ({"counter_id": "quay-99"}, "counter_id", "unknown_counter"),
    ({"response_id": "not-a-uuid"}, "response_id", "invalid"),
    ({"response_id": None}, "response_id", "missing"),
    ({"comment": "x" * 2001}, "comment", "too_long"),
    ({"comment": "x" * 1_000_000}, "comment", "too_long"),
    ({"comment": "ok\x00drop"}, "comment", "control_char"),
    ({"comment": "bell\x07"}, "comment", "control_char"),
    ({"comment": 42}, "comment", "invalid"),
    ({"choices": {"gay_phien_ha": "có thể"}}, "choices.gay_phien_ha", "unknown_option"),
    ({"choices": {"mong_doi": ["thong_tin", "tru_so", "giam_phi", "thai_do"]}}, "choices.mong_doi", "too_many"),
    ({"choices": {"tuoi_tho": "x"}}, "choices.tuoi_tho", "unknown_question"),
    ({"channel": "fax"}, "channel", "invalid"),
    ({"lang": "fr"}, "lang", "invalid"),
    ({"service_field": "'; DROP TABLE responses; --"}, "service_field", "invalid"),
    ({"contact": {"phone": "0912345678"}}, "contact.consent", "no_consent"),
    ({"contact": {"phone": "12345", "consent": True}}, "contact.phone", "invalid_phone"),
    ({"seconds_taken": -1}, "seconds_taken", "invalid"),
    ({"status": "ok"}, "status", "unknown_field"),
]


@pytest.mark.parametrize(("change", "field", "code"), BAD, ids=[f"{b[1]}-{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_invalid_response_names_field_and_writes_nothing(store: Store, change: dict, field: str, code: str) -> None:
    store.submit(dvc_response())
    before = table_counts(store)
    with pytest.raises(InvalidResponse) as caught:
        store.submit(dvc_response(**change))
    assert (caught.value.field, caught.value.code) == (field, code)
    assert table_counts(store) == before


def test_nhanh3_reasons_only_when_dissatisfied(store: Store) -> None:
    base = {"instrument_id": "nhanh-3", "stage": None, "comment": None}
    store.submit(dvc_response(**{**base, "comment": "Chờ lâu quá"}, answers={"HL1": 1},
                              choices={"ly_do": ["cho_lau", "thai_do"]}))
    with pytest.raises(InvalidResponse, match=r"choices\.ly_do"):
        store.submit(dvc_response(**base, answers={"HL1": 3}, choices={"ly_do": ["cho_lau"]}))
    with pytest.raises(InvalidResponse, match=r"answers\.HL1"):
        store.submit(dvc_response(**base, answers={"HL1": 4}, choices={}))
    assert table_counts(store)["responses"] == 1


def test_harmless_text_is_stored_as_written(store: Store) -> None:
    texts = ["<script>alert(1)</script>", "Robert'); DROP TABLE answers;--", "Rất tốt 👍🏽\nCảm ơn",
             "Tie\u0302\u0301p ca\u0323\u0302n"]  # combining marks: stored composed (NFC)
    for text in texts:
        store.submit(dvc_response(comment=text))
    stored = [r[0] for r in store.query("SELECT text FROM comments")]
    assert set(stored) == {texts[0], texts[1], texts[2], "Tiếp cận"}
    assert table_counts(store)["answers"] == 80


def test_migrations_run_twice_are_harmless(store: Store, db_path: Path) -> None:
    store.submit(dvc_response())
    store.close()
    with open_store(db_path) as again:
        assert again.write(apply_migrations) == []
        assert again.query("SELECT count(*) FROM responses") == [(1,)]
        assert again.query("SELECT max(version) FROM schema_migrations")[0][0] >= 1


def test_second_process_gets_a_clear_message_while_held(store: Store, db_path: Path) -> None:
    code = ("import sys\nfrom survey_app.store import open_store, DatabaseBusy\n"
            f"try:\n    open_store({str(db_path)!r})\nexcept DatabaseBusy as e:\n    print(e); sys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "đang được ứng dụng SIPAS" in done.stdout and "Traceback" not in done.stdout


def test_closed_store_refuses_writes(store: Store) -> None:
    store.close()
    with pytest.raises(Exception, match="đã đóng"):
        store.submit(dvc_response(response_id=str(uuid.uuid4())))
