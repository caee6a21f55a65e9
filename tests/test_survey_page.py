"""The citizen form, driven through Streamlit's AppTest against a temporary database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from factories import dvc_answers
from streamlit.testing.v1 import AppTest

from survey_app.collection import links
from survey_app.core import config
from survey_app.core.keys import rotate_keys
from survey_app.db.store import Store

APP = str(config.PROJECT_DIR / "survey_app" / "app.py")


@pytest.fixture
def app_db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A database with the demo units, handed over to the app (which opens it itself)."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.setenv("SIPAS_DB", str(db_path))
    store.close()
    yield db_path


def count(db: Path, sql: str = "SELECT count(*) FROM responses") -> int:
    # Same process as the app: DuckDB hands back the app's open database instance.
    con = duckdb.connect(str(db))
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def open_form(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["k"] = token
    return at.run()


def press(at: AppTest, label_start: str) -> AppTest:
    button = next(b for b in at.button if b.label.startswith(label_start))
    return button.click().run()


def rate_step(at: AppTest, values: dict[str, int | None]) -> None:
    for pills in at.button_group:
        item_id = pills.key.removeprefix("r_") if pills.key else ""
        if item_id in values:
            pills.set_value("na" if values[item_id] is None else values[item_id])


def test_valid_link_shows_unit_and_counter(app_db: Path) -> None:
    at = open_form(links.make_token("so-tu-phap", "quay-1", "sipas-dvc"))
    assert not at.exception
    assert at.subheader[0].value == "Sở Tư pháp — Quầy 1"
    assert at.radio(key="stage").options  # the stage question opens the form


@pytest.mark.parametrize("tamper", [
    lambda tok: tok[:-3] + ("AAA" if not tok.endswith("AAA") else "BBB"),  # altered signature
    lambda tok: tok[:20],  # truncated
    lambda tok: "not a token!",
])
def test_bad_token_shows_message_and_stores_nothing(app_db: Path, tamper) -> None:
    at = open_form(tamper(links.make_token("so-tu-phap", "quay-1", "sipas-dvc")))
    assert not at.exception
    assert at.title[0].value == "Không mở được phiếu đánh giá"
    assert at.warning and not at.button_group
    assert count(app_db) == 0


def test_revoked_and_unknown_place_links_are_refused(app_db: Path) -> None:
    old = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    rotate_keys()
    for token in (old, links.make_token("so-khong-ton-tai", None, "sipas-dvc")):
        at = open_form(token)
        assert at.title[0].value == "Không mở được phiếu đánh giá" and not at.button_group
    assert count(app_db) == 0


def answer_dvc(at: AppTest, answers: dict[str, int | None], stage: str = "da_nhan") -> AppTest:
    at.radio(key="stage").set_value(stage)
    at = press(at, "Tiếp tục")
    while not any(b.label == "Gửi đánh giá" for b in at.button):
        rate_step(at, answers)
        for pills in at.button_group:
            if pills.key and pills.key.startswith("q_gay"):
                pills.set_value("khong")
        at = press(at, "Tiếp tục")
        assert not at.warning, [w.value for w in at.warning]
    return at


def test_full_sipas_dvc_answer_stores_exactly_one_response(app_db: Path) -> None:
    at = open_form(links.make_token("q-cau-giay", "quay-1", "sipas-dvc"))
    answers = dvc_answers(5, hl=4, CC2=3, PA1=None, PA2=None, PA3=None)
    at = answer_dvc(at, answers)
    at.text_area(key="comment").input("Cán bộ rất nhiệt tình 👍")
    at.button_group(key="q_mong_doi").set_value(["cntt", "thai_do"])
    at = press(at, "Gửi đánh giá")
    assert at.title[0].value == "Cảm ơn Ông/Bà!"
    assert count(app_db) == 1
    stored = dict(duckdb.connect(str(app_db)).execute("SELECT item_id, value FROM answers").fetchall())
    assert stored == {**answers, "HL": 4}
    assert count(app_db, "SELECT count(*) FROM choices WHERE question_id = 'mong_doi'") == 2
    assert count(app_db, "SELECT count(*) FROM comments WHERE text = 'Cán bộ rất nhiệt tình 👍'") == 1
    assert count(app_db, "SELECT count(*) FROM responses WHERE channel = 'qr' AND seconds_taken >= 0") == 1


def test_not_yet_received_skips_result_items(app_db: Path) -> None:
    at = open_form(links.make_token("q-cau-giay", None, "sipas-dvc"))
    at = answer_dvc(at, dvc_answers(4), stage="chua_nhan")
    at = press(at, "Gửi đánh giá")
    assert at.title[0].value == "Cảm ơn Ông/Bà!"
    assert count(app_db, "SELECT count(*) FROM answers WHERE item_id LIKE 'KQ%' AND value IS NULL") == 3


def test_validation_error_keeps_the_answers_given(app_db: Path) -> None:
    at = open_form(links.make_token("so-tu-phap", "quay-1", "sipas-dvc"))
    at.radio(key="stage").set_value("da_nhan")
    at = press(at, "Tiếp tục")
    at.button_group(key="r_TC1").set_value(5)
    at.button_group(key="r_TC3").set_value(2)
    at = press(at, "Tiếp tục")
    assert "Còn 2 câu chưa trả lời" in at.warning[0].value
    assert [e.value for e in at.error] == ["Xin chọn một mức đánh giá."] * 2
    assert at.button_group(key="r_TC1").value == 5 and at.button_group(key="r_TC3").value == 2
    assert count(app_db) == 0


def test_resubmitting_stores_one_response(app_db: Path) -> None:
    at = open_form(links.make_token("so-tu-phap", "quay-1", "sipas-dvc"))
    at = answer_dvc(at, dvc_answers(4))
    from survey_app.ui import survey

    state = at.session_state[survey.FORM]
    at = press(at, "Gửi đánh giá")
    at.session_state[survey.DONE] = None  # as if the thank-you never arrived: the same form is sent again
    at.session_state[survey.FORM] = state
    at.run()
    at = press(at, "Gửi đánh giá")
    assert count(app_db) == 1


def test_english_switch_translates_the_form(app_db: Path) -> None:
    at = open_form(links.make_token("so-tu-phap", "quay-1", "sipas-dvc"))
    at = press(at, "🌐 English")
    assert at.radio(key="stage").label.startswith("Have you received")


def test_quick_rating_stores_reasons_only_when_dissatisfied(app_db: Path) -> None:
    at = open_form(links.make_token("h-ba-vi", "quay-1", "nhanh-3", channel="kiosk"))
    at.button_group(key="r_HL1").set_value(1).run()
    at.button_group(key="q_ly_do").set_value(["cho_lau"])
    at.text_area(key="comment").input("Chờ hơn một tiếng")
    at = press(at, "Gửi đánh giá")
    assert at.title[0].value == "Cảm ơn Ông/Bà!"
    assert count(app_db, "SELECT count(*) FROM responses WHERE channel = 'kiosk' AND instrument_id = 'nhanh-3'") == 1
    assert count(app_db, "SELECT count(*) FROM choices WHERE option_id = 'cho_lau'") == 1


def test_control_character_in_comment_is_refused_with_a_message(app_db: Path) -> None:
    at = open_form(links.make_token("h-ba-vi", "quay-1", "nhanh-3"))
    at.button_group(key="r_HL1").set_value(1).run()
    at.text_area(key="comment").input("Chờ lâu\x00")
    at = press(at, "Gửi đánh giá")
    assert any("ký tự điều khiển" in e.value for e in at.error)
    assert at.button_group(key="r_HL1").value == 1
    assert count(app_db) == 0


def test_huge_comment_is_cut_at_the_limit_by_the_server(app_db: Path) -> None:
    at = open_form(links.make_token("h-ba-vi", "quay-1", "nhanh-3"))
    at.button_group(key="r_HL1").set_value(1).run()
    at.session_state["comment"] = "x" * 1_000_000  # past the browser's own limit, as a forged client could
    at = press(at, "Gửi đánh giá")
    assert count(app_db, "SELECT max(length(text)) FROM comments") == config.COMMENT_MAX_CHARS


def test_a_dossier_code_rates_its_dossier_once(app_db: Path) -> None:
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    for attempt in range(2):
        at = answer_dvc(open_form(token), dvc_answers(4))
        at.text_input(key="receipt").input("hs-2026 000123")
        at = press(at, "Gửi đánh giá")
        if attempt == 0:
            assert at.title[0].value == "Cảm ơn Ông/Bà!"
    assert any("đã được dùng để đánh giá" in e.value for e in at.error)
    assert count(app_db) == 1


def test_a_malformed_dossier_code_is_explained_next_to_the_field(app_db: Path) -> None:
    at = answer_dvc(open_form(links.make_token("so-tu-phap", "quay-1", "sipas-dvc")), dvc_answers(4))
    at.text_input(key="receipt").input("ab")
    at = press(at, "Gửi đánh giá")
    assert any("Mã hồ sơ chưa đúng" in e.value for e in at.error)
    assert count(app_db) == 0
