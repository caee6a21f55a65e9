"""The citizen form as plain logic: which steps to show, what is missing, what to submit.

The Streamlit page (survey_app/ui/survey.py) only draws what these functions decide, so every rule here
is tested without a browser.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from survey_app.core import config
from survey_app.core.i18n import DEFAULT_LANG, t
from survey_app.core.instruments import Instrument, Item, Question
from survey_app.core.responses import RECEIPT, InvalidResponse, clean_comment, normalise_phone

NA = "na"  # the N/A choice of an item, stored as NULL


@dataclass(frozen=True)
class Step:
    key: str  # "start", an element id, "overall" or "more"
    items: tuple[Item, ...] = ()
    questions: tuple[Question, ...] = ()


@dataclass
class FormState:
    """One citizen's form in progress. A new one (new response_id) on every fresh page load."""

    instrument_id: str
    lang: str = DEFAULT_LANG
    response_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)
    step: int = 0
    stage: str | None = None
    ratings: dict[str, int | str] = field(default_factory=dict)  # item id → code or NA
    choices: dict[str, str | list[str]] = field(default_factory=dict)
    service_field: str | None = None
    comment: str = ""
    wants_contact: bool = False
    phone: str = ""
    consent: bool = False
    receipt: str = ""  # optional dossier code: one rating per dossier


def is_quick(instrument: Instrument) -> bool:
    """One rated question and no stage: a single screen (nhanh-3)."""
    return len(instrument.items) == 1 and instrument.stage is None


def steps_for(instrument: Instrument, stage: str | None) -> list[Step]:
    """Steps of a multi-step form: the stage question, one per element, the overall, the rest."""
    skipped = instrument.skipped_elements(stage)
    steps = [Step("start")] if instrument.stage else []
    steps += [Step(e.id, items=e.items) for e in instrument.elements if e.id not in skipped]
    perceptions = tuple(q for q in instrument.questions if q.section == "perception")
    if instrument.overall or perceptions:
        overall = (instrument.overall,) if instrument.overall else ()
        steps.append(Step("overall", items=overall, questions=perceptions))
    rest = tuple(q for q in instrument.questions if q.section not in ("perception", "reason"))
    steps.append(Step("more", questions=rest))
    return steps


def _rated(state: FormState) -> dict[str, int | None]:
    """Ratings given so far, without the N/A choices: what show_if conditions look at."""
    return {k: v for k, v in state.ratings.items() if isinstance(v, int)}


def shown(question: Question, state: FormState) -> bool:
    return question.show_if is None or question.show_if.holds(state.stage, _rated(state))


def comment_shown(instrument: Instrument, state: FormState) -> bool:
    spec = instrument.comment
    if spec is None:
        return False
    return spec.show_if is None or spec.show_if.holds(state.stage, _rated(state))


def step_errors(instrument: Instrument, step: Step, state: FormState) -> dict[str, str]:
    """Messages by the id of what is missing or wrong on this step, in the citizen's language."""
    lang = state.lang
    errors: dict[str, str] = {}
    if step.key == "start" and state.stage is None:
        errors["stage"] = t("form.required_stage", lang)
    for item in step.items:
        if item.id not in state.ratings:
            errors[item.id] = t("form.required", lang)
    if step.key == "more" or is_quick(instrument):
        errors.update(_extra_errors(instrument, state))
    return errors


def _extra_errors(instrument: Instrument, state: FormState) -> dict[str, str]:
    lang, errors = state.lang, {}
    if comment_shown(instrument, state):
        try:
            clean_comment(state.comment)
        except InvalidResponse as exc:
            key = "form.comment_too_long" if exc.code == "too_long" else "form.comment_bad_char"
            errors["comment"] = t(key, lang, n=len(state.comment), max=config.COMMENT_MAX_CHARS)
    if state.receipt and not RECEIPT.fullmatch(re.sub(r"\s+", "", state.receipt).upper()):
        errors["receipt"] = t("form.receipt_invalid", lang)
    if state.wants_contact:
        if normalise_phone(state.phone) is None:
            errors["phone"] = t("form.contact_bad_phone", lang)
        if not state.consent:
            errors["consent"] = t("form.contact_no_consent", lang)
    return errors


def submission(instrument: Instrument, state: FormState, *, unit_id: str, counter_id: str | None,
               channel: str, client_hash: str | None, address_hash: str | None = None) -> dict[str, Any]:
    """The response to hand to `Store.submit`, from a completed form."""
    skipped = instrument.skipped_elements(state.stage)
    answers = {
        item_id: None if value == NA else value
        for item_id, value in state.ratings.items()
        if item_id in instrument.answer_items and instrument.answer_items[item_id].element_id not in skipped
    }
    choices = {q.id: state.choices[q.id] for q in instrument.questions if q.id in state.choices and shown(q, state)}
    response: dict[str, Any] = {
        "response_id": state.response_id,
        "unit_id": unit_id,
        "counter_id": counter_id,
        "instrument_id": instrument.id,
        "instrument_version": instrument.version,
        "channel": channel,
        "lang": state.lang,
        "stage": state.stage,
        "service_field": state.service_field,
        "client_hash": client_hash,
        "address_hash": address_hash,
        "seconds_taken": round(min(time.monotonic() - state.started, 86_399.0), 1),
        "answers": answers,
        "choices": choices,
        "comment": state.comment if comment_shown(instrument, state) else None,
    }
    if state.receipt:
        response["receipt"] = state.receipt
    if state.wants_contact:
        response["contact"] = {"phone": state.phone, "consent": state.consent}
    return response
