"""E-mail: digests and scorecards sent to a local SMTP server (aiosmtpd) and read back as they arrived."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from factories import add, at, dvc_answers, dvc_response
from logins import add_user, add_wards, cheap_hashes

from survey_app.admin.accounts import get_user, update_user
from survey_app.cases import mail, scheduler
from survey_app.core import clock
from survey_app.core.config import TIMEZONE
from survey_app.store import Store


class Inbox:
    """aiosmtpd handler: every message that arrives, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[attr-defined]
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SIPAS_SMTP_URL", f"smtp://127.0.0.1:{port}?from=sipas@hanoi.test")
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def leaders(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Leaders of Cầu Giấy and Ba Đình with e-mail, one without; a complaint at a ward of each."""
    cheap_hashes(monkeypatch)
    add_wards(store)
    for name, unit, address in (("ld-caugiay", "q-cau-giay", "caugiay@hanoi.test"),
                                ("ld-badinh", "q-ba-dinh", "badinh@hanoi.test"), ("ld-khong", "q-tay-ho", None)):
        add_user(store, name, "leader", unit)
        update_user(store, "test", name, role="leader", unit_id=unit, email=address, active=True)
    for unit in ("p-dich-vong", "p-kim-ma"):
        store.submit(dvc_response(unit_id=unit, counter_id=None, answers=dvc_answers(4, HL=1), comment="Chờ quá lâu"))
    return store


def test_the_daily_digest_reaches_each_leader_once_with_their_scope_only(leaders: Store, inbox: Inbox) -> None:
    now = clock.now()
    assert mail.send_digests(leaders, mail.smtp_settings(), now) == 2  # type: ignore[arg-type]
    caugiay, badinh = inbox.to("caugiay@hanoi.test"), inbox.to("badinh@hanoi.test")
    assert len(caugiay) == 1 and len(badinh) == 1
    body = caugiay[0].get_payload(decode=True).decode()
    assert "p-dich-vong" in body and "p-kim-ma" not in body and "1 mới" in caugiay[0]["Subject"]
    assert mail.send_digests(leaders, mail.smtp_settings(), now) == 0  # type: ignore[arg-type]
    assert len(inbox.messages) == 2
    logged = leaders.query("SELECT recipient, address, ok FROM email_log WHERE kind = 'digest' ORDER BY recipient")
    assert logged == [("ld-badinh", "badinh@hanoi.test", True), ("ld-caugiay", "caugiay@hanoi.test", True)]


def test_a_failed_send_is_recorded_and_tried_again(leaders: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    assert mail.send_digests(leaders, mail.smtp_settings(), clock.now()) == 0  # type: ignore[arg-type]
    assert leaders.query("SELECT count(*), bool_or(ok) FROM email_log")[0] == (2, False)
    assert mail.already_sent(leaders, mail.DIGEST, f"{clock.now():%Y-%m-%d}") == set()


def test_scorecards_go_out_once_a_month(leaders: Store, inbox: Inbox) -> None:
    add(leaders, [dvc_response("q-cau-giay", dvc_answers(4, pa=4), when=at(2026, 11, d), counter_id="quay-1")
                  for d in range(2, 20)])
    december = at(2026, 12, 1, 8)
    assert mail.send_scorecards(leaders, mail.smtp_settings(), december) == 2  # type: ignore[arg-type]
    message = inbox.to("caugiay@hanoi.test")[0]
    names = sorted(part.get_filename() for part in message.walk() if part.get_filename())
    assert names == ["phieu-2026-11-q-cau-giay.pdf", "tong-hop-2026-11.xlsx"]
    pdf = next(p for p in message.walk() if p.get_filename() == names[0]).get_payload(decode=True)
    assert pdf.startswith(b"%PDF")
    assert mail.send_scorecards(leaders, mail.smtp_settings(), december + timedelta(days=3)) == 0  # type: ignore[arg-type]


def test_the_scheduler_runs_once_per_process_escalates_and_mails(leaders: Store, inbox: Inbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_SCHEDULER_SECONDS", "3600")
    monkeypatch.setenv("SIPAS_DIGEST_HOUR", "0")
    leaders.write(lambda con: con.execute("UPDATE cases SET due_at = opened_at - INTERVAL 1 HOUR"))
    running = scheduler.start(leaders)
    try:
        assert scheduler.start(leaders) is running  # a second session of the app starts nothing
        deadline = time.monotonic() + 60
        while (running is not None and running.ticks == 0) and time.monotonic() < deadline:
            running.stopped.wait(0.1)  # the first round runs at once; wait for it, not a fixed time
        assert running is not None and running.ticks == 1
    finally:
        assert running is not None
        running.stop()
    assert leaders.query("SELECT count(*) FROM cases WHERE escalated_at IS NOT NULL")[0][0] == 2
    digest = inbox.to("caugiay@hanoi.test")[0]
    assert "1 quá hạn" in digest["Subject"]
    assert "đã chuyển lên đơn vị" in digest.get_payload(decode=True).decode()


def test_no_smtp_url_sends_nothing(leaders: Store) -> None:
    done = scheduler.tick(leaders, clock.now().astimezone(TIMEZONE))
    assert (done.digests, done.scorecards) == (0, 0)
    assert leaders.query("SELECT count(*) FROM email_log")[0][0] == 0
    assert get_user(leaders, "ld-khong") is not None


def test_smtp_url_forms() -> None:
    parsed = mail.parse_smtp_url("smtp://u%40x:p%2Fw@mail.hanoi.gov.vn:587?from=sipas@hanoi.gov.vn&starttls=1")
    assert parsed == mail.SmtpSettings("mail.hanoi.gov.vn", 587, "sipas@hanoi.gov.vn", "u@x", "p/w", "starttls")
    assert mail.parse_smtp_url("smtps://mail.test").port == 465
    with pytest.raises(ValueError):
        mail.parse_smtp_url("http://mail.test")
