"""Case pages through AppTest: the thank-you page's code, the public lookup, the staff queue, the rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import dvc_answers, dvc_response
from logins import APP, add_user, add_wards, hand_to_app, log_in, nav_paths, open_page, query
from streamlit.testing.v1 import AppTest

from survey_app.collection import links
from survey_app.db.store import Store

COMMENT = "Cán bộ Nguyễn Văn A gắt gỏng, số 0912345678"


@pytest.fixture
def app_db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ward's complaint already stored, its staff member and a leader of another district."""
    hand_to_app(db_path, tmp_path, monkeypatch)
    add_wards(store)
    add_user(store, "lan", "staff", "p-dich-vong")
    add_user(store, "ba-dinh", "leader", "q-ba-dinh")
    add_user(store, "quan-tri", "admin")
    store.submit(dvc_response(unit_id="p-dich-vong", counter_id=None, answers=dvc_answers(4, CC1=1),
                              comment=COMMENT))
    store.close()
    yield db_path


def the_code(db: Path) -> str:
    return query(db, "SELECT code FROM cases")[0][0]


def test_the_thank_you_page_gives_a_complaint_its_code(app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["k"] = links.make_token("h-ba-vi", "quay-1", "nhanh-3")
    at.run()
    at.button_group(key="r_HL1").set_value(1).run()
    at.text_area(key="comment").input("Chờ hơn một tiếng")
    at = next(b for b in at.button if b.label == "Gửi đánh giá").click().run()
    code = query(app_db, "SELECT code FROM cases WHERE unit_id = 'h-ba-vi'")[0][0]
    shown = " ".join(i.value for i in at.info)
    assert code in shown and "trả lời trước ngày" in shown
    assert f"?case={code}" in at.caption[-1].value


def test_the_public_page_shows_the_status_and_the_reply_only(app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["case"] = the_code(app_db).lower()
    at.run()
    assert nav_paths(at) == {"case"}
    assert "Mới tiếp nhận" in at.markdown[0].value
    page_text = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.text))
    assert "gắt gỏng" not in page_text and "0912" not in page_text and "p-dich-vong" not in page_text
    at.text_input(key="case_code").input("AAAAA-BBBBB").run()
    assert "Không tìm thấy" in at.warning[0].value


def test_staff_answer_a_case_and_the_citizen_reads_it(app_db: Path) -> None:
    at = open_page(log_in("lan"), "cases")
    assert not at.exception
    assert at.selectbox(key="cases_pick").options  # the ward's case is in the queue
    assert any("gắt gỏng, số [số điện thoại]" in t.value for t in at.text)  # stored scrubbed
    reply_key = next(a.key for a in at.text_area if a.key.startswith("case_reply_"))
    at.text_area(key=reply_key).input("Đơn vị đã xin lỗi và nhắc nhở cán bộ.")
    at = next(b for b in at.button if b.label == "Gửi trả lời").click().run()
    assert at.success[0].value == "Đã lưu."
    answer = "Đơn vị đã xin lỗi và nhắc nhở cán bộ."
    assert query(app_db, "SELECT status, reply FROM cases")[0] == ("da_tra_loi", answer)
    citizen = AppTest.from_file(APP, default_timeout=30)
    citizen.query_params["case"] = the_code(app_db)
    citizen.run()
    assert citizen.info[0].value == "Đơn vị đã xin lỗi và nhắc nhở cán bộ."


def test_a_leader_of_another_district_sees_no_case(app_db: Path) -> None:
    at = open_page(log_in("ba-dinh"), "cases")
    assert not at.exception
    assert at.info[0].value == "Không có phản ánh nào khớp bộ lọc."


def test_an_admin_sets_the_deadline_and_holidays(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-case_rules")
    at.number_input(key="rules_days").set_value(10)
    at.text_area(key="rules_holidays").input("2027-02-06 Tết Nguyên đán\n2027-02-07")
    at = next(b for b in at.button if b.label == "Lưu quy tắc").click().run()
    assert at.success[0].value == "Đã lưu."
    assert ("deadline_days", "10") in query(app_db, "SELECT name, value FROM case_rules")
    assert len(query(app_db, "SELECT * FROM holidays")) == 2
    at.text_area(key="rules_holidays").input("6/2/2027 Tết")
    at = next(b for b in at.button if b.label == "Lưu quy tắc").click().run()
    assert "Ngày nghỉ chưa hợp lệ" in at.error[0].value
