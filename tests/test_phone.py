"""One phone rule: what the form accepts the store keeps, in one spelling; what one refuses the other does."""

from __future__ import annotations

import pytest

from survey_app.collection.form import FormState, Step, step_errors
from survey_app.core.instruments import load_instruments
from survey_app.core.responses import InvalidResponse, normalise_phone, validate_response
from survey_app.store import Store
from tests.factories import dvc_response

INSTRUMENTS = load_instruments()

# What people type → what is kept (None: refused by both).
SPELLINGS = [
    ("0901234567", "0901234567"),
    ("0901 234 567", "0901234567"),
    ("  0901 234 567  ", "0901234567"),
    ("0901.234.567", "0901234567"),
    ("0901-234-567", "0901234567"),
    ("090 1234 567", "0901234567"),
    ("+84901234567", "0901234567"),
    ("+84 901 234 567", "0901234567"),
    ("84901234567", "0901234567"),
    ("84 901 234 567", "0901234567"),
    ("(+84) 901 234 567", "0901234567"),
    ("+84 (0) 901 234 567", "0901234567"),
    ("(090) 1234 567", "0901234567"),
    ("0901 234 567 (nhà)", "0901234567"),
    ("0901 234 567 (Zalo)", "0901234567"),
    ("0901234567 gọi sau 17h", "0901234567"),
    ("ĐT: 0987.654.321", "0987654321"),
    ("０９０１２３４５６７", "0901234567"),  # full-width digits of some phone keyboards
    ("0312 345 678", "0312345678"),
    ("0901 234 567 hoặc 0912 345 678", None),  # two numbers: which one?
    ("0901 234 567 / 0912 345 678", None),
    ("0901 234 56", None),
    ("09012345678", None),
    ("0201 234 5678", None),  # a landline: the office calls back mobiles only
    ("0123 456 789", None),
    ("12345", None),
    ("số nhà 12", None),
    ("<script>", None),
    ("", None),
]


def _form_accepts(phone: str) -> bool:
    instrument = INSTRUMENTS["sipas-dvc"]
    state = FormState(instrument.id, stage="da_nhan", wants_contact=True, phone=phone, consent=True)
    return "phone" not in step_errors(instrument, Step("more"), state)


def _store_keeps(phone: str) -> str | None:
    try:
        record = validate_response(dvc_response(contact={"phone": phone, "consent": True}), INSTRUMENTS)
    except InvalidResponse as refused:
        assert (refused.field, refused.code) == ("contact.phone", "invalid_phone")
        return None
    return record.contact_phone


@pytest.mark.parametrize(("typed", "kept"), SPELLINGS)
def test_form_and_store_agree_on_each_spelling(typed: str, kept: str | None) -> None:
    assert normalise_phone(typed) == kept
    assert _form_accepts(typed) is (kept is not None)
    assert _store_keeps(typed) == kept


def test_the_store_keeps_the_number_in_one_spelling(store: Store) -> None:
    for typed in ("0901 234 567 (nhà)", "+84 901.234.567"):
        store.submit(dvc_response(contact={"phone": typed, "consent": True}))
    assert store.query("SELECT phone FROM contacts") == [("0901234567",), ("0901234567",)]
