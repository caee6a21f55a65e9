"""Integrity: each anti-gaming flag with its reason, flagged responses kept, receipts, scrubbing,
retention, the scan of stored data and the share of flagged responses per unit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from factories import Clock, dvc_answers, dvc_response, table_counts
from streamlit.testing.v1 import AppTest

from survey_app.collection import links
from survey_app.core import config, privacy
from survey_app.core.config import FlagRules
from survey_app.core.keys import rotate_keys
from survey_app.core.privacy import scrub_comment
from survey_app.core.responses import InvalidResponse
from survey_app.db.store import Store
from survey_app.demo.generate import generate_demo
from survey_app.integrity.maintenance import fill_patterns, purge_contacts, scan, set_opening_hours
from survey_app.integrity.report import flagged_share
from survey_app.ui import survey

TZ = config.TIMEZONE
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)  # a working day, in opening hours
OFF = {r.name: "" if isinstance(r.default, str) else 0 for r in fields(FlagRules)}


def only(**rules: object) -> FlagRules:
    """Every rule off but the ones given (with their thresholds)."""
    return FlagRules(**{**OFF, **rules})  # type: ignore[arg-type]


def at(minutes: float, start: datetime = MONDAY) -> datetime:
    return start + timedelta(minutes=minutes)


def reasons(store: Store, response_id: str) -> tuple[str, str | None]:
    return store.query("SELECT status, flag_reasons FROM responses WHERE response_id = ?", [response_id])[0]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)  # the key that hashes receipts lives here
    return tmp_path


def test_thresholds_come_from_sipas_flag_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_FLAG_BURST_MINUTES", "15")
    monkeypatch.setenv("SIPAS_FLAG_OPENING_HOURS", "T2-T6 07:30-17:00")
    rules = config.flag_rules()
    assert rules.burst_minutes == 15.0 and rules.opening_hours == "T2-T6 07:30-17:00"
    monkeypatch.setenv("SIPAS_FLAG_BURST_CLIENT", "ba")
    with pytest.raises(ValueError, match="SIPAS_FLAG_BURST_CLIENT"):
        config.flag_rules()


def test_default_rules_are_all_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for rule in fields(FlagRules):
        monkeypatch.delenv(f"SIPAS_FLAG_{rule.name.upper()}", raising=False)
    assert config.flag_rules() == FlagRules() and all(getattr(FlagRules(), r.name) for r in fields(FlagRules))


def test_burst_from_one_device_at_one_counter_is_flagged(store: Store) -> None:
    store.flag_rules = only(burst_client=3, burst_minutes=10)
    ids = [store.submit(dvc_response(given=dvc_answers(v, hl=4), client_hash="phone-a", submitted_at=at(m))).response_id
           for m, v in ((0, 3), (2, 4), (4, 5), (30, 4))]
    assert [reasons(store, i) for i in ids] == [("ok", None), ("ok", None), ("flagged", "burst_client"), ("ok", None)]
    whole_unit = store.submit(dvc_response(client_hash="phone-a", counter_id=None, submitted_at=at(31)))
    assert whole_unit.status == "ok"  # another code (the unit's own), so another place


def test_identical_answers_from_several_devices_are_flagged(store: Store) -> None:
    store.flag_rules = only(burst_pattern=4, burst_minutes=10)
    results = [store.submit(dvc_response(client_hash=f"phone-{n}", submitted_at=at(n))) for n in range(5)]
    assert [r.status for r in results] == ["ok", "ok", "ok", "flagged", "flagged"]
    assert reasons(store, results[3].response_id) == ("flagged", "burst_pattern")
    varied = store.submit(dvc_response(submitted_at=at(6), answers=dvc_answers(TC1=5)))
    assert varied.status == "ok"


def test_second_response_of_a_device_for_a_unit_the_same_day_is_flagged(store: Store) -> None:
    store.flag_rules = only(repeat_client=1)
    first = store.submit(dvc_response(client_hash="phone-a", submitted_at=at(0)))
    later = store.submit(dvc_response(client_hash="phone-a", counter_id=None, submitted_at=at(300)))
    elsewhere = store.submit(dvc_response(client_hash="phone-a", unit_id="so-tu-phap", submitted_at=at(301)))
    tomorrow = store.submit(dvc_response(client_hash="phone-a", submitted_at=at(24 * 60)))
    assert (first.status, later.status, elsewhere.status, tomorrow.status) == ("ok", "flagged", "ok", "ok")
    assert reasons(store, later.response_id) == ("flagged", "repeat_client")


def test_a_new_user_agent_per_response_does_not_escape_the_address_rule(store: Store) -> None:
    """Issue 14: six responses from one address, each with another User-Agent (so another device
    hash): the address-only daily hash flags them past its own, higher threshold."""
    store.flag_rules = only(repeat_client=1, repeat_address=3)
    address = privacy.address_hash("198.51.100.7", MONDAY.date(), b"k" * 32)
    results = [store.submit(dvc_response(client_hash=f"ua-{n}", address_hash=address, submitted_at=at(n * 20),
                                         answers=dvc_answers(TC1=1 + n % 5))) for n in range(6)]
    assert [r.status for r in results] == ["ok", "ok", "ok", "flagged", "flagged", "flagged"]
    assert reasons(store, results[3].response_id) == ("flagged", "repeat_address")
    elsewhere = store.submit(dvc_response(address_hash=address, unit_id="so-tu-phap", submitted_at=at(200)))
    tomorrow = store.submit(dvc_response(address_hash=address, submitted_at=at(24 * 60)))
    assert (elsewhere.status, tomorrow.status) == ("ok", "ok")
    stored = store.query("SELECT count(DISTINCT address_hash), count(*) FROM responses WHERE address_hash IS NOT NULL")
    assert stored == [(1, 8)]


def test_the_address_hash_is_daily_and_keyed() -> None:
    key = b"k" * 32
    today = privacy.address_hash("198.51.100.7", MONDAY.date(), key)
    assert today == privacy.address_hash("198.51.100.7", MONDAY.date(), key)
    assert today != privacy.address_hash("198.51.100.7", MONDAY.date() + timedelta(days=1), key)
    assert today != privacy.address_hash("198.51.100.7", MONDAY.date(), b"j" * 32)
    assert "198.51.100.7" not in today and privacy.address_hash(None, MONDAY.date(), key) is None


def test_scan_flags_stored_responses_by_address_too(store: Store) -> None:
    address = privacy.address_hash("198.51.100.7", MONDAY.date(), b"k" * 32)
    for n in range(4):
        store.submit(dvc_response(client_hash=f"ua-{n}", address_hash=address, submitted_at=at(n * 20),
                                  answers=dvc_answers(TC1=1 + n)))
    store.flag_rules = only(repeat_address=3)
    assert scan(store).reasons == {"repeat_address": 1}


def test_full_form_faster_than_reading_is_flagged(store: Store) -> None:
    store.flag_rules = only(speed_min_items=5, min_seconds_per_item=1.5)
    fast = store.submit(dvc_response(seconds_taken=12))  # 20 ratings in 12 s
    normal = store.submit(dvc_response(seconds_taken=75))
    kiosk_tap = store.submit(dvc_response(instrument_id="nhanh-3", stage=None, comment=None, choices={},
                                          answers={"HL1": 3}, seconds_taken=1))
    assert reasons(store, fast.response_id) == ("flagged", "too_fast")
    assert (normal.status, kiosk_tap.status) == ("ok", "ok")


def test_all_top_ratings_given_quickly_are_flagged(store: Store) -> None:
    store.flag_rules = only(speed_min_items=5, all_top_seconds_per_item=2.5)
    all_five = dvc_answers(5, HL=5)
    quick_praise = store.submit(dvc_response(answers=all_five, seconds_taken=40))  # < 20 × 2.5 s
    slow_praise = store.submit(dvc_response(answers=all_five, seconds_taken=70))
    quick_mixed = store.submit(dvc_response(answers=dvc_answers(5, hl=4, TC1=4), seconds_taken=40))
    with_na = store.submit(dvc_response(answers=dvc_answers(5, HL=5, PA1=None, PA2=None, PA3=None), seconds_taken=30))
    assert reasons(store, quick_praise.response_id) == ("flagged", "all_top_fast")
    assert (slow_praise.status, quick_mixed.status) == ("ok", "ok")
    assert reasons(store, with_na.response_id) == ("flagged", "all_top_fast")


def test_responses_outside_opening_hours_are_flagged(store: Store) -> None:
    store.flag_rules = only(opening_hours="T2-T6 07:00-11:30 13:00-17:00; T7 07:30-11:30",
                            after_hours_grace_minutes=60)
    sunday, saturday = MONDAY - timedelta(days=1), MONDAY + timedelta(days=5)
    cases = {
        MONDAY: "ok",
        MONDAY.replace(hour=12, minute=15): "ok",  # within an hour after the morning session
        MONDAY.replace(hour=17, minute=59): "ok",
        MONDAY.replace(hour=18, minute=30): "flagged",
        MONDAY.replace(hour=6, minute=30): "flagged",
        saturday.replace(hour=14): "flagged",
        sunday.replace(hour=10): "flagged",
    }
    got = {when: store.submit(dvc_response(submitted_at=when)).status for when in cases}
    assert got == cases
    assert store.query("SELECT DISTINCT flag_reasons FROM responses WHERE status = 'flagged'") == [("outside_hours",)]


def test_a_unit_can_keep_its_own_opening_hours(store: Store) -> None:
    store.flag_rules = only(opening_hours="T2-T6 07:00-17:00")
    set_opening_hours(store, "so-tai-chinh", "T2-CN 07:00-21:00")
    sunday_evening = (MONDAY - timedelta(days=1)).replace(hour=20)
    assert store.submit(dvc_response(submitted_at=sunday_evening)).status == "ok"
    assert store.submit(dvc_response(unit_id="so-tu-phap", submitted_at=sunday_evening)).status == "flagged"
    set_opening_hours(store, "so-tai-chinh", None)
    assert store.submit(dvc_response(submitted_at=sunday_evening)).status == "flagged"
    with pytest.raises(ValueError, match="không đúng dạng"):
        set_opening_hours(store, "so-tai-chinh", "Monday 9-5")
    with pytest.raises(ValueError, match="Không có đơn vị mã"):
        set_opening_hours(store, "so-khong-co", "T2 07:00-17:00")


def test_a_staff_burst_names_every_reason_and_is_kept(store: Store) -> None:
    store.flag_rules = FlagRules()
    before = table_counts(store)
    results = [store.submit(dvc_response(client_hash="staff-phone", answers=dvc_answers(5, HL=5), seconds_taken=8,
                                         submitted_at=at(0.25 * n))) for n in range(6)]
    assert [r.status for r in results] == ["flagged"] * 6  # even the first: 20 ratings in 8 s
    assert reasons(store, results[-1].response_id)[1] == \
        "burst_client,repeat_client,burst_pattern,too_fast,all_top_fast"
    after = table_counts(store)
    assert after["responses"] - before["responses"] == 6 and after["answers"] - before["answers"] == 6 * 20


def test_concurrent_burst_is_judged_in_commit_order(store: Store) -> None:
    store.flag_rules = only(burst_client=3, burst_minutes=10)
    responses = [dvc_response(client_hash="phone-a", answers=dvc_answers(1 + n % 5)) for n in range(40)]
    with ThreadPoolExecutor(16) as pool:
        statuses = [r.status for r in pool.map(store.submit, responses)]
    assert statuses.count("ok") == 2 and statuses.count("flagged") == 38
    ordered = [r[0] for r in store.query("SELECT status FROM responses ORDER BY submitted_at")]
    assert ordered == ["ok", "ok"] + ["flagged"] * 38


def test_receipt_code_is_stored_only_as_a_hash_and_refused_twice(store: Store, data_dir: Path) -> None:
    first = store.submit(dvc_response(receipt="000.00.12.H26-250101-0001"))
    before = table_counts(store)
    with pytest.raises(InvalidResponse) as caught:
        store.submit(dvc_response(receipt=" 000.00.12.h26-250101-0001 "))  # retyped: same code
    assert (caught.value.field, caught.value.code) == ("receipt", "receipt_used")
    assert table_counts(store) == before
    assert store.submit(dvc_response(receipt="000.00.12.H26-250101-0002")).status == "ok"
    again = store.submit(dvc_response(response_id=first.response_id, receipt="000.00.12.H26-250101-0001"))
    assert again.duplicate  # the same response sent twice is no second use
    stored = store.query("SELECT receipt_hash, response_id::VARCHAR FROM receipts")
    assert len(stored) == 2 and all("H26" not in h and len(h) == 64 for h, _ in stored)
    rotate_keys()
    with pytest.raises(InvalidResponse, match="receipt"):
        store.submit(dvc_response(receipt="000.00.12.H26-250101-0002"))  # new link keys: same hash


def test_one_receipt_in_a_concurrent_batch_is_used_once(store: Store, data_dir: Path) -> None:
    def send(_: int) -> str:
        try:
            return store.submit(dvc_response(receipt="HS-2026-000123")).status
        except InvalidResponse as exc:
            return exc.code

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(send, range(32)))
    assert outcomes.count("ok") == 1 and outcomes.count("receipt_used") == 31
    assert table_counts(store)["responses"] == 1


def test_reused_receipt_gets_a_friendly_message_on_the_form(store: Store, db_path: Path, data_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store.submit(dvc_response(receipt="HS-0001"))
    store.close()
    monkeypatch.setenv("SIPAS_DB", str(db_path))
    form_submission = survey.submission  # the form has no receipt field yet: send one as a link would carry it
    monkeypatch.setattr(survey, "submission", lambda *a, **k: {**form_submission(*a, **k), "receipt": "hs-0001"})
    at = AppTest.from_file(str(config.PROJECT_DIR / "survey_app" / "app.py"), default_timeout=30)
    at.query_params["k"] = links.make_token("so-tai-chinh", "quay-1", "nhanh-3")
    at.run()
    at.button_group(key="r_HL1").set_value(3).run()
    at = next(b for b in at.button if b.label == "Gửi đánh giá").click().run()
    assert [e.value for e in at.error] == ["Mã hồ sơ này đã được dùng để đánh giá. Mỗi hồ sơ chỉ được đánh giá "
                                           "một lần — cảm ơn Ông/Bà đã quan tâm."]
    assert not at.title or at.title[0].value != "Cảm ơn Ông/Bà!"


@pytest.mark.parametrize("code", ["ab", "x" * 41, "mã hồ sơ!", 12345])
def test_malformed_receipt_is_refused(store: Store, code: object) -> None:
    with pytest.raises(InvalidResponse) as caught:
        store.submit(dvc_response(receipt=code))
    assert (caught.value.field, caught.value.code) == ("receipt", "invalid")


SCRUB = [
    ("Gọi tôi 0912 345 678 nhé", "Gọi tôi [số điện thoại] nhé"),
    ("sđt 0912.345.678, hoặc +84 912345678", "sđt [số điện thoại], hoặc [số điện thoại]"),
    ("Máy bàn 024 3825 1234", "Máy bàn [số điện thoại]"),
    ("CCCD 001099012345, CMND 123456789", "CCCD [số giấy tờ], CMND [số giấy tờ]"),
    ("CCCD 001 099 012 345", "CCCD [số giấy tờ]"),
    ("Email nguyen.van.a@gmail.com.vn giúp tôi", "Email [email] giúp tôi"),
    ("Phí 150.000.000 đồng, ngày 15/10/2025, chờ 2 giờ 30 phút", None),
    ("Mã hồ sơ 000.00.12.H26-250101-0001", None),
    # How people really type them (issue 14): brackets, slashes, runs of spaces, spaced e-mail addresses.
    ("Gọi (091) 234 5678 giúp", "Gọi [số điện thoại] giúp"),
    ("số 0912/345/678", "số [số điện thoại]"),
    ("số 0912  345   678 ạ", "số [số điện thoại] ạ"),
    ("số 0912 - 345 - 678", "số [số điện thoại]"),
    ("số (+84) 912 345 678", "số [số điện thoại]"),
    ("số +84 (0) 912 345 678", "số [số điện thoại]"),
    ("số +84-912-345-678", "số [số điện thoại]"),
    ("số 09 12 34 56 78", "số [số điện thoại]"),
    ("máy bàn (024) 3825.1234", "máy bàn [số điện thoại]"),
    ("số0912345678", "số[số điện thoại]"),
    ("mail a.b @ gmail . com nhé", "mail [email] nhé"),
    ("mail a.b@gmail.com nhé", "mail [email] nhé"),
    ("mail a_b (at) gmail (dot) com", "mail [email]"),
    ("mail a.b[at]yahoo[dot]com.vn", "mail [email]"),
    ("mail A.B @ Gmail.Com. Cảm ơn", "mail [email]. Cảm ơn"),
    ("hẹn 05/12/2026 09:30 tại quầy 2", None),
    ("đợi từ 8 giờ đến 10 giờ, 3 lần", None),
]


@pytest.mark.parametrize(("text", "scrubbed"), SCRUB)
def test_comment_loses_contact_and_id_numbers_only(text: str, scrubbed: str | None) -> None:
    assert scrub_comment(text) == (scrubbed or text)


def test_scrubbed_comment_is_stored_and_the_contact_kept_apart(store: Store) -> None:
    response = dvc_response(comment="Cán bộ tốt. SĐT tôi 0987654321, CCCD 001099012345",
                            contact={"phone": "0987654321", "consent": True})
    store.submit(response)
    assert store.query("SELECT text FROM comments") == [("Cán bộ tốt. SĐT tôi [số điện thoại], CCCD [số giấy tờ]",)]
    assert store.query("SELECT phone FROM contacts") == [("0987654321",)]


def test_contacts_past_retention_are_purged_and_responses_stay(store: Store, clock: Clock) -> None:
    old = store.submit(dvc_response(submitted_at=clock.moment - timedelta(days=200),
                                    contact={"phone": "0912345678", "consent": True}))
    store.submit(dvc_response(contact={"phone": "0987654321", "consent": True}))
    assert purge_contacts(store, days=180) == 1
    assert store.query("SELECT phone FROM contacts") == [("0987654321",)]
    assert table_counts(store)["responses"] == 2 and reasons(store, old.response_id) == ("ok", None)
    assert store.query("SELECT action, actor FROM audit_log") == [("contacts.purge", "integrity")]
    assert purge_contacts(store, days=180) == 0


def test_scan_flags_the_demo_bursts_once(store: Store) -> None:
    generate_demo(store, responses=10_000, seed=3, days=30)
    store.flag_rules = FlagRules()
    first = scan(store)
    burst_ids = {r[0] for r in store.query("SELECT response_id FROM responses WHERE client_hash LIKE 'burst%'")}
    flagged = {r[0] for r in store.query("SELECT response_id FROM responses WHERE status = 'flagged'")}
    assert len(burst_ids) == 40 and burst_ids <= flagged
    assert first.flagged == len(flagged) and first.examined == 10_000
    assert first.reasons["too_fast"] >= 40 and first.reasons["burst_client"] >= 2 * 18
    assert len(flagged) < 0.05 * 10_000, first  # ordinary demo citizens stay counted
    assert store.query("SELECT count(*) FROM responses WHERE answer_pattern IS NULL") == [(0,)]
    assert scan(store).flagged == 0
    assert store.query("SELECT count(*) FROM audit_log WHERE action = 'integrity.scan'") == [(1,)]


def test_scan_agrees_with_submit_and_spares_reviewed_responses(store: Store) -> None:
    store.flag_rules = only(burst_client=3, repeat_client=1, burst_pattern=3)
    sent = [store.submit(dvc_response(client_hash=f"p{n % 2}", submitted_at=at(n))) for n in range(8)]
    assert scan(store).flagged == 0  # the writer judged them exactly as a scan does
    reviewed = sent[-1].response_id
    store.write(lambda con: con.execute("UPDATE responses SET status = 'ok' WHERE response_id = ?", [reviewed]))
    store.write(lambda con: con.execute("UPDATE responses SET answer_pattern = NULL, status = 'ok', flag_reasons = NULL"
                                        " WHERE response_id = ?", [sent[2].response_id]))
    result = scan(store)
    assert result.flagged == 1 and reasons(store, sent[2].response_id)[0] == "flagged"
    assert reasons(store, reviewed)[0] == "ok"  # an admin counted it again: the scan leaves it


def test_pattern_sql_matches_the_record_pattern(store: Store) -> None:
    answers = dvc_answers(3, hl=4, PA1=None, TC2=1, CC5=2)
    response = dvc_response(answers=answers)
    store.submit(response)
    written = store.query("SELECT answer_pattern FROM responses")[0][0]
    store.write(lambda con: con.execute("UPDATE responses SET answer_pattern = NULL"))
    store.write(lambda con: fill_patterns(con, store.instruments))
    assert store.query("SELECT answer_pattern FROM responses")[0][0] == written
    assert written == "".join("-" if answers[k] is None else str(answers[k]) for k in sorted(answers))


def test_flagged_share_per_unit(store: Store) -> None:
    store.flag_rules = only(speed_min_items=5, min_seconds_per_item=1.5)
    for n in range(4):
        store.submit(dvc_response(submitted_at=at(n), seconds_taken=10 if n < 3 else 80))
    store.submit(dvc_response(unit_id="so-tu-phap", submitted_at=at(5), seconds_taken=80))
    store.submit(dvc_response(submitted_at=at(0, MONDAY + timedelta(days=40)), seconds_taken=5))  # outside period
    shares = flagged_share(store, date(2026, 3, 1), date(2026, 3, 31))
    assert [(s.unit_id, s.responses, s.flagged, s.share) for s in shares] == [
        ("so-tai-chinh", 4, 3, 75.0), ("so-tu-phap", 1, 0, 0.0)]
    assert shares[0].reasons == {"too_fast": 3} and shares[0].name == "Sở Tài chính"


def test_cli_scan_and_purge(db_path: Path, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from survey_app.cli import main

    store.submit(dvc_response(client_hash="x", seconds_taken=5))
    store.close()
    assert main(["integrity", "scan", "--db", str(db_path)]) == 0
    assert "Đã xét 1 phiếu" in capsys.readouterr().out
    assert main(["integrity", "purge-contacts", "--days", "30", "--db", str(db_path)]) == 0
    assert "Đã xóa 0" in capsys.readouterr().out
    assert main(["integrity", "hours", "--unit", "so-tai-chinh", "T2 25:00-26:00", "--db", str(db_path)]) == 2
    assert "giờ" in capsys.readouterr().err

