"""Cases: opened by the writer with their response, deadlines in working days, the workflow, scopes."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace
from datetime import date, datetime, timedelta

import pytest

from survey_app.admin.accounts import scope_unit_ids
from survey_app.cases import settings, workflow
from survey_app.cases.rules import (
    ANSWERED,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    Calendar,
    dissatisfied_by_item,
    due_at,
    new_code,
    normalise_code,
    opens_case,
)
from survey_app.core.config import TIMEZONE, CaseRules
from survey_app.core.i18n import Refused
from survey_app.store import Store
from tests.factories import Clock, dvc_answers, dvc_response
from tests.logins import add_user, add_wards, cheap_hashes


def complaint(**fields: object) -> dict[str, object]:
    return dvc_response(answers=dvc_answers(4, CC1=1, HL=2), comment="Cán bộ không hướng dẫn, phải đi lại 3 lần.",
                        **fields)


def case_count(store: Store) -> int:
    return store.query("SELECT count(*) FROM cases")[0][0]


# -- opening ---------------------------------------------------------------------------------------

def test_a_dissatisfied_response_with_a_comment_opens_one_case_with_its_audit_row(store: Store) -> None:
    result = store.submit(complaint())
    rows = store.query("SELECT unit_id, status, code, due_at > opened_at FROM cases WHERE response_id = ?",
                       [result.response_id])
    assert len(rows) == 1
    unit_id, status, code, later = rows[0]
    assert (unit_id, status, later) == ("so-tai-chinh", OPEN, True)
    assert normalise_code(code) == code
    assert workflow.case_of_response(store, result.response_id).code == code  # type: ignore[union-attr]
    assert store.query("SELECT count(*) FROM audit_log WHERE action = 'case.open'")[0][0] == 1


def test_satisfied_or_silent_responses_open_none(store: Store) -> None:
    store.submit(dvc_response())  # satisfied, with a comment
    store.submit(dvc_response(answers=dvc_answers(4, CC1=1), comment=None))  # dissatisfied, nothing to answer
    assert case_count(store) == 0
    store.submit(dvc_response(answers=dvc_answers(4, CC1=2), comment=None, contact={"phone": "0912345678",
                                                                                      "consent": True}))
    assert case_count(store) == 1


def test_a_retried_submit_opens_no_second_case(store: Store) -> None:
    response = complaint()
    first = store.submit(response)
    again = store.submit(response)
    assert again.duplicate and not first.duplicate
    assert case_count(store) == 1


def test_sixteen_concurrent_writers_open_exactly_one_case_per_complaint(store: Store) -> None:
    complaints = [complaint() for _ in range(40)]
    satisfied = [dvc_response() for _ in range(40)]
    work = [r for pair in zip(complaints, satisfied, strict=True) for r in pair] * 2  # every one sent twice
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(store.submit, work))
    counts = store.query("SELECT count(*), count(DISTINCT response_id), count(DISTINCT code) FROM cases")[0]
    assert counts == (40, 40, 40)
    opened = {str(r[0]) for r in store.query("SELECT response_id FROM cases")}
    assert opened == {c["response_id"] for c in complaints}


def test_the_rules_an_admin_sets_decide_what_opens_a_case(store: Store) -> None:
    settings.save_rules(store, "admin", CaseRules(items="overall", needs="none"), {})
    store.submit(dvc_response(answers=dvc_answers(4, CC1=1), comment="x"))  # only an item: not under "overall"
    assert case_count(store) == 0
    store.submit(dvc_response(answers=dvc_answers(4, HL=1), comment=None))
    assert case_count(store) == 1
    with pytest.raises(Refused):
        settings.save_rules(store, "admin", CaseRules(deadline_days=-1), {})


@pytest.mark.parametrize(("answers", "comment", "contact", "opens"), [
    ({"CC1": 2}, True, False, True),
    ({"CC1": 3}, True, False, False),
    ({"CC1": None}, True, False, False),
    ({"HL": 1}, False, True, True),
    ({"HL": 1}, False, False, False),
])
def test_opens_case(store: Store, answers: dict[str, int | None], comment: bool, contact: bool, opens: bool) -> None:
    dissatisfied = dissatisfied_by_item(store.instruments["sipas-dvc"], CaseRules())
    assert opens_case(answers.items(), dissatisfied, has_comment=comment, has_contact=contact,
                      rules=CaseRules()) is opens


def test_on_a_three_face_scale_only_the_unhappy_face_is_dissatisfied(store: Store) -> None:
    quick = store.instruments["nhanh-3"]
    assert dissatisfied_by_item(quick, CaseRules()) == {"HL1": frozenset({1})}  # 2 is "Hài lòng" there
    assert dissatisfied_by_item(quick, CaseRules(items="overall")) == {"HL1": frozenset({1})}
    assert set(dissatisfied_by_item(store.instruments["sipas-dvc"], CaseRules(items="overall"))) == {"HL"}
    settings.save_rules(store, "admin", CaseRules(needs="none"), {})  # the rating alone decides
    for value, cases in ((3, 0), (2, 0), (1, 1)):
        store.submit(dvc_response(instrument_id="nhanh-3", answers={"HL1": value}, choices={}, stage=None,
                                  comment=None))
        assert case_count(store) == cases


# -- deadlines -------------------------------------------------------------------------------------

def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TIMEZONE)


def test_working_days_skip_the_weekend() -> None:
    # Friday 2026-11-06 + 1 working day → Monday 11-09; + 5 → Friday 11-13.
    assert due_at(at("2026-11-06"), 1, Calendar()).date() == date(2026, 11, 9)
    assert due_at(at("2026-11-06"), 5, Calendar()).date() == date(2026, 11, 13)
    assert due_at(at("2026-11-07"), 1, Calendar()).date() == date(2026, 11, 9)  # opened on a Saturday


def test_working_days_skip_holidays_fixed_and_entered() -> None:
    # Tuesday 2026-04-28 + 2: 29th, then 30/4 and 1/5 (fixed), the weekend → Monday 05-04.
    assert due_at(at("2026-04-28"), 2, Calendar()).date() == date(2026, 5, 4)
    tet = frozenset(date(2027, 2, d) for d in range(5, 12))
    assert due_at(at("2027-02-04"), 1, Calendar(tet)).date() == date(2027, 2, 12)
    due = due_at(at("2026-11-06", 16), 1, Calendar())
    assert (due.hour, due.minute, due.tzinfo) == (23, 59, TIMEZONE)


def test_codes_are_unique_enough_and_read_as_typed() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    code = next(iter(codes))
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code("0000000000") is None and normalise_code("short") is None


# -- workflow --------------------------------------------------------------------------------------

@pytest.fixture
def people(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    cheap_hashes(monkeypatch)
    add_wards(store)
    add_user(store, "cb-dichvong", "staff", "p-dich-vong")
    add_user(store, "ld-caugiay", "leader", "q-cau-giay")
    add_user(store, "ld-badinh", "leader", "q-ba-dinh")
    add_user(store, "ld-thanhpho", "leader")
    return store


def open_case(store: Store, unit_id: str) -> workflow.Case:
    result = store.submit(complaint(unit_id=unit_id, counter_id=None))
    case = next(c for c in workflow.list_cases(store, None) if str(c.response_id) == result.response_id)
    return case


def test_assign_reply_close_reopen_each_in_the_audit_log(people: Store) -> None:
    from survey_app.admin.accounts import get_user

    staff = get_user(people, "cb-dichvong")
    assert staff is not None
    scope = scope_unit_ids(people, staff)
    case = open_case(people, "p-dich-vong")
    with pytest.raises(Refused):
        workflow.close(people, staff, scope, case.case_id)  # not answered yet
    with pytest.raises(Refused):
        workflow.assign(people, staff, scope, case.case_id, "ld-badinh")  # another district's leader
    workflow.assign(people, staff, scope, case.case_id, "cb-dichvong")
    assert workflow.get_case(people, case.case_id, scope).status == IN_PROGRESS  # type: ignore[union-attr]
    with pytest.raises(Refused):
        workflow.reply(people, staff, scope, case.case_id, "   ")
    workflow.reply(people, staff, scope, case.case_id, "Đơn vị đã nhắc nhở cán bộ và xin lỗi Ông/Bà.")
    public = workflow.public_case(people, case.code.lower())
    assert public == workflow.PublicCase(ANSWERED, "Đơn vị đã nhắc nhở cán bộ và xin lỗi Ông/Bà.", public.replied_at)
    workflow.close(people, staff, scope, case.case_id)
    workflow.reopen(people, staff, scope, case.case_id, "người dân chưa đồng ý")
    assert workflow.public_case(people, case.code) == workflow.PublicCase(IN_PROGRESS, None, None)
    actions = [e.action for e in workflow.case_detail(people, case.case_id, scope).history]  # type: ignore[union-attr]
    assert actions == ["case.open", "case.assign", "case.reply", "case.close", "case.reopen"]


def test_the_public_view_holds_only_status_and_reply(people: Store) -> None:
    case = open_case(people, "p-dich-vong")
    assert [f.name for f in fields(workflow.PublicCase)] == ["status", "reply", "replied_at"]
    assert workflow.public_case(people, case.code) == workflow.PublicCase(OPEN, None, None)
    assert workflow.public_case(people, new_code()) is None
    assert workflow.public_case(people, "' OR 1=1 --") is None


def test_a_leader_sees_and_touches_only_their_scope(people: Store) -> None:
    from survey_app.admin.accounts import get_user

    mine, theirs = open_case(people, "p-yen-hoa"), open_case(people, "p-kim-ma")
    leader = get_user(people, "ld-caugiay")
    assert leader is not None
    scope = scope_unit_ids(people, leader)
    assert [c.case_id for c in workflow.list_cases(people, scope)] == [mine.case_id]
    assert workflow.case_detail(people, theirs.case_id, scope) is None
    with pytest.raises(Refused):
        workflow.reply(people, leader, scope, theirs.case_id, "Không phải việc của tôi")
    detail = workflow.case_detail(people, mine.case_id, scope)
    assert detail is not None and detail.comment and ("CC1", detail.ratings[8][1], 1) == detail.ratings[8]
    assert "client_hash" not in {f.name for f in fields(workflow.CaseDetail)}


def test_overdue_cases_escalate_once_to_the_parent_units_leaders(people: Store) -> None:
    ward, top = open_case(people, "p-dich-vong"), open_case(people, "q-ba-dinh")
    later = ward.due_at + timedelta(minutes=1)
    assert workflow.escalate_overdue(people, ward.opened_at) == []
    found = {e.unit_id: e for e in workflow.escalate_overdue(people, later)}
    assert found["p-dich-vong"].escalated_to == "q-cau-giay"
    assert found["p-dich-vong"].leaders == ("ld-caugiay",)
    assert found["q-ba-dinh"].escalated_to is None and found["q-ba-dinh"].leaders == ("ld-thanhpho",)
    assert workflow.escalate_overdue(people, later) == []  # once
    overdue = workflow.list_cases(people, None, overdue=True, at=later)
    assert {c.case_id for c in overdue} == {ward.case_id, top.case_id}
    assert people.query("SELECT count(*) FROM audit_log WHERE action = 'case.escalate'")[0][0] == 2


def test_overdue_cases_come_first(people: Store, clock: Clock) -> None:
    early, late = open_case(people, "p-dich-vong"), open_case(people, "p-yen-hoa")
    people.write(lambda con: con.execute("UPDATE cases SET due_at = due_at - INTERVAL 30 DAY WHERE case_id = ?",
                                         [late.case_id]))
    assert [c.case_id for c in workflow.list_cases(people, None)] == [late.case_id, early.case_id]
    assert replace(late, status=CLOSED).overdue(clock.moment) is False


def test_holidays_entered_by_an_admin_move_the_deadline(store: Store, clock: Clock) -> None:
    today = clock.today()
    days = {today + timedelta(days=d): "Nghỉ bù" for d in range(1, 15)}
    settings.save_rules(store, "admin", CaseRules(deadline_days=1), days)
    assert settings.current_rules(store)[1] == days
    result = store.submit(complaint())
    due = store.query("SELECT due_at FROM cases WHERE response_id = ?", [result.response_id])[0][0]
    assert due.astimezone(TIMEZONE).date() > today + timedelta(days=14)
    with pytest.raises(Refused):
        settings.parse_holidays("17/02/2026 Tết")
    assert settings.parse_holidays("2026-02-17 Tết\n\n2026-02-18") == {date(2026, 2, 17): "Tết",
                                                                        date(2026, 2, 18): "Nghỉ lễ"}


def test_an_unknown_case_id_is_not_found(people: Store) -> None:
    assert workflow.get_case(people, uuid.uuid4(), None) is None


# -- command line ----------------------------------------------------------------------------------

def test_cases_list_and_escalate_on_the_command_line(db_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from survey_app.cli import main
    from survey_app.store import open_store

    assert main(["init", "--db", str(db_path)]) == 0
    with open_store(db_path) as opened:  # type: ignore[arg-type]
        kept = opened.submit(complaint())
        opened.submit(complaint(unit_id="q-ba-dinh", counter_id=None))
        opened.write(lambda con: con.execute(
            "UPDATE cases SET due_at = opened_at - INTERVAL 1 DAY WHERE response_id = ?", [kept.response_id]))
    capsys.readouterr()
    assert main(["cases", "list", "--db", str(db_path), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["overdue"] for c in listed] == [True, False]
    assert set(listed[0]) == {"case_id", "code", "response_id", "unit_id", "status", "opened_at", "due_at", "overdue"}
    assert listed[0]["response_id"] == kept.response_id
    assert main(["cases", "list", "--db", str(db_path), "--overdue", "--unit", "so-tai-chinh"]) == 0
    assert "1 phản ánh" in capsys.readouterr().out
    assert main(["cases", "escalate", "--db", str(db_path)]) == 0
    assert "Đã chuyển 1 phản ánh" in capsys.readouterr().out


def test_demo_data_has_cases_in_every_state(store: Store) -> None:
    from survey_app.demo.generate import generate_demo

    summary = generate_demo(store, responses=6000, seed=3, days=30)
    statuses = dict(store.query("SELECT status, count(*) FROM cases GROUP BY status"))
    assert summary.cases == sum(statuses.values()) > 50
    assert set(statuses) == {OPEN, IN_PROGRESS, ANSWERED, CLOSED}
    # Every case belongs to a dissatisfied response with a comment, and answers come after the opening.
    assert store.query(
        "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM comments m WHERE m.response_id = c.response_id)"
        " OR NOT EXISTS (SELECT 1 FROM answers a WHERE a.response_id = c.response_id AND a.value <= 2)"
        " OR c.replied_at < c.opened_at OR c.closed_at < c.replied_at")[0][0] == 0
    late = store.query("SELECT count(*) FILTER (WHERE replied_at > due_at), count(*) FILTER (WHERE due_at < now()"
                       " AND status IN ('mo', 'dang_xu_ly')) FROM cases")[0]
    assert late[0] > 0 and late[1] > 0  # some answered late, some overdue: the scorecard has something to say
