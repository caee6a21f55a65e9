"""Accounts: passwords, throttling, scope of leaders, the audit trail, and the users commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from logins import PASSWORD, add_user, add_wards, cheap_hashes

from survey_app.admin import accounts, audit
from survey_app.admin.accounts import LoginFailed
from survey_app.cli import main
from survey_app.core import config
from survey_app.core.i18n import Refused
from survey_app.store import Store, open_store


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_hashes(monkeypatch)


def test_password_shorter_than_ten_characters_is_refused(store: Store) -> None:
    with pytest.raises(Refused) as refused:
        accounts.create_user(store, "test", "lan", "staff", "123456789", unit_id="so-tu-phap")
    assert "ít nhất 10 ký tự" in refused.value.message()
    assert accounts.count_users(store) == 0
    add_user(store, "lan", "staff", "so-tu-phap")
    with pytest.raises(Refused):
        accounts.set_password(store, "test", "lan", "ngắn")


def test_right_password_logs_in_and_is_recorded(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    user = accounts.authenticate(store, " Lan ", PASSWORD)
    assert (user.username, user.role, user.unit_id) == ("lan", "staff", "so-tu-phap")
    assert user.last_login_at is not None
    assert [e.action for e in audit.read(store, actor="lan")] == ["login"]


def test_stored_hash_is_argon2id_never_the_password(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    (stored,), = store.query("SELECT password_hash FROM users WHERE username = 'lan'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_success_resets_the_count_of_failures(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    for _ in range(accounts.FREE_TRIES - 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate(store, "lan", "sai-mat-khau")
    accounts.authenticate(store, "lan", PASSWORD)
    assert store.query("SELECT count(*) FROM login_throttle WHERE username = 'lan'") == [(0,)]


def test_admin_reset_lifts_the_delay(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    for _ in range(accounts.FREE_TRIES + 1):
        with pytest.raises(LoginFailed):
            accounts.authenticate(store, "lan", "sai-mat-khau")
    accounts.set_password(store, "admin", "lan", "mat-khau-moi-2026")
    assert accounts.authenticate(store, "lan", "mat-khau-moi-2026").username == "lan"


@pytest.mark.parametrize("name", ["khong-co", "lan-inactive"])
def test_unknown_and_inactive_accounts_fail_alike(store: Store, name: str) -> None:
    add_user(store, "root-admin", "admin")
    add_user(store, "lan-inactive", "staff", "so-tu-phap")
    accounts.update_user(store, "root-admin", "lan-inactive", role="staff", unit_id="so-tu-phap", email=None,
                         active=False)
    with pytest.raises(LoginFailed) as failed:
        accounts.authenticate(store, name, PASSWORD)
    assert failed.value.reason == "bad_credentials"


def test_leader_scope_is_the_district_and_its_wards(store: Store) -> None:
    add_wards(store)
    district = add_user(store, "cau-giay", "leader", "q-cau-giay")
    city = add_user(store, "thanh-pho", "leader")
    admin = add_user(store, "quan-tri", "admin")
    staff = add_user(store, "lan", "staff", "p-dich-vong")
    assert accounts.scope_unit_ids(store, district) == {"q-cau-giay", "p-dich-vong", "p-yen-hoa"}
    assert accounts.scope_unit_ids(store, city) is None
    assert accounts.scope_unit_ids(store, admin) is None
    assert accounts.scope_unit_ids(store, staff) == {"p-dich-vong"}


def test_last_active_admin_cannot_be_deactivated_or_demoted(store: Store) -> None:
    add_user(store, "quan-tri", "admin")
    for change in ({"role": "leader", "active": True}, {"role": "admin", "active": False}):
        with pytest.raises(Refused, match="quản trị viên cuối cùng"):
            accounts.update_user(store, "quan-tri", "quan-tri", unit_id=None, email=None, **change)
    add_user(store, "quan-tri-2", "admin")
    accounts.update_user(store, "quan-tri-2", "quan-tri", role="leader", unit_id=None, email=None, active=True)
    assert accounts.get_user(store, "quan-tri").role == "leader"


def test_each_account_change_writes_an_audit_row(store: Store) -> None:
    add_user(store, "quan-tri", "admin")
    accounts.create_user(store, "quan-tri", "lan", "staff", PASSWORD, unit_id="so-tu-phap")
    changed = accounts.update_user(store, "quan-tri", "lan", role="leader", unit_id="q-cau-giay",
                                   email="lan@hanoi.gov.vn", active=False)
    accounts.set_password(store, "quan-tri", "lan", "mat-khau-moi-2026")
    assert changed == 3
    rows = [(e.actor, e.action, e.target) for e in audit.read(store, actor="quan-tri")]
    assert sorted(rows) == sorted([
        ("quan-tri", "user.add", "lan"), ("quan-tri", "user.role", "lan"), ("quan-tri", "user.email", "lan"),
        ("quan-tri", "user.deactivate", "lan"), ("quan-tri", "user.password", "lan")])


def test_taken_name_and_staff_without_unit_are_refused(store: Store) -> None:
    add_user(store, "lan", "staff", "so-tu-phap")
    with pytest.raises(Refused, match="đã có"):
        add_user(store, "LAN", "leader")
    with pytest.raises(Refused, match="phải thuộc một đơn vị"):
        add_user(store, "minh", "staff")
    with pytest.raises(Refused, match="đơn vị đang hoạt động"):
        add_user(store, "minh", "staff", "khong-co")
    assert accounts.count_users(store) == 1


def test_own_password_change_needs_the_current_one(store: Store) -> None:
    user = add_user(store, "lan", "staff", "so-tu-phap")
    with pytest.raises(Refused, match="hiện tại không đúng"):
        accounts.change_own_password(store, user, "doan-sai-roi", "mat-khau-moi-2026")
    accounts.change_own_password(store, user, PASSWORD, "mat-khau-moi-2026")
    assert accounts.authenticate(store, "lan", "mat-khau-moi-2026")


def test_sso_email_maps_to_its_active_account(store: Store) -> None:
    add_user(store, "quan-tri", "admin")
    add_user(store, "lan", "staff", "so-tu-phap")
    accounts.update_user(store, "quan-tri", "lan", role="staff", unit_id="so-tu-phap", email="Lan@HaNoi.gov.vn",
                         active=True)
    assert accounts.user_by_email(store, "lan@hanoi.gov.vn").username == "lan"
    assert accounts.user_by_email(store, "ai-do@hanoi.gov.vn") is None


# -- the command line ------------------------------------------------------------------------------

def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "survey_app", *args], input=stdin, capture_output=True, text=True,
                          timeout=120)


def test_init_names_the_first_admin_and_keeps_its_password_out_of_the_logs(
        db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    assert main(["init", "--db", str(db_path), "--admin", "quan-tri"]) == 0
    said = capsys.readouterr().out
    secret = tmp_path / "data" / accounts.FIRST_PASSWORD_FILE
    password = secret.read_text().strip()
    assert str(secret) in said and password not in said  # where it is, never what it is
    assert oct(secret.stat().st_mode & 0o777) == "0o600"
    assert main(["init", "--db", str(db_path)]) == 0
    assert "quan-tri" not in capsys.readouterr().out and secret.read_text().strip() == password
    with open_store(db_path) as store:
        assert accounts.authenticate(store, "quan-tri", password).role == "admin"
        assert accounts.count_users(store) == 1


def test_users_add_generates_a_password_or_reads_stdin(db_path: Path) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    done = run("users", "add", "lan", "--role", "staff", "--unit", "so-tu-phap", "--db", str(db_path))
    assert done.returncode == 0, done.stderr
    generated = done.stdout.rsplit(": ", 1)[1].strip()
    done = run("users", "add", "hung", "--role", "leader", "--password-stdin", "--db", str(db_path),
               stdin="mat-khau-cua-hung\n")
    assert done.returncode == 0 and "mat-khau-cua-hung" not in done.stdout
    with open_store(db_path) as store:
        assert accounts.authenticate(store, "lan", generated).unit_id == "so-tu-phap"
        assert accounts.authenticate(store, "hung", "mat-khau-cua-hung").unit_id is None
        assert {e.action for e in audit.read(store)} >= {"user.add"}


def test_users_add_with_a_short_password_says_so_in_one_line(db_path: Path) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    done = run("users", "add", "hung", "--role", "leader", "--password-stdin", "--db", str(db_path), stdin="ngan\n")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "ít nhất 10 ký tự" in done.stderr
