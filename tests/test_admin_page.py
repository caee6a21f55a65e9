"""The admin pages, as an administrator uses them: every action shows its outcome and is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import dvc_response
from logins import add_user, cheap_hashes, log_in, nav_paths, open_page, query
from streamlit.testing.v1 import AppTest

from survey_app.core import config
from survey_app.db.store import Store


@pytest.fixture
def app_db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The demo units, one admin and one flagged response, handed over to the app."""
    cheap_hashes(monkeypatch)
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.setenv("SIPAS_DB", str(db_path))
    add_user(store, "quan-tri", "admin")
    response = dvc_response(unit_id="so-tu-phap", comment="Phiếu thử")
    store.submit(response)
    store.write(lambda con: con.execute("UPDATE responses SET status = 'flagged', flag_reasons = 'burst_client'"
                                        " WHERE response_id = ?", [response["response_id"]]))
    store.close()
    yield db_path


def press(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def audited(db: Path) -> list[tuple[str, str, str | None]]:
    return query(db, "SELECT actor, action, target FROM audit_log"
                     " WHERE actor = 'quan-tri' AND action NOT LIKE 'login%' ORDER BY logged_at")


def test_admin_sets_up_a_district_with_two_counters_and_a_leader_who_sees_only_it(app_db: Path) -> None:
    at = log_in("quan-tri")
    assert at.title[0].value == "Đơn vị và quầy"
    at.text_input(key="adm_new_unit_id").input("q-moi")
    at.text_input(key="adm_new_unit_name").input("Quận Mới")
    at.selectbox(key="adm_new_unit_block").set_value("huyen")
    at = press(at, "Thêm đơn vị")
    assert at.success[0].value == "Đã thêm đơn vị q-moi (kèm Quầy 1)."
    at.selectbox(key="adm_unit").set_value("q-moi").run()
    at.text_input(key="adm_new_counter_id").input("quay-2")
    at.text_input(key="adm_new_counter_name").input("Quầy 2 — Đất đai")
    at = press(at, "Thêm quầy")
    assert at.success[0].value == "Đã thêm quầy quay-2."
    assert query(app_db, "SELECT counter_id FROM counters WHERE unit_id = 'q-moi' ORDER BY 1") == [
        ("quay-1",), ("quay-2",)]

    at = open_page(at, "admin-users")
    at.text_input(key="adm_new_username").input("lanh-dao-q-moi")
    at.selectbox(key="adm_new_role").set_value("leader")
    at.selectbox(key="adm_new_user_unit").set_value("q-moi")
    at = press(at, "Thêm người dùng")
    message = at.success[0].value
    assert message.startswith("Đã tạo tài khoản lanh-dao-q-moi.")
    password = re.search(r"`([^`]+)`", message).group(1)
    assert audited(app_db) == [("quan-tri", "unit.add", "q-moi"), ("quan-tri", "counter.add", "q-moi/quay-2"),
                               ("quan-tri", "user.add", "lanh-dao-q-moi")]

    at = at.sidebar.button(key="logout").click().run()
    at = log_in("lanh-dao-q-moi", password, at)
    assert nav_paths(at) == {"dashboard", "cases", "account"}
    assert query(app_db, "SELECT role, unit_id FROM users WHERE username = 'lanh-dao-q-moi'") == [("leader", "q-moi")]


def test_unit_edit_deactivates_and_sets_the_questionnaire(app_db: Path) -> None:
    at = log_in("quan-tri")
    at.selectbox(key="adm_unit").set_value("so-tu-phap").run()
    at.selectbox(key="adm_unit_instrument_so-tu-phap").set_value("nhanh-3")
    at.checkbox(key="adm_unit_active_so-tu-phap").uncheck()
    at = press(at, "Lưu")
    assert at.success[0].value == "Đã lưu 2 thay đổi."
    assert query(app_db, "SELECT instrument_id, active FROM units WHERE unit_id = 'so-tu-phap'") == [
        ("nhanh-3", False)]
    assert {a for _, a, _ in audited(app_db)} == {"unit.instrument", "unit.deactivate"}


def test_refused_input_shows_the_reason_and_changes_nothing(app_db: Path) -> None:
    at = log_in("quan-tri")
    at.text_input(key="adm_new_unit_id").input("Quận Có Dấu")
    at.text_input(key="adm_new_unit_name").input("Quận Có Dấu")
    at = press(at, "Thêm đơn vị")
    assert "không hợp lệ" in at.error[0].value
    assert query(app_db, "SELECT count(*) FROM units") == [(52,)] and audited(app_db) == []


def test_bad_csv_lists_each_error_and_imports_nothing(app_db: Path) -> None:
    at = log_in("quan-tri")
    bad = "unit_id,name,block\np-a,Phường A,huyen\np-b,,huyen\np-c,Phường C,tinh\n".encode()
    at.file_uploader[0].set_value(("phuong.csv", bad, "text/csv"))
    at.run()
    error = at.error[0].value
    assert "Tệp có 2 lỗi" in error and "dòng 3" in error and "dòng 4" in error
    assert not any(b.label.startswith("Nhập ") for b in at.button)
    assert query(app_db, "SELECT count(*) FROM units") == [(52,)] and audited(app_db) == []


def test_good_csv_is_previewed_then_imported(app_db: Path) -> None:
    at = log_in("quan-tri")
    good = "unit_id,name,block,parent_id\np-a,Phường A,huyen,q-cau-giay\nso-tu-phap,Sở Tư pháp,so,\n".encode()
    at.file_uploader[0].set_value(("phuong.csv", good, "text/csv"))
    at.run()
    assert query(app_db, "SELECT count(*) FROM units") == [(52,)]  # the preview changes nothing
    assert at.dataframe[-1].value["Thay đổi"].tolist() == ["thêm mới", "cập nhật"]
    at = press(at, "Nhập 2 dòng")
    assert at.success[0].value == "Đã nhập 2 đơn vị."
    assert query(app_db, "SELECT parent_id FROM units WHERE unit_id = 'p-a'") == [("q-cau-giay",)]
    assert audited(app_db) == [("quan-tri", "units.import", None)]


def test_dossier_counts_are_checked_then_imported(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-data")
    at.file_uploader[0].set_value(("hoso.csv", b"unit_id,period,dossiers\nso-tu-phap,2026-Q3,abc\n", "text/csv"))
    at.run()
    assert "dòng 2" in at.error[0].value
    at.file_uploader[0].set_value(("hoso.csv", b"unit_id,period,dossiers\nso-tu-phap,2026-Q3,1200\n", "text/csv"))
    at.run()
    at = press(at, "Nhập 1 dòng")
    assert at.success[0].value == "Đã nhập 1 dòng số hồ sơ."
    assert query(app_db, "SELECT unit_id, period, dossiers FROM dossier_counts") == [("so-tu-phap", "2026-Q3", 1200)]
    assert audited(app_db) == [("quan-tri", "dossiers.import", None)]


def test_user_is_deactivated_and_its_password_reset(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-users")
    at.text_input(key="adm_new_username").input("lan")
    at.selectbox(key="adm_new_role").set_value("staff")
    at.selectbox(key="adm_new_user_unit").set_value("so-tu-phap")
    at.text_input(key="adm_new_password").input("ngan")
    at = press(at, "Thêm người dùng")
    assert "ít nhất 10 ký tự" in at.error[0].value
    at.text_input(key="adm_new_username").input("lan")
    at.selectbox(key="adm_new_role").set_value("staff")
    at.selectbox(key="adm_new_user_unit").set_value("so-tu-phap")
    at = press(at, "Thêm người dùng")
    at.selectbox(key="adm_user").set_value("lan").run()
    at.checkbox(key="adm_user_active_lan").uncheck()
    at = press(at, "Lưu")
    assert at.success[0].value == "Đã lưu 1 thay đổi."
    at = press(at, "Đặt lại mật khẩu")
    assert at.success[0].value.startswith("Mật khẩu mới của lan")
    assert query(app_db, "SELECT active FROM users WHERE username = 'lan'") == [(False,)]
    assert [a for _, a, _ in audited(app_db)] == ["user.add", "user.deactivate", "user.password"]


def test_flagged_response_is_excluded_with_a_reason(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-review")
    response_id = at.selectbox(key="adm_review_id").options[0].split(" — ")[0]
    at = press(at, "Loại khỏi kết quả")
    assert "Xin chọn một phiếu" in at.error[0].value
    (full_id,), = query(app_db, "SELECT response_id::VARCHAR FROM responses")
    assert full_id.startswith(response_id)
    at.selectbox(key="adm_review_id").set_value(full_id)
    at.text_input(key="adm_review_reason").input("Một máy gửi liên tục")
    at = press(at, "Loại khỏi kết quả")
    assert at.success[0].value == "Đã loại phiếu khỏi kết quả."
    assert at.info[0].value == "Không có phiếu nào cần xem xét."
    assert query(app_db, "SELECT status FROM responses") == [("excluded",)]
    assert audited(app_db) == [("quan-tri", "response.exclude", full_id)]


def test_backup_export_and_key_rotation_are_audited(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-data")
    assert at.button(key="adm_keys_rotate").disabled
    at.checkbox(key="adm_keys_confirm").check().run()
    at = at.button(key="adm_keys_rotate").click().run()
    assert at.success[0].value.startswith("Đã chuyển sang khóa phiên bản 2")
    at = at.button(key="adm_backup").click().run()
    assert at.success[0].value.startswith("Đã sao lưu vào")
    at.radio(key="adm_export_format").set_value("parquet")
    at = at.button(key="adm_export").click().run()
    assert at.success[0].value.endswith("sipas-raw-parquet.zip")
    assert at.get("download_button")
    assert [a for _, a, _ in audited(app_db)] == ["keys.rotate", "backup", "export.raw"]


def test_audit_page_lists_and_filters_rows(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-audit")
    assert at.title[0].value == "Nhật ký thao tác"
    assert at.dataframe[0].value["Thao tác"].tolist() == ["login", "user.add"]
    at.text_input(key="adm_audit_action").input("user").run()
    assert at.dataframe[0].value["Người thực hiện"].tolist() == ["test"]
    at.text_input(key="adm_audit_action").input("unit").run()
    assert at.info[0].value == "Không có dòng nào."


def test_yearly_targets_are_checked_then_imported(app_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-data")
    at.file_uploader[1].set_value(("chi-tieu.csv", b"unit_id,year,sipas\nso-tu-phap,2026,abc\n", "text/csv"))
    at.run()
    assert "dòng 2" in at.error[0].value and "phải là số từ 0 đến 100" in at.error[0].value
    at.file_uploader[1].set_value(("chi-tieu.csv", b"unit_id;year;sipas;CC\nso-tu-phap;2026;92,55;90\n",
                                   "text/csv"))
    at.run()
    at = press(at, "Nhập 1 dòng")
    assert at.success[0].value == "Đã nhập chỉ tiêu của 1 đơn vị."
    assert query(app_db, "SELECT unit_id, year, sipas FROM targets") == [("so-tu-phap", 2026, 92.55)]
    assert query(app_db, "SELECT element_id, target FROM element_targets") == [("CC", 90.0)]
    assert audited(app_db) == [("quan-tri", "targets.import", None)]
