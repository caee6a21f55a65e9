"""Staff page: the QR code of a counter, its posters, bulk exports, and a check of printed codes.

Thin: every decision and every file comes from survey_app.collection.links and survey_app.collection.qr.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from survey_app.admin.units import Unit, get_counter, get_unit, list_counters
from survey_app.collection import links, qr
from survey_app.core import config
from survey_app.core.config import BLOCKS
from survey_app.core.i18n import t
from survey_app.core.keys import current_key_version
from survey_app.db.store import Store
from survey_app.ui import login
from survey_app.ui.text import plain

PROVINCE = "all"
WHOLE_UNIT = ""  # the counter choice that names the unit as a whole
# Session-state keys of this page, in one place.
UNIT, COUNTER, INSTRUMENT, KIOSK, SCREEN = "qr_unit", "qr_counter", "qr_instrument", "qr_kiosk", "qr_screen"
SCOPE, SIZE, CHECK = "qr_scope", "qr_size", "qr_check"


def page(store: Store, user_unit_id: str | None) -> None:
    st.title(t("nav.qr"))
    version = current_key_version()
    st.caption(t("qr.key_version", version=version))
    units = links.units_in_tree(store, root=user_unit_id)
    if not units:
        st.warning(t("qr.no_units"))
        return
    unit_id, counter_id, instrument_id, channel = _choose(store, units)
    try:
        place = links.place_link(store, unit_id, counter_id, instrument_id, channel=channel)
    except links.UnknownPlace as exc:  # e.g. closed by an administrator since the list was drawn
        st.error(plain(exc.message()))
        return
    if st.toggle(t("qr.screen"), key=SCREEN):
        _on_screen(place)
        return
    _single(store, place, version)
    _bulk(store, user_unit_id, instrument_id, channel)
    _check(store)


def _choose(store: Store, units: list[Unit]) -> tuple[str, str | None, str, str]:
    """Unit, counter (None: the whole unit), instrument and channel, as chosen by the staff member."""
    names = {u.unit_id: u.name for u in units}
    unit_id = st.selectbox(t("col.unit"), list(names), format_func=names.__getitem__, key=UNIT)
    counters = {c.counter_id: c.name for c in list_counters(store, unit_id)}
    counter_id = st.selectbox(t("form.counter"), [*counters, WHOLE_UNIT], key=COUNTER,
                              format_func=lambda c: counters.get(c, t("qr.whole_unit")))
    instrument_id = st.selectbox(t("col.instrument"), _instrument_ids(store), key=INSTRUMENT,
                                 format_func=lambda i: f"{store.instruments[i].title.get('vi', i)} ({i})")
    kiosk = st.toggle(t("qr.kiosk"), key=KIOSK)
    return unit_id, counter_id or None, instrument_id, "kiosk" if kiosk else "qr"


def _instrument_ids(store: Store) -> list[str]:
    default = config.DEFAULT_INSTRUMENT
    return sorted(store.instruments, key=lambda i: (i != default, i))


def _file_stem(place: links.PlaceLink) -> str:
    return f"sipas-{place.unit_id}-{place.counter_id or 'don-vi'}"


def _single(store: Store, place: links.PlaceLink, version: int) -> None:
    where = f"{place.unit_name} — {place.counter_name or t('qr.the_unit')}"
    st.image(qr.qr_png(place.url), caption=plain(where), width=320, alt=t("qr.alt", place=where))
    st.code(place.url, language=None, wrap_lines=True)
    st.caption(t("qr.this_key", version=version))
    stem = _file_stem(place)
    downloads = [
        (t("qr.png"), qr.qr_png(place.url), "png", "image/png"),
        (t("qr.svg"), qr.qr_svg(place.url), "svg", "image/svg+xml"),
        (t("qr.poster", size="A4"), login.guarded(store, partial(qr.poster_pdf, place, "a4")), "a4.pdf",
         "application/pdf"),
        (t("qr.poster", size="A5"), login.guarded(store, partial(qr.poster_pdf, place, "a5")), "a5.pdf",
         "application/pdf"),
    ]
    for column, (label, data, suffix, mime) in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(label, data, file_name=f"{stem}.{suffix}", mime=mime, on_click="ignore")


def _on_screen(place: links.PlaceLink) -> None:
    st.header(plain(place.unit_name))
    st.image(qr.screen_png(place), width="stretch", alt=t("qr.alt", place=place.unit_name))
    st.caption(t("qr.fullscreen_help"))


def _bulk(store: Store, user_unit_id: str | None, instrument_id: str, channel: str) -> None:
    st.subheader(t("qr.bulk"))
    scopes = {user_unit_id: t("qr.my_tree")} if user_unit_id else {
        PROVINCE: t("dash.province"), **BLOCKS}
    scope = st.selectbox(t("qr.scope"), list(scopes), format_func=scopes.__getitem__, key=SCOPE)
    size = st.radio(t("qr.size"), list(qr.PAGE_SIZES), format_func=str.upper, horizontal=True, key=SIZE)
    tree = links.tree_links(store, instrument_id, channel=channel, root=user_unit_id,
                            block=None if user_unit_id or scope == PROVINCE else scope)
    st.write(t("qr.counters", n=len(tree)))
    if not tree:
        return
    left, right = st.columns(2)
    # Generated on click (a callable), so choosing a scope does not draw dozens of PDFs.
    left.download_button(t("qr.zip"), login.guarded(store, partial(qr.posters_zip, tree, size)),
                         on_click="ignore", file_name=f"sipas-ap-phich-{scope}-{size}.zip", mime="application/zip")
    right.download_button(t("qr.labels"), login.guarded(store, partial(qr.label_sheet_pdf, tree)),
                          on_click="ignore", file_name=f"sipas-nhan-{scope}.pdf", mime="application/pdf")


def _check(store: Store) -> None:
    st.subheader(t("qr.check"))
    pasted = st.text_input(t("qr.check_paste"), key=CHECK)
    if not pasted:
        return
    try:
        target = links.resolve_link(store, links.token_from_link(pasted))
    except links.BadLink as bad:
        st.error(t("qr.check_bad", why=plain(bad.message())))
        return
    unit = get_unit(store, target.unit_id)
    counter = get_counter(store, target.unit_id, target.counter_id) if target.counter_id else None
    st.success(t("qr.check_good", unit=plain(unit.name if unit else target.unit_id),
                 counter=plain(counter.name) if counter else t("qr.the_unit"),
                 instrument=plain(target.instrument_id), version=target.key_version, channel=target.channel))
