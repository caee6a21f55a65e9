"""Checking a submitted response against its instrument, before anything is written.

`validate_response` turns the loose mapping a form or a script sends into a `ResponseRecord`, or
raises `InvalidResponse` naming the field. It needs no database: unit and counter checks are the
store's, because they depend on what is stored.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from survey_app.core import config, privacy
from survey_app.core.i18n import DEFAULT_LANG, LANGS
from survey_app.core.instruments import Instrument

KNOWN_FIELDS = frozenset({
    "response_id", "submitted_at", "unit_id", "counter_id", "instrument_id", "instrument_version",
    "channel", "lang", "stage", "service_field", "client_hash", "address_hash", "seconds_taken", "answers",
    "choices", "comment", "contact", "receipt",
})
# A Vietnamese mobile number without its 0 or +84: a network prefix (3, 5, 7, 8, 9) and 8 digits.
_MOBILE = re.compile(r"[35789]\d{8}")
# What people put between the digits of a number they type: spaces, dots, dashes, brackets.
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
# A note in brackets, "(nhà)" or "(Zalo)": brackets holding a letter are not part of the number.
_PHONE_NOTE = re.compile(r"\([^()]*[^\W\d_][^()]*\)")
ALLOWED_CONTROLS = frozenset("\n\t")
FIELD_SHOWN = 60
# A dossier code (mã hồ sơ) as one-stop systems print them, e.g. 000.00.12.H26-250101-0001.
RECEIPT = re.compile(r"[A-Z0-9][A-Z0-9.\-/_]{3,39}")


class InvalidResponse(ValueError):
    """A response that cannot be stored. `field` names what is wrong; `code` keys the message."""

    def __init__(self, field: str, code: str, detail: str) -> None:
        # A field name can come from the input (an unknown key): never echo a megabyte into a log or a page.
        field = field if len(field) <= FIELD_SHOWN else field[:FIELD_SHOWN - 1] + "…"
        self.field, self.code, self.detail = field, code, detail
        super().__init__(f"{field}: {detail}")


@dataclass(frozen=True)
class ResponseRecord:
    """A validated response, ready to be written as it is."""

    response_id: uuid.UUID
    # None: the writer thread stamps the time at commit, so live responses' time order is their
    # commit order (what the integrity rules and a later scan compare in).
    submitted_at: datetime | None
    unit_id: str
    counter_id: str | None
    instrument_id: str
    instrument_version: str
    channel: str
    lang: str
    stage: str | None
    service_field: str | None
    client_hash: str | None
    seconds_taken: float | None
    answers: tuple[tuple[str, int | None], ...]
    choices: tuple[tuple[str, str], ...]
    comment: str | None
    contact_phone: str | None
    status: str = "ok"
    flag_reasons: str | None = None
    receipt: str | None = field(default=None, repr=False)  # in memory only: stored as a keyed hash
    address_hash: str | None = None  # privacy.address_hash: the client address alone, daily and keyed

    @property
    def answer_pattern(self) -> str:
        """The ratings in item-id order, "-" for N/A: identical answer sets have equal patterns.

        integrity.maintenance.fill_patterns computes the same string from the answers table.
        """
        return "".join("-" if value is None else str(value) for _, value in sorted(self.answers))


def _text_id(raw: Mapping[str, Any], field: str, *, required: bool) -> str | None:
    value = raw.get(field)
    if value is None or value == "":
        if required:
            raise InvalidResponse(field, "missing", "is required")
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidResponse(field, "invalid", "must be a short text id")
    return value


def _response_id(raw: Mapping[str, Any]) -> uuid.UUID:
    value = raw.get("response_id")
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise InvalidResponse("response_id", "missing", "a UUID made by the client is required")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidResponse("response_id", "invalid", "is not a UUID") from None


def _submitted_at(raw: Mapping[str, Any]) -> datetime | None:
    value = raw.get("submitted_at")
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidResponse("submitted_at", "invalid", "must be a datetime with a time zone")
    return value


def _rating(item_id: str, value: Any, instrument: Instrument) -> int | None:
    item = instrument.answer_items[item_id]
    if value is None:
        if not item.na_allowed:
            raise InvalidResponse(f"answers.{item_id}", "na_not_allowed", "this item cannot be answered N/A")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidResponse(f"answers.{item_id}", "invalid", f"must be a whole number, not {value!r:.40}")
    if value not in item.scale.codes:
        raise InvalidResponse(f"answers.{item_id}", "out_of_scale",
                              f"{value} is not on the scale {sorted(item.scale.codes)}")
    return value


def _answers(raw: Mapping[str, Any], instrument: Instrument, stage: str | None) -> dict[str, int | None]:
    given = raw.get("answers")
    if not isinstance(given, Mapping):
        raise InvalidResponse("answers", "missing", "a mapping of item id to rating is required")
    unknown = sorted(str(k) for k in given if k not in instrument.answer_items)
    if unknown:
        raise InvalidResponse(f"answers.{unknown[0]}", "unknown_item",
                              f"is not an item of {instrument.id}")
    skipped = instrument.skipped_elements(stage)
    answers: dict[str, int | None] = {}
    for item_id, item in instrument.answer_items.items():
        if item.element_id in skipped:
            if given.get(item_id) is not None:
                raise InvalidResponse(f"answers.{item_id}", "skipped",
                                      "is not asked at this stage and must be left out")
            answers[item_id] = None  # skipped items are stored as N/A
        elif item_id not in given:
            raise InvalidResponse(f"answers.{item_id}", "missing", "is required")
        else:
            answers[item_id] = _rating(item_id, given[item_id], instrument)
    return answers


def _choices(raw: Mapping[str, Any], instrument: Instrument, stage: str | None,
             answers: dict[str, int | None]) -> tuple[tuple[str, str], ...]:
    given = raw.get("choices") or {}
    if not isinstance(given, Mapping):
        raise InvalidResponse("choices", "invalid", "must be a mapping of question id to option(s)")
    rows: list[tuple[str, str]] = []
    for question_id, picked in given.items():
        question = instrument.question(str(question_id))
        field = f"choices.{question_id}"
        if question is None:
            raise InvalidResponse(field, "unknown_question", f"is not a question of {instrument.id}")
        options = [picked] if isinstance(picked, str) else picked
        if picked is None or options == []:
            continue  # optional questions may be left blank
        if not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options):
            raise InvalidResponse(field, "invalid", "must be an option id or a list of option ids")
        if question.show_if and not question.show_if.holds(stage, answers):
            raise InvalidResponse(field, "not_shown", "is not asked for these answers")
        if len(options) > question.max_choices:
            raise InvalidResponse(field, "too_many", f"at most {question.max_choices} option(s)")
        if len(set(options)) != len(options):
            raise InvalidResponse(field, "invalid", "an option is picked twice")
        bad = [o for o in options if o not in question.option_ids]
        if bad:
            raise InvalidResponse(field, "unknown_option", f"{bad[0]!r:.40} is not an option")
        rows.extend((question.id, option) for option in options)
    return tuple(rows)


def clean_comment(text: Any, field: str = "comment") -> str | None:
    """Normalised comment text (NFC, trimmed), or None when blank. Refuses control characters."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidResponse(field, "invalid", "must be text")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > config.COMMENT_MAX_CHARS:
        raise InvalidResponse(field, "too_long", f"{len(text)} characters; at most {config.COMMENT_MAX_CHARS}")
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in ALLOWED_CONTROLS) or category == "Cs":
            raise InvalidResponse(field, "control_char", f"contains the control character U+{ord(char):04X}")
    return text or None


def normalise_phone(text: str) -> str | None:
    """The phone number a citizen typed, as 0 and nine digits ("0901234567"), or None if it is not
    one Vietnamese mobile number. The form and the store both ask this, so they cannot disagree.

    Accepts what people type around the digits: spaces, dots, dashes, brackets, +84 or 84 for the
    leading 0 ("+84 (0) 901…" too), a label before it ("ĐT: …") and a note after it ("… (nhà)",
    "… gọi sau 17h"). A second number, or anything else between the digits, is refused, not guessed.
    """
    text = _PHONE_NOTE.sub(" ", unicodedata.normalize("NFKC", text))
    start = re.search(r"[+(\d]", text)
    if start is None:
        return None
    number, *note = re.split(r"[^\W\d_]", text[start.start():], maxsplit=1)  # a note starts at a letter
    if note and sum(ch.isdigit() for ch in note[0]) >= 9:
        return None  # "0901 234 567 hoặc 0912 345 678": which one?
    digits = _PHONE_SEPARATORS.sub("", number)
    for prefix in ("+840", "+84", "840", "84", "0"):
        if digits.startswith(prefix) and _MOBILE.fullmatch(digits[len(prefix):]):
            return "0" + digits[len(prefix):]
    return None


def _contact(raw: Mapping[str, Any]) -> str | None:
    contact = raw.get("contact")
    if not contact:
        return None
    if not isinstance(contact, Mapping):
        raise InvalidResponse("contact", "invalid", "must be a mapping with phone and consent")
    if contact.get("consent") is not True:
        raise InvalidResponse("contact.consent", "no_consent", "a phone number is kept only with consent")
    phone = normalise_phone(str(contact.get("phone") or ""))
    if phone is None:
        raise InvalidResponse("contact.phone", "invalid_phone", "is not a Vietnamese phone number")
    return phone


def _receipt(raw: Mapping[str, Any]) -> str | None:
    """The dossier code in one spelling (capitals, no spaces), so a retyped code matches."""
    value = raw.get("receipt")
    if value is None or value == "":
        return None
    code = re.sub(r"\s+", "", value).upper() if isinstance(value, str) else ""
    if not RECEIPT.fullmatch(code):
        raise InvalidResponse("receipt", "invalid", "is not a dossier code (4–40 letters, digits, . - / _)")
    return code


def _seconds(raw: Mapping[str, Any]) -> float | None:
    value = raw.get("seconds_taken")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 86_400:
        raise InvalidResponse("seconds_taken", "invalid", "must be a number of seconds within a day")
    return float(value)


def validate_response(raw: Mapping[str, Any], instruments: Mapping[str, Instrument]) -> ResponseRecord:
    """The response as it will be stored, or InvalidResponse naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidResponse("response", "invalid", "must be a mapping")
    unknown = sorted(str(k) for k in raw if k not in KNOWN_FIELDS)
    if unknown:
        raise InvalidResponse(unknown[0], "unknown_field", "is not a field of a response")
    response_id = _response_id(raw)
    instrument_id = _text_id(raw, "instrument_id", required=True)
    instrument = instruments.get(instrument_id or "")
    if instrument is None:
        raise InvalidResponse("instrument_id", "unknown_instrument", f"{instrument_id!r:.40} is not known")
    version = raw.get("instrument_version")
    if version is not None and version != instrument.version:
        raise InvalidResponse("instrument_version", "stale_version",
                              f"the questionnaire changed (now {instrument.version}); reload the form")
    channel = _text_id(raw, "channel", required=False) or "qr"
    if channel not in config.CHANNELS:
        raise InvalidResponse("channel", "invalid", f"must be one of {', '.join(config.CHANNELS)}")
    lang = _text_id(raw, "lang", required=False) or DEFAULT_LANG
    if lang not in LANGS:
        raise InvalidResponse("lang", "invalid", f"must be {' or '.join(LANGS)}")
    stage = _text_id(raw, "stage", required=instrument.stage is not None)
    if stage is not None and (instrument.stage is None or instrument.stage.option(stage) is None):
        raise InvalidResponse("stage", "invalid", f"{stage!r:.40} is not a stage of {instrument.id}")
    service_field = _text_id(raw, "service_field", required=False)
    if service_field is not None and service_field not in {f.id for f in instrument.service_fields}:
        raise InvalidResponse("service_field", "invalid", f"{service_field!r:.40} is not a service field")
    answers = _answers(raw, instrument, stage)
    comment = privacy.scrub_comment(clean_comment(raw.get("comment")))
    spec = instrument.comment
    if comment and (spec is None or (spec.show_if and not spec.show_if.holds(stage, answers))):
        raise InvalidResponse("comment", "not_shown", "this questionnaire takes no comment here")
    return ResponseRecord(
        response_id=response_id,
        submitted_at=_submitted_at(raw),
        unit_id=_text_id(raw, "unit_id", required=True) or "",
        counter_id=_text_id(raw, "counter_id", required=False),
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        channel=channel,
        lang=lang,
        stage=stage,
        service_field=service_field,
        client_hash=_text_id(raw, "client_hash", required=False),
        seconds_taken=_seconds(raw),
        answers=tuple(answers.items()),
        choices=_choices(raw, instrument, stage, answers),
        comment=comment,
        contact_phone=_contact(raw),
        receipt=_receipt(raw),
        address_hash=_text_id(raw, "address_hash", required=False),
    )
