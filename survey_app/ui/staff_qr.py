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
    st.title("Mã QR và áp phích")
    version = current_key_version()
    st.caption(f"Khóa ký hiện hành: phiên bản {version}. Mã in bằng khóa cũ hơn không còn dùng được — "
               f"sau mỗi lần đổi khóa, hãy in lại áp phích.")
    units = links.units_in_tree(store, root=user_unit_id)
    if not units:
        st.warning("Chưa có đơn vị nào đang hoạt động để tạo mã.")
        return
    unit_id, counter_id, instrument_id, channel = _choose(store, units)
    try:
        place = links.place_link(store, unit_id, counter_id, instrument_id, channel=channel)
    except links.UnknownPlace as exc:  # e.g. closed by an administrator since the list was drawn
        st.error(plain(str(exc)))
        return
    if st.toggle("Hiển thị toàn màn hình (cho màn hình tại quầy)", key=SCREEN):
        _on_screen(place)
        return
    _single(store, place, version)
    _bulk(store, user_unit_id, instrument_id, channel)
    _check(store)


def _choose(store: Store, units: list[Unit]) -> tuple[str, str | None, str, str]:
    """Unit, counter (None: the whole unit), instrument and channel, as chosen by the staff member."""
    names = {u.unit_id: u.name for u in units}
    unit_id = st.selectbox("Đơn vị", list(names), format_func=names.__getitem__, key=UNIT)
    counters = {c.counter_id: c.name for c in list_counters(store, unit_id)}
    counter_id = st.selectbox("Quầy", [*counters, WHOLE_UNIT], key=COUNTER,
                              format_func=lambda c: counters.get(c, "Cả đơn vị (không theo quầy)"))
    instrument_id = st.selectbox("Bộ câu hỏi", _instrument_ids(store), key=INSTRUMENT,
                                 format_func=lambda i: f"{store.instruments[i].title.get('vi', i)} ({i})")
    kiosk = st.toggle("Liên kết cho máy tính bảng đặt tại quầy (kiosk)", key=KIOSK)
    return unit_id, counter_id or None, instrument_id, "kiosk" if kiosk else "qr"


def _instrument_ids(store: Store) -> list[str]:
    default = config.DEFAULT_INSTRUMENT
    return sorted(store.instruments, key=lambda i: (i != default, i))


def _file_stem(place: links.PlaceLink) -> str:
    return f"sipas-{place.unit_id}-{place.counter_id or 'don-vi'}"


def _single(store: Store, place: links.PlaceLink, version: int) -> None:
    where = f"{place.unit_name} — {place.counter_name or 'cả đơn vị'}"
    st.image(qr.qr_png(place.url), caption=plain(where), width=320, alt=t("qr.alt", place=where))
    st.code(place.url, language=None, wrap_lines=True)
    st.caption(f"Mã này dùng khóa phiên bản {version} (hiện hành).")
    stem = _file_stem(place)
    downloads = [
        ("Tải mã PNG", qr.qr_png(place.url), "png", "image/png"),
        ("Tải mã SVG", qr.qr_svg(place.url), "svg", "image/svg+xml"),
        ("Tải áp phích A4 (PDF)", login.guarded(store, partial(qr.poster_pdf, place, "a4")), "a4.pdf",
         "application/pdf"),
        ("Tải áp phích A5 (PDF)", login.guarded(store, partial(qr.poster_pdf, place, "a5")), "a5.pdf",
         "application/pdf"),
    ]
    for column, (label, data, suffix, mime) in zip(st.columns(len(downloads)), downloads, strict=True):
        column.download_button(label, data, file_name=f"{stem}.{suffix}", mime=mime, on_click="ignore")


def _on_screen(place: links.PlaceLink) -> None:
    st.header(plain(place.unit_name))
    st.image(qr.screen_png(place), width="stretch", alt=t("qr.alt", place=place.unit_name))
    st.caption("Di chuột lên ảnh và bấm nút phóng to để hiện mã toàn màn hình.")


def _bulk(store: Store, user_unit_id: str | None, instrument_id: str, channel: str) -> None:
    st.subheader("In hàng loạt")
    scopes = {user_unit_id: "Đơn vị của tôi và các đơn vị trực thuộc"} if user_unit_id else {
        PROVINCE: "Toàn thành phố", **BLOCKS}
    scope = st.selectbox("Phạm vi", list(scopes), format_func=scopes.__getitem__, key=SCOPE)
    size = st.radio("Khổ áp phích", list(qr.PAGE_SIZES), format_func=str.upper, horizontal=True, key=SIZE)
    tree = links.tree_links(store, instrument_id, channel=channel, root=user_unit_id,
                            block=None if user_unit_id or scope == PROVINCE else scope)
    st.write(f"{len(tree)} quầy đang hoạt động — mỗi quầy một áp phích.")
    if not tree:
        return
    left, right = st.columns(2)
    # Generated on click (a callable), so choosing a scope does not draw dozens of PDFs.
    left.download_button("Tải ZIP áp phích", login.guarded(store, partial(qr.posters_zip, tree, size)),
                         on_click="ignore", file_name=f"sipas-ap-phich-{scope}-{size}.zip", mime="application/zip")
    right.download_button("Tải tờ nhãn mã QR (PDF)", login.guarded(store, partial(qr.label_sheet_pdf, tree)),
                          on_click="ignore", file_name=f"sipas-nhan-{scope}.pdf", mime="application/pdf")


def _check(store: Store) -> None:
    st.subheader("Kiểm tra một mã đã in")
    pasted = st.text_input("Dán liên kết (hoặc mã) cần kiểm tra", key=CHECK)
    if not pasted:
        return
    try:
        target = links.resolve_link(store, links.token_from_link(pasted))
    except links.BadLink as bad:
        st.error(f"Không dùng được: {plain(bad.message)}")
        return
    unit = get_unit(store, target.unit_id)
    counter = get_counter(store, target.unit_id, target.counter_id) if target.counter_id else None
    where = f"{unit.name if unit else target.unit_id} — {counter.name if counter else 'cả đơn vị'}"
    st.success(f"Còn hiệu lực: {plain(where)}, bộ câu hỏi {plain(target.instrument_id)}, "
               f"khóa phiên bản {target.key_version}, kênh {target.channel}.")
