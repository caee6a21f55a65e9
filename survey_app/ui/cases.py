"""Case pages: the citizen's lookup by code (public), the staff and leaders' queue with one case
to work on, and the admins' rules. Every button calls one function of `survey_app.cases`, which
checks the scope and writes the audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from survey_app.admin import accounts
from survey_app.admin.accounts import User
from survey_app.admin.units import list_units
from survey_app.cases import settings, workflow
from survey_app.cases.rules import ANSWERED, CLOSED, ITEMS_CHOICES, NEEDS_CHOICES, STATUSES
from survey_app.cases.workflow import Scope
from survey_app.core import clock, config
from survey_app.core.config import CaseRules
from survey_app.core.i18n import Refused, t
from survey_app.db.store import Store
from survey_app.ui import flash

LANG = "case_lang"


def _when(at: datetime | None) -> str:
    return f"{at.astimezone(config.TIMEZONE):%d/%m/%Y %H:%M}" if at else ""


def _status(status: str, lang: str = "vi") -> str:
    return t(workflow.STATUS_KEYS[status], lang)


# -- the citizen -----------------------------------------------------------------------------------

def public_page(store: Store) -> None:
    """`?case=<code>`: the status and the unit's answer, nothing else."""
    lang = st.session_state.setdefault(LANG, "vi")
    if st.button("🌐 " + t("lang.switch", lang), key="case_lang_switch", type="tertiary"):
        st.session_state[LANG] = lang = "en" if lang == "vi" else "vi"
    st.title(t("case.public_title", lang))
    code = st.text_input(t("case.public_code", lang), value=st.query_params.get("case", ""), max_chars=24,
                         key="case_code")
    if not code.strip():
        return
    case = workflow.public_case(store, code)
    if case is None:
        st.warning(t("case.public_unknown", lang))
        return
    st.markdown(t("case.public_status", lang, status=_status(case.status, lang)))
    if case.reply:
        st.caption(t("case.public_reply", lang, at=_when(case.replied_at)))
        st.info(case.reply)
    else:
        st.caption(t("case.public_waiting", lang))


# -- staff and leaders -----------------------------------------------------------------------------

def _act(action: Callable[[], None]) -> None:
    try:
        action()
        flash.say("success", t("cases.done"))
    except Refused as exc:
        flash.say("error", exc.message())


def _filters(store: Store, scope: Scope) -> tuple[str | None, str | None, bool]:
    units = {u.unit_id: u.name for u in list_units(store, active_only=False) if scope is None or u.unit_id in scope}
    left, middle, right = st.columns(3)
    status = left.selectbox(t("cases.filter_status"), [None, *STATUSES], key="cases_status",
                            format_func=lambda s: t("cases.all") if s is None else _status(s))
    unit = middle.selectbox(t("cases.filter_unit"), [None, *units], key="cases_unit",
                            format_func=lambda u: t("cases.all") if u is None else units.get(u, u))
    overdue = right.checkbox(t("cases.filter_overdue"), key="cases_overdue")
    return status, unit, overdue


def _queue_table(cases: list[workflow.Case], at: datetime) -> None:
    st.dataframe(pd.DataFrame([{
        t("cases.col.code"): c.code, t("cases.col.unit"): c.unit_id, t("cases.col.status"): _status(c.status),
        t("cases.col.assignee"): c.assignee or "", t("cases.col.opened"): _when(c.opened_at),
        t("cases.col.due"): _when(c.due_at), t("cases.col.overdue"): "⚠️" if c.overdue(at) else "",
        t("cases.col.escalated"): _when(c.escalated_at),
    } for c in cases]), hide_index=True)


def queue_page(store: Store, user: User) -> None:
    """The scope's cases, overdue first, and the one picked to work on."""
    st.title(t("cases.title"))
    st.caption(t("cases.help"))
    flash.show()
    scope = accounts.scope_unit_ids(store, user)
    status, unit, overdue = _filters(store, scope)
    at = clock.now()
    cases = workflow.list_cases(store, scope, unit_id=unit, overdue=overdue, status=status, at=at)
    if not cases:
        st.info(t("cases.none"))
        return
    _queue_table(cases, at)
    labels = {str(c.case_id): f"{c.code} — {c.unit_id} — {_status(c.status)}" for c in cases}
    picked = st.selectbox(t("cases.pick"), list(labels), format_func=labels.__getitem__, key="cases_pick")
    if picked:
        _case(store, user, scope, picked)


def _case(store: Store, user: User, scope: Scope, case_id: str) -> None:
    detail = workflow.case_detail(store, case_id, scope)
    if detail is None:
        st.warning(t("case.not_found"))
        return
    case = detail.case
    st.subheader(t("cases.detail", code=case.code, unit=detail.unit_name))
    st.caption(t("cases.submitted", at=_when(detail.submitted_at), counter=detail.counter_id or "-",
                 due=_when(case.due_at)))
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{t('cases.ratings')}**")
        st.dataframe(pd.DataFrame([{"": item_id, " ": text, "1–5": "" if value is None else value}
                                   for item_id, text, value in detail.ratings]), hide_index=True)
    with right:
        st.markdown(f"**{t('cases.comment')}**")
        st.text(detail.comment or t("cases.no_comment"))
        if detail.phone:
            st.caption(t("cases.phone", phone=detail.phone))
        st.markdown(f"**{t('cases.history')}**")
        for entry in detail.history:
            st.caption(f"{_when(entry.logged_at)} · {entry.actor} · {t('cases.action.' + entry.action)}"
                       f" {entry.detail or ''}")
    _actions(store, user, scope, case)


def _actions(store: Store, user: User, scope: Scope, case: workflow.Case) -> None:
    cid = case.case_id
    if case.status != CLOSED:
        people = workflow.assignees(store, case.unit_id)
        with st.form(f"assign_{cid}"):
            st.selectbox(t("cases.assignee"), people, key=f"case_assignee_{cid}",
                         index=people.index(case.assignee) if case.assignee in people else None)
            st.form_submit_button(t("cases.assign"), on_click=lambda: _act(
                lambda: workflow.assign(store, user, scope, cid, st.session_state[f"case_assignee_{cid}"] or "")))
        with st.form(f"reply_{cid}"):
            st.text_area(t("cases.reply"), value=case.reply or "", max_chars=config.COMMENT_MAX_CHARS,
                         key=f"case_reply_{cid}")
            st.form_submit_button(t("cases.send_reply"), type="primary", on_click=lambda: _act(
                lambda: workflow.reply(store, user, scope, cid, st.session_state[f"case_reply_{cid}"])))
    if case.status == ANSWERED:
        st.button(t("cases.close"), key=f"case_close_{cid}",
                  on_click=lambda: _act(lambda: workflow.close(store, user, scope, cid)))
    if case.status in (ANSWERED, CLOSED):
        st.button(t("cases.reopen"), key=f"case_reopen_{cid}",
                  on_click=lambda: _act(lambda: workflow.reopen(store, user, scope, cid)))


# -- admins ----------------------------------------------------------------------------------------

def _save_rules(store: Store, user: User) -> None:
    ss = st.session_state
    rules = CaseRules(dissatisfied=",".join(str(c) for c in sorted(ss["rules_dissatisfied"])),
                      items=ss["rules_items"], needs=ss["rules_needs"], deadline_days=int(ss["rules_days"]),
                      weekend=CaseRules().weekend)
    _act(lambda: settings.save_rules(store, user.username, rules, settings.parse_holidays(ss["rules_holidays"])))


def rules_page(store: Store, user: User) -> None:
    """Which answers open a case, the deadline, the holidays."""
    if user.role != "admin":  # the router lists this page for admins only; this is a second lock
        st.stop()
    st.title(t("rules.title"))
    st.caption(t("rules.help"))
    flash.show()
    rules, holidays = settings.current_rules(store)
    with st.form("case_rules"):
        st.multiselect(t("rules.dissatisfied"), [1, 2, 3, 4, 5], default=sorted(rules.dissatisfied_codes),
                       key="rules_dissatisfied")
        st.radio(t("rules.items"), ITEMS_CHOICES, index=ITEMS_CHOICES.index(rules.items), key="rules_items",
                 format_func=lambda v: t(f"rules.items.{v}"))
        st.radio(t("rules.needs"), NEEDS_CHOICES, index=NEEDS_CHOICES.index(rules.needs), key="rules_needs",
                 format_func=lambda v: t(f"rules.needs.{v}"))
        st.number_input(t("rules.deadline_days"), min_value=0, max_value=60, value=rules.deadline_days,
                        key="rules_days")
        st.text_area(t("rules.holidays"), key="rules_holidays",
                     value="\n".join(f"{day.isoformat()} {name}" for day, name in holidays.items()))
        st.form_submit_button(t("rules.save"), type="primary", on_click=_save_rules, args=(store, user))
