"""A corpus of bad input against store.submit() and the survey links: each is refused with a clear
message naming what is wrong, or stored harmlessly exactly as meant — and nothing else changes."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from factories import dvc_answers, dvc_response, table_counts

from survey_app.collection import links
from survey_app.core import config
from survey_app.core.i18n import t
from survey_app.core.keys import rotate_keys
from survey_app.core.responses import InvalidResponse
from survey_app.db.store import Store

TABLES = ("responses", "answers", "choices", "comments", "contacts", "receipts", "audit_log")


def snapshot(store: Store) -> dict[str, list[str]]:
    """Every row of every table a response touches, as text: equal snapshots mean nothing changed."""
    return {table: sorted(map(repr, store.query(f"SELECT * FROM {table}"))) for table in TABLES}


def without(item: str) -> dict[str, int | None]:
    return {k: v for k, v in dvc_answers().items() if k != item}


def raw(**fields: Any) -> dict[str, Any]:
    """A valid response with fields that no keyword argument can name."""
    return {**dvc_response(), **fields}


REFUSED: list[tuple[str, Any, str, str]] = [
    # ratings out of range or not whole numbers
    ("rating 6", dvc_response(answers=dvc_answers(TC1=6)), "answers.TC1", "out_of_scale"),
    ("rating 0", dvc_response(answers=dvc_answers(TC1=0)), "answers.TC1", "out_of_scale"),
    ("rating -1", dvc_response(answers=dvc_answers(TC1=-1)), "answers.TC1", "out_of_scale"),
    ("rating 10**30", dvc_response(answers=dvc_answers(TC1=10**30)), "answers.TC1", "out_of_scale"),
    ("rating 3.5", dvc_response(answers=dvc_answers(TC1=3.5)), "answers.TC1", "invalid"),
    ("rating NaN", dvc_response(answers=dvc_answers(TC1=math.nan)), "answers.TC1", "invalid"),
    ("rating text", dvc_response(answers=dvc_answers(TC1="5")), "answers.TC1", "invalid"),
    ("rating Arabic digit", dvc_response(answers=dvc_answers(TC1="٥")), "answers.TC1", "invalid"),
    ("rating True", dvc_response(answers=dvc_answers(TC1=True)), "answers.TC1", "invalid"),
    ("rating list", dvc_response(answers=dvc_answers(TC1=[5])), "answers.TC1", "invalid"),
    ("rating N/A not allowed", dvc_response(answers=dvc_answers(CC1=None)), "answers.CC1", "na_not_allowed"),
    # unknown items and instruments
    ("unknown item", dvc_response(answers={**dvc_answers(), "XX9": 3}), "answers.XX9", "unknown_item"),
    ("item in lower case", dvc_response(answers={**without("TC1"), "tc1": 4}), "answers.tc1", "unknown_item"),
    ("item as SQL", dvc_response(answers={**dvc_answers(), "TC1; DROP TABLE answers": 3}),
     "answers.TC1; DROP TABLE answers", "unknown_item"),
    ("ten thousand items", dvc_response(answers={**dvc_answers(), **{f"Z{i}": 5 for i in range(10_000)}}),
     "answers.Z0", "unknown_item"),
    ("unknown instrument", dvc_response(instrument_id="sipas-9999"), "instrument_id", "unknown_instrument"),
    ("instrument path", dvc_response(instrument_id="../../etc/passwd"), "instrument_id", "unknown_instrument"),
    ("instrument number", dvc_response(instrument_id=42), "instrument_id", "invalid"),
    ("no instrument", dvc_response(instrument_id=None), "instrument_id", "missing"),
    # missing required answers
    ("one answer missing", dvc_response(answers=without("KQ2")), "answers.KQ2", "missing"),
    ("no answers", dvc_response(answers={}), "answers.TC1", "missing"),
    ("answers as text", dvc_response(answers="5 5 5"), "answers", "missing"),
    ("answers as list", dvc_response(answers=[5] * 20), "answers", "missing"),
    ("stage missing", dvc_response(stage=None), "stage", "missing"),
    # not a response at all
    ("None", None, "response", "invalid"),
    ("a list", [dvc_response()], "response", "invalid"),
    ("a string", "TC1=5", "response", "invalid"),
    ("a status of one's choosing", dvc_response(status="ok"), "status", "unknown_field"),
    ("a megabyte field name", raw(**{"x" * 1_000_000: 1}), "x" * 59 + "…", "unknown_field"),
    # comments: too long, control characters, not text
    ("1 MB comment", dvc_response(comment="Chờ lâu. " * 125_000), "comment", "too_long"),
    ("comment one over", dvc_response(comment="x" * (config.COMMENT_MAX_CHARS + 1)), "comment", "too_long"),
    ("NUL", dvc_response(comment="tốt\x00"), "comment", "control_char"),
    ("terminal escape", dvc_response(comment="\x1b[31mđỏ\x1b[0m"), "comment", "control_char"),
    ("DEL", dvc_response(comment="a\x7fb"), "comment", "control_char"),
    ("lone surrogate", dvc_response(comment="a\ud800b"), "comment", "control_char"),
    ("comment bytes", dvc_response(comment=b"tot"), "comment", "invalid"),
    ("comment list", dvc_response(comment=["tốt"]), "comment", "invalid"),
    # ids that try to be SQL, or are too long, or not text
    ("unit as SQL", dvc_response(unit_id="so-tai-chinh' OR '1'='1"), "unit_id", "unknown_unit"),
    ("unit too long", dvc_response(unit_id="u" * 65), "unit_id", "invalid"),
    ("unit number", dvc_response(unit_id=7), "unit_id", "invalid"),
    ("counter as SQL", dvc_response(counter_id="quay-1; --"), "counter_id", "unknown_counter"),
    ("response id as SQL", dvc_response(response_id="'; DROP TABLE responses; --"), "response_id", "invalid"),
    ("response id number", dvc_response(response_id=12345), "response_id", "missing"),
    ("option as SQL", dvc_response(choices={"gay_phien_ha": "khong' OR 1=1"}), "choices.gay_phien_ha",
     "unknown_option"),
    ("choices as text", dvc_response(choices="khong"), "choices", "invalid"),
    ("nested options", dvc_response(choices={"mong_doi": [["thai_do"]]}), "choices.mong_doi", "invalid"),
    ("channel as HTML", dvc_response(channel="<script>"), "channel", "invalid"),
    ("language with NUL", dvc_response(lang="vi\x00"), "lang", "invalid"),
    # times, contact, receipt
    ("time without zone", dvc_response(submitted_at=datetime(2026, 3, 2, 9)), "submitted_at", "invalid"),
    ("time as text", dvc_response(submitted_at="2026-03-02"), "submitted_at", "invalid"),
    ("seconds NaN", dvc_response(seconds_taken=math.nan), "seconds_taken", "invalid"),
    ("seconds infinite", dvc_response(seconds_taken=math.inf), "seconds_taken", "invalid"),
    ("seconds text", dvc_response(seconds_taken="60"), "seconds_taken", "invalid"),
    ("phone as script", dvc_response(contact={"phone": "<script>", "consent": True}), "contact.phone",
     "invalid_phone"),
    ("consent not a yes", dvc_response(contact={"phone": "0912345678", "consent": "yes"}), "contact.consent",
     "no_consent"),
    ("receipt as SQL", dvc_response(receipt="'; DROP TABLE receipts; --"), "receipt", "invalid"),
    ("receipt too long", dvc_response(receipt="HS" * 500), "receipt", "invalid"),
]


@pytest.mark.parametrize(("change", "field", "code"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(store: Store, change: Any, field: str,
                                                                   code: str) -> None:
    store.submit(dvc_response(comment="Trước đó", contact={"phone": "0912345678", "consent": True}))
    before = snapshot(store)
    with pytest.raises(InvalidResponse) as caught:
        store.submit(change)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert len(str(caught.value)) < 200  # the input is never echoed at length into logs or pages
    assert field[:20] in t("error.invalid", "vi", field=caught.value.field)  # what the form shows
    assert snapshot(store) == before


HARMLESS = [
    ("HTML and script", "<script>alert('x')</script><img src=x onerror=alert(1)>"),
    ("SQL", "Robert'); DROP TABLE answers; -- ' OR '1'='1"),
    ("emoji", "Rất tốt 👍🏽👨‍👩‍👧 cảm ơn 🇻🇳"),
    ("right-to-left mark and zero-width space", "abc\u202edef\u200bghi"),
    ("Windows line ends and tabs", "dòng 1\r\ndòng 2\tcột"),
    ("exactly the limit", "ư" * config.COMMENT_MAX_CHARS),
    ("placeholders of the form", "{field} {0} %s %(x)s"),
]


@pytest.mark.parametrize("text", [h[1] for h in HARMLESS], ids=[h[0] for h in HARMLESS])
def test_odd_but_harmless_text_is_stored_as_written(store: Store, text: str) -> None:
    before = table_counts(store)
    store.submit(dvc_response(comment=text))
    stored = store.query("SELECT text FROM comments")[0][0]
    assert stored == text.replace("\r\n", "\n")
    assert table_counts(store) == {**before, "responses": 1, "answers": 20, "comments": 1}


def test_combining_diacritics_are_stored_composed(store: Store) -> None:
    store.submit(dvc_response(comment="Tie\u0302\u0301p ca\u0323\u0302n nhanh, ca\u0309m o\u031bn"))
    assert store.query("SELECT text FROM comments") == [("Tiếp cận nhanh, cảm ơn",)]


def test_blank_comment_stores_no_comment_row(store: Store) -> None:
    store.submit(dvc_response(comment=" \n\t "))
    assert table_counts(store)["comments"] == 0 and table_counts(store)["responses"] == 1


def test_replayed_submission_is_stored_once(store: Store) -> None:
    response = dvc_response()
    results = [store.submit(response) for _ in range(5)]
    assert [r.duplicate for r in results] == [False, True, True, True, True]
    assert table_counts(store)["responses"] == 1


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "keys")
    monkeypatch.delenv("SIPAS_SECRET", raising=False)
    return tmp_path / "keys"


def _flip(token: str, at: int) -> str:
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


def bad_tokens() -> list[tuple[str, str, str]]:
    good = links.make_token("so-tai-chinh", "quay-1", "sipas-dvc")
    return [
        ("empty", "", "malformed"),
        ("one character", "a", "malformed"),
        ("punctuation", "!!!!!!!!!!", "malformed"),
        ("10 000 characters", "A" * 10_000, "malformed"),
        ("SQL", "' OR 1=1 --", "malformed"),
        ("script", "<script>alert(1)</script>", "malformed"),
        ("emoji", "😀" * 12, "malformed"),
        ("percent-encoded NUL", "%00%00%00%00", "malformed"),
        ("base64 of nothing useful", "AAAAAAAAAAAAAAAA", "malformed"),
        ("cut short", good[:-1], "malformed"),
        ("one more character", good + "A", "malformed"),
        ("signature altered", _flip(good, len(good) - 3), "forged"),
        ("unit altered", _flip(good, 6), "forged"),
    ]


def test_bad_tokens_are_refused_with_a_vietnamese_message(store: Store, key_dir: Path) -> None:
    before = snapshot(store)
    for name, token, reason in bad_tokens():
        with pytest.raises(links.BadLink) as refused:
            links.resolve_link(store, token)
        assert refused.value.reason == reason, name
        assert refused.value.message("vi") == t(f"link.bad.{reason}", "vi") and "Xin" in refused.value.message("vi")
    assert snapshot(store) == before


def test_replayed_tokens_stay_valid_until_the_keys_rotate(store: Store, key_dir: Path) -> None:
    token = links.make_token("so-tai-chinh", "quay-1", "sipas-dvc")
    # A poster's token is scanned by every citizen at the counter: replaying it is its purpose.
    assert links.resolve_link(store, token) == links.resolve_link(store, token)
    rotate_keys()
    with pytest.raises(links.BadLink) as refused:
        links.resolve_link(store, token)
    assert refused.value.reason == "revoked"


def test_a_response_id_reused_for_other_answers_keeps_the_first(store: Store) -> None:
    response_id = str(uuid.uuid4())
    store.submit(dvc_response(response_id=response_id, answers=dvc_answers(5)))
    again = store.submit(dvc_response(response_id=response_id, answers=dvc_answers(1), comment="khác"))
    assert again.duplicate
    assert store.query("SELECT DISTINCT value FROM answers WHERE item_id = 'TC1'") == [(5,)]
