"""The citizen's survey page, reached by a signed QR link (?k=…). Draws what survey_app.collection.form decides."""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from survey_app.admin.units import get_counter, get_unit
from survey_app.cases.workflow import case_of_response, public_url
from survey_app.collection import links
from survey_app.collection.form import (
    NA,
    FormState,
    Step,
    comment_shown,
    is_quick,
    shown,
    step_errors,
    steps_for,
    submission,
)
from survey_app.core import clock, config, privacy
from survey_app.core.i18n import pick, t
from survey_app.core.instruments import Instrument, Item, Question
from survey_app.core.keys import first_key
from survey_app.core.responses import InvalidResponse
from survey_app.db.store import Store, StoreUnavailable, SubmitResult
from survey_app.ui import a11y
from survey_app.ui.text import plain

log = logging.getLogger(__name__)
FACES = {1: "😠", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}
FACES_3 = {1: "🙁", 2: "🙂", 3: "😄"}
KIOSK_RESET_SECONDS = 20
LARGE = "sv_large"  # the session's larger-text choice
# Refusals the citizen can act on get their own message; any other names the field.
REFUSAL_KEYS = {"stale_version": "error.stale_version", "receipt_used": "error.receipt_used"}
# Tap targets of at least 44 px (phone guidelines); the one-question form gets kiosk-sized faces.
STYLE = """<style>
[class*="st-key-r_"] button { min-height: 44px; min-width: 54px; }
.st-key-r_HL1 button { min-height: 72px; font-size: 1.35rem; padding: 0 1.4rem; }
</style>"""
# Session-state keys of this page, in one place.
LINK, TOKEN, FORM, ERRORS, DONE, PROBLEM = "sv_link", "sv_token", "sv_form", "sv_errors", "sv_done", "sv_problem"
PLACE = "sv_place"


def _verified_link(store: Store) -> links.LinkTarget | None:
    """The link of this session, verified once; shows the refusal page when it is bad."""
    token = st.query_params.get("k", "")
    if st.session_state.get(TOKEN) == token and LINK in st.session_state:
        return st.session_state[LINK]
    try:
        target = links.resolve_link(store, token) if token else None
    except links.BadLink as bad:
        _refusal(bad.message("vi"), bad.message("en"))
        return None
    if target is None:
        _refusal(t("link.none", "vi"), t("link.none", "en"))
        return None
    for key in (FORM, ERRORS, DONE, PROBLEM):  # a new code scanned in the same tab: a new form
        st.session_state.pop(key, None)
    st.session_state[TOKEN], st.session_state[LINK] = token, target
    return target


def _refusal(message_vi: str, message_en: str) -> None:
    st.title(t("link.title", "vi"))
    st.warning(message_vi)
    st.caption(f"{t('link.title', 'en')}: {message_en}")


def _form_state(instrument: Instrument) -> FormState:
    if FORM not in st.session_state:
        st.session_state[FORM] = FormState(instrument.id)
    return st.session_state[FORM]


def _rating_label(item: Item, value: int | str, lang: str) -> str:
    if value == NA:
        return pick(item.na_text, lang) if item.na_text else t("form.na", lang)
    if len(item.scale.options) == 3:  # few options: room for the words
        return f"{FACES_3[int(value)]} {pick(dict(item.scale.options)[int(value)], lang)}"
    return f"{FACES.get(int(value), '')} {value}"


def _rating(item: Item, state: FormState, errors: dict[str, str], number: str = "") -> None:
    st.markdown(f"**{number}{pick(item.text, state.lang)}**")
    options: list[int | str] = [code for code, _ in sorted(item.scale.options)]
    if item.na_allowed:
        options.append(NA)
    st.pills(pick(item.text, state.lang), options, key=f"r_{item.id}", default=state.ratings.get(item.id),
             format_func=lambda v, i=item, lang=state.lang: _rating_label(i, v, lang), label_visibility="collapsed")
    if item.id in errors:
        st.error(errors[item.id], icon="⚠️")


def _question(question: Question, state: FormState, errors: dict[str, str]) -> None:
    labels = {o.id: pick(o.text, state.lang) for o in question.options}
    mode = "multi" if question.max_choices > 1 else "single"
    st.pills(pick(question.text, state.lang), list(labels), key=f"q_{question.id}", selection_mode=mode,
             default=state.choices.get(question.id), format_func=labels.__getitem__)
    if question.id in errors:
        st.error(errors[question.id], icon="⚠️")


def _save_widgets(instrument: Instrument, step: Step, state: FormState) -> None:
    """Copy what the citizen picked on this step from the widgets into the form state."""
    ss = st.session_state
    if step.key == "start" and "stage" in ss:
        state.stage = ss["stage"]
    for item in step.items:
        value = ss.get(f"r_{item.id}")
        if value is None:
            state.ratings.pop(item.id, None)
        else:
            state.ratings[item.id] = value
    for question in step.questions:
        value = ss.get(f"q_{question.id}")
        if value in (None, []):
            state.choices.pop(question.id, None)
        else:
            state.choices[question.id] = value
    if step.key == "more" or is_quick(instrument):
        state.service_field = ss.get("service_field")
        state.comment = ss.get("comment") or ""
        state.phone = (ss.get("phone") or "").strip()
        state.wants_contact = bool(state.phone)
        state.consent = bool(ss.get("consent"))
        state.receipt = (ss.get("receipt") or "").strip()


def _go(instrument: Instrument, step: Step, delta: int) -> None:
    """Form-button callback: keep the answers, then move on only when the step is complete."""
    state = st.session_state[FORM]
    _save_widgets(instrument, step, state)
    errors = step_errors(instrument, step, state) if delta > 0 else {}
    st.session_state[ERRORS] = errors
    if not errors:
        state.step = max(0, state.step + delta)


def _finish(store: Store, instrument: Instrument, step: Step, link: links.LinkTarget) -> None:
    """Submit-button callback: validate the last step, then store the response."""
    state = st.session_state[FORM]
    _save_widgets(instrument, step, state)
    errors = step_errors(instrument, step, state)
    st.session_state[ERRORS] = errors
    if errors:
        return
    response = submission(instrument, state, unit_id=link.unit_id, counter_id=link.counter_id,
                          channel=link.channel, **_client_hashes())
    try:
        st.session_state[DONE] = store.submit(response)
        st.session_state[PROBLEM] = None
    except InvalidResponse as exc:
        log.warning("form response refused: %s", exc)
        key = REFUSAL_KEYS.get(exc.code, "error.invalid")
        st.session_state[PROBLEM] = t(key, state.lang, field=exc.field)
    except StoreUnavailable:
        st.session_state[PROBLEM] = t("error.store", state.lang)


def _client_hashes() -> dict[str, str | None]:
    """The device's daily hash (address and User-Agent) and the address's alone."""
    user_agent = st.context.headers.get("User-Agent") if st.context.headers else None
    # The first key version, not the current one: a key rotation must not split one day's devices.
    key, today = first_key(), clock.today()
    return {"client_hash": privacy.client_hash(st.context.ip_address, user_agent, today, key),
            "address_hash": privacy.address_hash(st.context.ip_address, today, key)}


def _place(store: Store, link: links.LinkTarget) -> tuple[str, str | None]:
    """The unit's and the counter's names, read once per link rather than at every tap."""
    cached = st.session_state.get(PLACE)
    if cached is None or cached[0] != link:
        unit = get_unit(store, link.unit_id)
        counter = get_counter(store, link.unit_id, link.counter_id) if link.counter_id else None
        cached = (link, unit.name if unit else link.unit_id, counter.name if counter else None)
        st.session_state[PLACE] = cached
    return cached[1], cached[2]


def _header(store: Store, link: links.LinkTarget, state: FormState) -> None:
    unit, counter = _place(store, link)
    if st.button("🌐 " + t("lang.switch", state.lang), key="lang_switch", type="tertiary"):
        state.lang = "en" if state.lang == "vi" else "vi"
        st.rerun()
    st.caption(t("form.rating_for", state.lang))
    st.subheader(plain(f"{unit} — {counter}" if counter else unit))  # stored names: shown as typed


def _large_text() -> bool:
    """Larger text for this session: off unless the link asks for it (kiosks for older citizens)."""
    if LARGE not in st.session_state:
        st.session_state[LARGE] = st.query_params.get(links.LARGE_TEXT_PARAM) == "1"
    return st.session_state[LARGE]


def _large_switch(lang: str) -> None:
    st.toggle(t("form.large_text", lang), key="sv_large_switch", value=_large_text(), on_change=_keep_large)


def _keep_large() -> None:
    # Kept apart from the switch's own state, which Streamlit drops on the thank-you page.
    st.session_state[LARGE] = st.session_state["sv_large_switch"]


def _thanks(store: Store, link: links.LinkTarget, done: SubmitResult, lang: str) -> None:
    unit = _place(store, link)[0]
    st.title(t("thanks.title", lang))
    st.success(t("thanks.body", lang, unit=plain(unit)), icon="✅")
    if done.duplicate:
        st.info(t("thanks.again", lang))
    case = case_of_response(store, done.response_id)
    if case is not None:
        st.info(t("thanks.case", lang, unit=plain(unit), code=case.code,
                  due=f"{case.due_at.astimezone(config.TIMEZONE):%d/%m/%Y}"), icon="📨")
        st.caption(t("thanks.case_next", lang, url=public_url(case.code), base=config.base_url()))
    if link.channel == "kiosk":
        st.caption(t("thanks.kiosk", lang, s=KIOSK_RESET_SECONDS))
        _kiosk_reset()


@st.fragment(run_every=KIOSK_RESET_SECONDS)
def _kiosk_reset() -> None:
    # The first run draws nothing; the timed rerun clears the form for the next citizen.
    if st.session_state.get("sv_kiosk_armed"):
        for key in (FORM, ERRORS, DONE, PROBLEM, "sv_kiosk_armed"):
            st.session_state.pop(key, None)
        st.rerun(scope="app")
    st.session_state["sv_kiosk_armed"] = True


def _more_fields(instrument: Instrument, state: FormState, errors: dict[str, str]) -> None:
    lang = state.lang
    for question in (q for q in instrument.questions if q.section == "expectation"):
        _question(question, state, errors)
    if instrument.service_fields:
        labels = {f.id: pick(f.text, lang) for f in instrument.service_fields}
        st.selectbox(t("form.field", lang), list(labels), key="service_field", index=None,
                     format_func=labels.__getitem__, placeholder=t("form.optional", lang))
    about = [q for q in instrument.questions if q.section == "about"]
    if about:
        with st.expander(t("form.about", lang)):
            for question in about:
                _question(question, state, errors)
    _comment_box(instrument, state, errors)
    st.text_input(t("form.receipt", lang), key="receipt", value=state.receipt, max_chars=40,
                  placeholder=t("form.optional", lang), help=t("form.receipt_help", lang))
    if "receipt" in errors:
        st.error(errors["receipt"], icon="⚠️")
    with st.expander(t("form.contact_ask", lang), expanded=bool(state.phone)):
        st.caption(t("form.contact_note", lang))
        st.text_input(t("form.contact_phone", lang), key="phone", value=state.phone, max_chars=20)
        st.checkbox(t("form.contact_consent", lang), key="consent", value=state.consent)
        for key in ("phone", "consent"):
            if key in errors:
                st.error(errors[key], icon="⚠️")


def _comment_box(instrument: Instrument, state: FormState, errors: dict[str, str]) -> None:
    if not comment_shown(instrument, state) or instrument.comment is None:
        return
    # max_chars makes the browser count and stop at the limit; the server checks again.
    st.text_area(pick(instrument.comment.text, state.lang), key="comment", value=state.comment,
                 max_chars=config.COMMENT_MAX_CHARS, height=100)
    if "comment" in errors:
        st.error(errors["comment"], icon="⚠️")


def _step_body(instrument: Instrument, step: Step, state: FormState, errors: dict[str, str]) -> None:
    lang = state.lang
    if step.key == "start":
        st.markdown(f"### {pick(instrument.title, lang)}")
        if instrument.intro:
            st.write(pick(instrument.intro, lang))
        assert instrument.stage is not None
        labels = {o.id: pick(o.text, lang) for o in instrument.stage.options}
        ids = list(labels)
        st.radio(pick(instrument.stage.text, lang), ids, key="stage", format_func=labels.__getitem__,
                 index=ids.index(state.stage) if state.stage in ids else None)
        if "stage" in errors:
            st.error(errors["stage"], icon="⚠️")
        st.caption(t("form.anonymous", lang))
        return
    element = next((e for e in instrument.elements if e.id == step.key), None)
    if element is not None:
        st.markdown(f"### {pick(element.text, lang)}")
        st.caption(t("form.scale_hint", lang))
    elif step.key == "overall":
        st.markdown(f"### {t('form.perceptions', lang)}")
    else:
        st.markdown(f"### {t('form.more', lang)}")
    for n, item in enumerate(step.items, start=1):
        _rating(item, state, errors, f"{n}. " if element is not None else "")
    if step.key == "more":
        _more_fields(instrument, state, errors)
        return
    for question in step.questions:
        if shown(question, state):
            _question(question, state, errors)


def _multi_step(store: Store, instrument: Instrument, state: FormState, link: links.LinkTarget) -> None:
    steps = steps_for(instrument, state.stage)
    state.step = min(state.step, len(steps) - 1)
    step = steps[state.step]
    errors: dict[str, str] = st.session_state.get(ERRORS) or {}
    st.progress((state.step + 1) / len(steps), text=t("form.step", state.lang, n=state.step + 1, total=len(steps)))
    if errors:
        st.warning(t("form.fix_errors", state.lang, n=len(errors)))
    with st.form(f"step_{step.key}", border=False):
        _step_body(instrument, step, state, errors)
        last = state.step == len(steps) - 1
        kwargs: dict[str, Any] = {"width": "stretch"}
        if last:
            st.form_submit_button(t("form.submit", state.lang), type="primary", on_click=_finish,
                                  args=(store, instrument, step, link), **kwargs)
        else:
            st.form_submit_button(t("form.next", state.lang), type="primary", on_click=_go,
                                  args=(instrument, step, 1), **kwargs)
        if state.step > 0:
            st.form_submit_button(t("form.back", state.lang), on_click=_go, args=(instrument, step, -1), **kwargs)
    a11y.focus_step(step.key)  # after the step is drawn, so its heading is there to take the focus


def _quick(store: Store, instrument: Instrument, state: FormState, link: links.LinkTarget) -> None:
    """nhanh-3: one screen. No st.form, so the reasons appear as soon as a face is tapped."""
    errors: dict[str, str] = st.session_state.get(ERRORS) or {}
    st.markdown(f"### {pick(instrument.intro or instrument.title, state.lang)}")
    item = instrument.items[0]
    step = Step("quick", items=(item,), questions=instrument.questions)
    _rating(item, state, errors)
    _save_widgets(instrument, Step("quick", items=(item,)), state)
    for question in instrument.questions:
        if shown(question, state):
            _question(question, state, errors)
    _comment_box(instrument, state, errors)
    st.button(t("form.submit", state.lang), type="primary", width="stretch", on_click=_finish,
              args=(store, instrument, step, link))


def page(store: Store) -> None:
    link = _verified_link(store)
    if link is None:
        return
    instrument = store.instruments[link.instrument_id]
    state = _form_state(instrument)
    a11y.citizen_setup(state.lang, large=_large_text())
    done: SubmitResult | None = st.session_state.get(DONE)
    if done is not None:
        _thanks(store, link, done, state.lang)
        return
    st.html(STYLE)
    _large_switch(state.lang)  # with the language button: the two display choices at the top
    _header(store, link, state)
    _form(store, instrument, link)


@st.fragment
def _form(store: Store, instrument: Instrument, link: links.LinkTarget) -> None:
    """The questions: a tap on a face or on Next/Back reruns only this part, not the router and header."""
    if st.session_state.get(DONE) is not None:
        st.rerun(scope="app")  # submitted: the whole page becomes the thank-you page
    state = _form_state(instrument)
    if st.session_state.get(PROBLEM):
        st.error(st.session_state[PROBLEM])
    if is_quick(instrument):
        _quick(store, instrument, state, link)
    else:
        _multi_step(store, instrument, state, link)
