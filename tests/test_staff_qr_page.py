"""The staff QR page, run by AppTest against a temporary database: what a staff member sees."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from survey_app.collection import links
from survey_app.core import config
from survey_app.core.keys import rotate_keys
from survey_app.db.store import Store


def staff_app(db: str, user_unit_id: str | None) -> None:
    """The page alone, as the router will run it (AppTest runs this function's source as a script)."""
    from survey_app.store import open_store
    from survey_app.ui import staff_qr

    with open_store(db) as store:
        staff_qr.page(store, user_unit_id)


@pytest.fixture
def db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "keys")
    monkeypatch.delenv("SIPAS_SECRET", raising=False)
    store.close()  # the page opens the database itself
    return str(db_path)


def open_page(db: str, user_unit_id: str | None = None) -> AppTest:
    at = AppTest.from_function(staff_app, args=(db, user_unit_id), default_timeout=30).run()
    assert not at.exception, at.exception
    return at


def shown_link(at: AppTest) -> str:
    return at.code[0].value


def test_page_shows_code_link_downloads_and_key_version(db: str) -> None:
    at = open_page(db)
    assert at.title[0].value == "Mã QR và áp phích"
    assert "phiên bản 1" in at.caption[0].value
    assert len(at.image) == 1
    target = links.verify_token(links.token_from_link(shown_link(at)))
    assert (target.unit_id, target.counter_id, target.instrument_id, target.channel) == (
        at.selectbox(key="qr_unit").value, "quay-1", "sipas-dvc", "qr")
    labels = [b.label for b in at.get("download_button")]
    for label in ("Tải mã PNG", "Tải mã SVG", "Tải áp phích A4 (PDF)", "Tải áp phích A5 (PDF)",
                  "Tải ZIP áp phích", "Tải tờ nhãn mã QR (PDF)"):
        assert label in labels
    assert any("52 quầy đang hoạt động" in m.value for m in at.markdown)


def test_choices_change_the_link(db: str) -> None:
    at = open_page(db)
    at.selectbox(key="qr_unit").set_value("q-cau-giay")
    at.selectbox(key="qr_instrument").set_value("nhanh-3")
    at.toggle(key="qr_kiosk").set_value(True)
    at.run()
    target = links.verify_token(links.token_from_link(shown_link(at)))
    assert (target.unit_id, target.instrument_id, target.channel) == ("q-cau-giay", "nhanh-3", "kiosk")
    assert "Quận Cầu Giấy" in at.image[0].captions[0]
    at.selectbox(key="qr_counter").set_value("").run()  # the unit as a whole
    assert links.verify_token(links.token_from_link(shown_link(at))).counter_id is None


def test_bulk_scope_counts_the_block(db: str) -> None:
    at = open_page(db)
    at.selectbox(key="qr_scope").set_value("so").run()
    assert any("22 quầy đang hoạt động" in m.value for m in at.markdown)


def test_staff_of_one_unit_sees_only_their_unit(db: str) -> None:
    at = open_page(db, "so-tu-phap")
    assert at.selectbox(key="qr_unit").options == ["Sở Tư pháp"]
    assert at.selectbox(key="qr_scope").options == ["Đơn vị của tôi và các đơn vị trực thuộc"]
    assert any("1 quầy đang hoạt động" in m.value for m in at.markdown)


def test_show_on_screen_mode_shows_large_code_and_unit_name(db: str) -> None:
    at = open_page(db, "so-tu-phap")
    at.toggle(key="qr_screen").set_value(True).run()
    assert at.header[0].value == "Sở Tư pháp"
    assert len(at.image) == 1 and not at.code  # nothing else competes with the code


def test_checking_printed_codes_tells_current_from_revoked(db: str) -> None:
    old = links.survey_url(links.make_token("so-tu-phap", "quay-1", "sipas-dvc"))
    at = open_page(db)
    at.text_input(key="qr_check").input(old).run()
    assert at.success[0].value.startswith("Còn hiệu lực: Sở Tư pháp — Quầy 1")
    rotate_keys()
    at.run()
    assert "phiên bản 2" in at.caption[0].value
    assert "hết hiệu lực" in at.error[0].value
    at.text_input(key="qr_check").input("https://sipas.example.vn/?k=abc").run()
    assert "không đầy đủ" in at.error[0].value
