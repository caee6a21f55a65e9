"""The admin pages. The router adds them to the navigation of admins only.

Each page draws tables and forms; every button runs one function of `survey_app.admin.administration`
or `survey_app.admin.accounts` (which writes the audit row) through `_act`, so a refusal becomes a
message in Vietnamese and the outcome shows once, above the refreshed page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from survey_app.admin import accounts, administration, audit, targets, units
from survey_app.admin.accounts import User
from survey_app.core import config
from survey_app.core.config import BLOCKS, ROLES
from survey_app.core.i18n import Refused, t
from survey_app.core.keys import current_key_version
from survey_app.db.store import Store
from survey_app.ui import flash, login
from survey_app.ui.text import plain

EXPORT_DOWNLOAD_MAX_BYTES = 200 * 1024 * 1024  # larger files are fetched from the server's folder


def _act(action: Callable[[], str]) -> None:
    """Button callback: run an action that returns its success text; a refusal becomes the message."""
    try:
        flash.say("success", action())
    except Refused as exc:
        flash.say("error", exc.message(escape=plain))  # it may quote what was typed


def _table(rows: list[dict[str, Any]]) -> None:
    st.dataframe(pd.DataFrame(rows).fillna(""), hide_index=True)  # an empty cell, not "None"


def _header(title_key: str, user: User) -> None:
    if user.role != "admin":  # the router lists these pages for admins only; this is a second lock
        st.stop()
    st.set_page_config(layout="wide")  # room for the tables
    st.title(t(title_key))
    flash.show()


# -- units and counters ----------------------------------------------------------------------------

def _unit_label(names: dict[str, str]) -> Callable[[str], str]:
    return lambda unit_id: f"{names[unit_id]} ({unit_id})"


def _add_unit(store: Store, user: User) -> str:
    ss = st.session_state
    administration.add_unit(store, user.username, ss["adm_new_unit_id"], ss["adm_new_unit_name"],
                            ss["adm_new_unit_block"], parent_id=ss.get("adm_new_unit_parent"),
                            instrument_id=ss.get("adm_new_unit_instrument"))
    return t("admin.units.added", unit=ss["adm_new_unit_id"].strip())


def _add_unit_form(store: Store, user: User, names: dict[str, str]) -> None:
    with st.expander(t("admin.units.add")), st.form("adm_add_unit", clear_on_submit=True):
        st.text_input(t("col.unit_id"), key="adm_new_unit_id", help=t("admin.id_help"))
        st.text_input(t("col.name"), key="adm_new_unit_name")
        st.selectbox(t("col.block"), list(BLOCKS), format_func=BLOCKS.__getitem__, key="adm_new_unit_block")
        st.selectbox(t("col.parent"), list(names), format_func=_unit_label(names), index=None,
                     placeholder=t("admin.none"), key="adm_new_unit_parent")
        st.selectbox(t("col.instrument"), sorted(store.instruments), index=None,
                     placeholder=t("admin.default_instrument"), key="adm_new_unit_instrument")
        st.form_submit_button(t("admin.units.add"), type="primary", on_click=_act,
                              args=(partial(_add_unit, store, user),))


def _save_unit(store: Store, user: User, unit_id: str) -> str:
    ss = st.session_state
    changed = administration.update_unit(store, user.username, unit_id, name=ss[f"adm_unit_name_{unit_id}"],
                                         instrument_id=ss.get(f"adm_unit_instrument_{unit_id}"),
                                         active=ss[f"adm_unit_active_{unit_id}"])
    return t("admin.saved", n=changed)


def _edit_unit_form(store: Store, user: User, unit: units.Unit) -> None:
    instruments = sorted(store.instruments)
    with st.form(f"adm_edit_unit_{unit.unit_id}"):
        st.text_input(t("col.name"), value=unit.name, key=f"adm_unit_name_{unit.unit_id}")
        st.selectbox(t("col.instrument"), instruments, placeholder=t("admin.default_instrument"),
                     index=instruments.index(unit.instrument_id) if unit.instrument_id in instruments else None,
                     key=f"adm_unit_instrument_{unit.unit_id}")
        st.checkbox(t("admin.units.active"), value=unit.active, key=f"adm_unit_active_{unit.unit_id}")
        st.form_submit_button(t("admin.save"), on_click=_act, args=(partial(_save_unit, store, user, unit.unit_id),))


def _add_counter(store: Store, user: User, unit_id: str) -> str:
    ss = st.session_state
    administration.add_counter(store, user.username, unit_id, ss["adm_new_counter_id"], ss["adm_new_counter_name"])
    return t("admin.counters.added", counter=ss["adm_new_counter_id"].strip())


def _save_counter(store: Store, user: User, unit_id: str, counter_id: str) -> str:
    ss, key = st.session_state, f"{unit_id}_{counter_id}"
    changed = administration.update_counter(store, user.username, unit_id, counter_id,
                                            name=ss[f"adm_counter_name_{key}"], active=ss[f"adm_counter_active_{key}"])
    return t("admin.saved", n=changed)


def _counters(store: Store, user: User, unit: units.Unit) -> None:
    st.subheader(t("admin.counters.title", unit=plain(unit.name)))
    counters = units.list_counters(store, unit.unit_id, active_only=False)
    _table([{t("col.counter_id"): c.counter_id, t("col.name"): c.name, t("col.active"): c.active} for c in counters])
    with st.form("adm_add_counter", clear_on_submit=True):
        left, right = st.columns(2)
        left.text_input(t("col.counter_id"), key="adm_new_counter_id", help=t("admin.id_help"))
        right.text_input(t("col.name"), key="adm_new_counter_name")
        st.form_submit_button(t("admin.counters.add"), on_click=_act,
                              args=(partial(_add_counter, store, user, unit.unit_id),))
    by_id = {c.counter_id: c for c in counters}
    picked = st.selectbox(t("admin.counters.pick"), list(by_id), index=None, key=f"adm_counter_{unit.unit_id}",
                          placeholder=t("admin.choose"),
                          format_func=lambda cid: f"{by_id[cid].name} ({cid})")
    if picked is None:
        return
    counter, key = by_id[picked], f"{unit.unit_id}_{picked}"
    with st.form(f"adm_edit_counter_{key}"):
        st.text_input(t("col.name"), value=counter.name, key=f"adm_counter_name_{key}")
        st.checkbox(t("admin.counters.active"), value=counter.active, key=f"adm_counter_active_{key}")
        st.form_submit_button(t("admin.save"), on_click=_act,
                              args=(partial(_save_counter, store, user, unit.unit_id, picked),))


def _uploaded_preview(kind: str, check: Callable[[str, str], administration.ImportPreview[Any]],
                      ) -> administration.ImportPreview[Any] | None:
    """The uploader of one kind of CSV; the preview of a clean file, or None (errors are shown)."""
    st.subheader(t(f"admin.import.{kind}.title"))
    st.caption(t(f"admin.import.{kind}.help"))
    # A new key after each import empties the uploader.
    upload = st.file_uploader(t("admin.import.file"), type=["csv"], max_upload_size=config.MAX_UPLOAD_MB,
                              key=f"adm_import_{kind}_{st.session_state.get(f'adm_import_{kind}_round', 0)}")
    if upload is None:
        return None
    if upload.size > config.MAX_UPLOAD_MB * 1024 * 1024:  # whatever the server's setting says
        st.error(t("admin.import.too_big", n=config.MAX_UPLOAD_MB))
        return None
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.error(t("admin.import.not_utf8"))
        return None
    preview = check(text, upload.name)
    if preview.problems:
        st.error(t("admin.import.problems", n=len(preview.problems)) + "\n\n"
                 + "\n".join(f"- {plain(problem)}" for problem in preview.problems))
        return None
    return preview


def _import(kind: str, run: Callable[[], int]) -> str:
    count = run()
    round_key = f"adm_import_{kind}_round"
    st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
    return t(f"admin.import.{kind}.done", n=count)


def _import_button(kind: str, count: int, run: Callable[[], int]) -> None:
    st.button(t("admin.import.go", n=count), type="primary", key=f"adm_import_{kind}_go",
              on_click=_act, args=(partial(_import, kind, run),))


def _units_import(store: Store, user: User) -> None:
    preview = _uploaded_preview("units", partial(administration.preview_units_import, store))
    if preview is None:
        return
    _table([{t("col.unit_id"): u.unit_id, t("col.name"): u.name, t("col.block"): u.block,
             t("col.parent"): u.parent_id, t("admin.import.change"):
                 t("admin.import.new") if u.unit_id in preview.new_ids else t("admin.import.update")}
            for u in preview.rows])
    _import_button("units", len(preview.rows), partial(administration.import_units, store, user.username, preview))


def _dossiers_import(store: Store, user: User) -> None:
    preview = _uploaded_preview("dossiers", partial(administration.preview_dossiers_import, store))
    if preview is None:
        return
    _table([{t("col.unit_id"): r.unit_id, t("col.period"): r.period, t("col.dossiers"): r.dossiers}
            for r in preview.rows])
    _import_button("dossiers", len(preview.rows),
                   partial(administration.import_dossiers, store, user.username, preview))


def _targets_import(store: Store, user: User) -> None:
    preview = _uploaded_preview("targets", partial(targets.preview_targets, store))
    if preview is None:
        return
    _table([{t("col.unit_id"): r.unit_id, t("col.year"): r.year, "SIPAS": r.sipas, **r.elements}
            for r in preview.rows])
    _import_button("targets", len(preview.rows), partial(targets.import_targets, store, user.username, preview))


def units_page(store: Store, user: User) -> None:
    _header("admin.units.title", user)
    all_units = units.list_units(store, active_only=False)
    counts: dict[str, int] = {}
    for counter in units.list_counters(store):
        counts[counter.unit_id] = counts.get(counter.unit_id, 0) + 1
    _table([{t("col.unit_id"): u.unit_id, t("col.name"): u.name, t("col.block"): u.block,
             t("col.parent"): u.parent_id, t("col.instrument"): u.instrument_id or t("admin.default_instrument"),
             t("col.counters"): counts.get(u.unit_id, 0), t("col.active"): u.active} for u in all_units])
    names = {u.unit_id: u.name for u in all_units}
    _add_unit_form(store, user, names)
    st.subheader(t("admin.units.edit"))
    picked = st.selectbox(t("admin.units.pick"), list(names), format_func=_unit_label(names), index=None,
                          placeholder=t("admin.choose"), key="adm_unit")
    if picked is not None:
        unit = next(u for u in all_units if u.unit_id == picked)
        _edit_unit_form(store, user, unit)
        _counters(store, user, unit)
    _units_import(store, user)


# -- users -----------------------------------------------------------------------------------------

def _add_user(store: Store, user: User) -> str:
    ss = st.session_state
    password = ss.get("adm_new_password") or accounts.generate_password()
    created = accounts.create_user(store, user.username, ss["adm_new_username"], ss["adm_new_role"], password,
                                   unit_id=ss.get("adm_new_user_unit"), email=ss.get("adm_new_email"))
    done = t("admin.users.added", name=created.username)
    return done if ss.get("adm_new_password") else f"{done} {t('admin.users.password_once', password=password)}"


def _save_user(store: Store, user: User, username: str) -> str:
    ss = st.session_state
    changed = accounts.update_user(store, user.username, username, role=ss[f"adm_user_role_{username}"],
                                   unit_id=ss.get(f"adm_user_unit_{username}"),
                                   email=ss.get(f"adm_user_email_{username}"),
                                   active=ss[f"adm_user_active_{username}"])
    return t("admin.saved", n=changed)


def _reset_password(store: Store, user: User, username: str) -> str:
    password = accounts.generate_password()
    accounts.set_password(store, user.username, username, password)
    return t("admin.users.reset_done", name=username, password=password)


def _role_select(key: str, value: str | None = None) -> None:
    st.selectbox(t("col.role"), ROLES, key=key, format_func=lambda r: t(f"role.{r}"),
                 index=ROLES.index(value) if value else 0)


def _unit_select(key: str, names: dict[str, str], value: str | None = None) -> None:
    st.selectbox(t("col.unit"), list(names), format_func=_unit_label(names), key=key,
                 index=list(names).index(value) if value in names else None, placeholder=t("admin.users.no_unit"))


def _edit_user_form(store: Store, user: User, account: User, names: dict[str, str]) -> None:
    name = account.username
    with st.form(f"adm_edit_user_{name}"):
        _role_select(f"adm_user_role_{name}", account.role)
        _unit_select(f"adm_user_unit_{name}", names, account.unit_id)
        st.text_input(t("col.email"), value=account.email or "", key=f"adm_user_email_{name}")
        st.checkbox(t("admin.users.active"), value=account.active, key=f"adm_user_active_{name}")
        st.form_submit_button(t("admin.save"), on_click=_act, args=(partial(_save_user, store, user, name),))
    st.button(t("admin.users.reset"), key=f"adm_reset_{name}", help=t("admin.users.reset_help"),
              on_click=_act, args=(partial(_reset_password, store, user, name),))


def users_page(store: Store, user: User) -> None:
    _header("admin.users.title", user)
    everyone = accounts.list_users(store)
    _table([{t("col.username"): u.username, t("col.role"): t(f"role.{u.role}"), t("col.unit"): u.unit_id,
             t("col.email"): u.email, t("col.active"): u.active, t("col.locked_until"): u.locked_until,
             t("col.last_login"): u.last_login_at} for u in everyone])
    names = {u.unit_id: u.name for u in units.list_units(store)}
    with st.expander(t("admin.users.add")), st.form("adm_add_user", clear_on_submit=True):
        st.text_input(t("col.username"), key="adm_new_username")
        _role_select("adm_new_role")
        _unit_select("adm_new_user_unit", names)
        st.text_input(t("col.email"), key="adm_new_email")
        st.text_input(t("admin.users.password"), type="password", key="adm_new_password",
                      help=t("admin.users.password_help", n=accounts.MIN_PASSWORD_CHARS), autocomplete="new-password")
        st.form_submit_button(t("admin.users.add"), type="primary", on_click=_act,
                              args=(partial(_add_user, store, user),))
    st.subheader(t("admin.users.edit"))
    by_name = {u.username: u for u in everyone}
    picked = st.selectbox(t("admin.users.pick"), list(by_name), index=None, placeholder=t("admin.choose"),
                          key="adm_user")
    if picked is not None:
        _edit_user_form(store, user, by_name[picked], names)


# -- flagged responses -----------------------------------------------------------------------------

def _review(store: Store, user: User, include: bool) -> str:
    ss = st.session_state
    response_id = ss.get("adm_review_id")
    if response_id is None:
        raise Refused("admin.review.pick_one")
    administration.review_response(store, user.username, response_id, include, ss.get("adm_review_reason", ""))
    return t("admin.review.included" if include else "admin.review.excluded")


def review_page(store: Store, user: User) -> None:
    _header("admin.review.title", user)
    st.caption(t("admin.review.help"))
    flagged = administration.flagged_responses(store)
    if not flagged:
        st.info(t("admin.review.none"))
        return
    _table([{t("col.response"): r.response_id[:8], t("col.submitted_at"): r.submitted_at, t("col.unit"): r.unit_name,
             t("col.counter_id"): r.counter_id, t("col.reasons"): r.flag_reasons,
             t("col.seconds"): r.seconds_taken, t("col.mean"): r.mean_rating, t("col.comment"): r.comment}
            for r in flagged])
    labels = {r.response_id: f"{r.response_id[:8]} — {r.unit_name} — {r.flag_reasons}" for r in flagged}
    with st.form("adm_review", clear_on_submit=True):
        st.selectbox(t("admin.review.pick"), list(labels), format_func=labels.__getitem__, index=None,
                     placeholder=t("admin.choose"), key="adm_review_id")
        st.text_input(t("admin.review.reason", n=administration.MIN_REASON_CHARS), key="adm_review_reason")
        left, right = st.columns(2)
        left.form_submit_button(t("admin.review.include"), on_click=_act, args=(partial(_review, store, user, True),))
        right.form_submit_button(t("admin.review.exclude"), on_click=_act,
                                 args=(partial(_review, store, user, False),))


# -- keys, backup, export --------------------------------------------------------------------------

def _rotate(store: Store, user: User) -> str:
    version = administration.rotate_link_keys(store, user.username)
    st.session_state["adm_keys_confirm"] = False
    return t("admin.keys.done", version=version)


def _backup(store: Store, user: User) -> str:
    return t("admin.backup.done", path=administration.backup(store, user.username))


def _export(store: Store, user: User) -> str:
    archive = administration.export_raw(store, user.username, st.session_state["adm_export_format"])
    st.session_state["adm_export_file"] = str(archive)
    return t("admin.export.done", path=archive)


def _download(store: Store, archive: Path) -> None:
    if archive.stat().st_size > EXPORT_DOWNLOAD_MAX_BYTES:
        st.info(t("admin.export.too_big", path=archive))
        return
    st.download_button(t("admin.export.download"), login.guarded(store, archive.read_bytes), file_name=archive.name,
                       mime="application/zip", on_click="ignore", key="adm_export_download")


def data_page(store: Store, user: User) -> None:
    _header("admin.data.title", user)
    st.subheader(t("admin.keys.title"))
    st.write(t("admin.keys.current", version=current_key_version()))
    st.checkbox(t("admin.keys.confirm"), key="adm_keys_confirm")
    st.button(t("admin.keys.rotate"), key="adm_keys_rotate", disabled=not st.session_state.get("adm_keys_confirm"),
              on_click=_act, args=(partial(_rotate, store, user),))
    _dossiers_import(store, user)
    _targets_import(store, user)
    st.subheader(t("admin.backup.title"))
    st.caption(t("admin.backup.help"))
    st.button(t("admin.backup.go"), key="adm_backup", on_click=_act, args=(partial(_backup, store, user),))
    st.subheader(t("admin.export.title"))
    st.caption(t("admin.export.help"))
    st.radio(t("admin.export.format"), administration.EXPORT_FORMATS, horizontal=True, key="adm_export_format")
    st.button(t("admin.export.go"), key="adm_export", on_click=_act, args=(partial(_export, store, user),))
    archive = Path(st.session_state.get("adm_export_file", ""))
    if archive.name and archive.is_file():
        _download(store, archive)


# -- audit log -------------------------------------------------------------------------------------

def audit_page(store: Store, user: User) -> None:
    _header("admin.audit.title", user)
    left, right = st.columns(2)
    action = left.text_input(t("admin.audit.action"), key="adm_audit_action").strip() or None
    actor = right.text_input(t("admin.audit.actor"), key="adm_audit_actor").strip() or None
    entries = audit.read(store, actor=actor, action=action)
    if not entries:
        st.info(t("admin.audit.none"))
        return
    _table([{t("col.when"): e.logged_at, t("col.actor"): e.actor, t("col.action"): e.action,
             t("col.target"): e.target, t("col.detail"): e.detail} for e in entries])
