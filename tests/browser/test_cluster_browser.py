"""Two app processes sharing one PostgreSQL database, as the production cluster runs them: a citizen
rates through one process, that process is killed with SIGKILL right after the thank-you, and a
leader logged in on the other process sees the response on the dashboard (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from survey_app.admin import accounts
from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.store import open_store

from .conftest import open_app, shot, start_app
from .test_admin_browser import log_in
from .test_form_browser import fill_step, next_step, survey_link

pytestmark = pytest.mark.browser
LEADER, PASSWORD = "lanh-dao-tp", "mat-khau-lanh-dao-1"


def rate_everything(phone: Page) -> None:
    """The whole sipas-dvc form, every rating 5 (overall 4), each question's first option."""
    phone.get_by_text("Đã nhận kết quả (được cấp").tap()
    next_step(phone)
    while phone.get_by_role("button", name="Gửi đánh giá").count() == 0:
        fill_step(phone)
        next_step(phone)
    next_step(phone, "Gửi đánh giá")
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()


@pytest.mark.usefixtures("integrity_rules_off")  # 20 ratings tapped in seconds: flagged too_fast, not on the dashboard
def test_citizen_on_one_process_leader_on_the_other(pg_db: str, tmp_path: Path, phone: Page, laptop: Page) -> None:
    with open_store(pg_db) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        accounts.create_user(store, "test", LEADER, "leader", PASSWORD)
    first = start_app(tmp_path, db=pg_db, name="first")
    second = start_app(tmp_path, db=pg_db, name="second")
    try:
        open_app(phone, survey_link(first, "q-cau-giay", "quay-1", "sipas-dvc"))
        rate_everything(phone)
        first.process.kill()  # SIGKILL, right after the thank-you: the response was committed before it
        first.process.wait()
        with open_store(pg_db, read_only=True) as store:
            assert store.query("SELECT unit_id, counter_id, (SELECT count(*) FROM answers) FROM responses") == [
                ("q-cau-giay", "quay-1", 20)]

        log_in(laptop, second, LEADER, PASSWORD, "Kết quả đánh giá sự hài lòng")
        today = laptop.get_by_test_id("stMetric").filter(has_text="Phiếu hôm nay")
        today.get_by_test_id("stMetricValue").filter(has_text="1").wait_for()
        laptop.get_by_text("Bản sao dữ liệu từ PostgreSQL đồng bộ lúc").wait_for()
        shot(laptop, "cluster-leader-sees-the-response")
    finally:
        first.stop()
        second.stop()
