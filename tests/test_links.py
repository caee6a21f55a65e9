"""Signed survey links: round trips, refusals with the right reason, key files and rotation, the CLI."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest

from survey_app.admin.units import list_units
from survey_app.cli import main
from survey_app.collection import links
from survey_app.core import config
from survey_app.core.keys import current_key_version, load_keys, rotate_keys
from survey_app.db.store import Store


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test signs with its own key file, never the developer's data/secret.key."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "keys")
    monkeypatch.delenv("SIPAS_SECRET", raising=False)
    monkeypatch.delenv("SIPAS_BASE_URL", raising=False)
    return tmp_path / "keys"


def reason(token: str) -> str:
    with pytest.raises(links.BadLink) as refused:
        links.verify_token(token)
    return refused.value.reason


def test_token_round_trips_every_field() -> None:
    for counter, channel in (("quay-1", "qr"), (None, "kiosk")):
        token = links.make_token("q-hai-ba-trung", counter, "nhanh-3", channel)
        assert links.verify_token(token) == links.LinkTarget("q-hai-ba-trung", counter, "nhanh-3", channel, 1)


def test_tokens_are_short_enough_for_a_small_code(store: Store) -> None:
    for unit in list_units(store):
        token = links.make_token(unit.unit_id, "quay-1", "sipas-dvc")
        # 3 header bytes + 3 length bytes + the ids + a 12-byte MAC, base64url: 63 chars for the longest id
        assert len(token) <= 64, token
        assert token.isascii() and "=" not in token


def test_survey_url_names_the_token_and_embed_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert links.survey_url("abc") == "http://localhost:8501/?k=abc&embed=true"
    monkeypatch.setenv("SIPAS_BASE_URL", "https://sipas.hanoi.gov.vn/")
    assert links.survey_url("abc") == "https://sipas.hanoi.gov.vn/?k=abc&embed=true"
    assert links.survey_url("abc", "http://x:1/") == "http://x:1/?k=abc&embed=true"


def test_key_file_is_created_private_on_first_use(key_dir: Path) -> None:
    links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    key_file = key_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_keys() == load_keys()  # created once, then read back


def test_altered_tokens_are_refused_at_every_position() -> None:
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    for i, char in enumerate(token):
        altered = token[:i] + ("B" if char == "A" else "A") + token[i + 1:]
        assert reason(altered) in {"malformed", "forged"}, i
    # a well-formed token naming another unit, with the original signature: a forgery
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    other = raw.replace(b"so-tu-phap", b"so-tu-phaq")
    assert reason(base64.urlsafe_b64encode(other).decode().rstrip("=")) == "forged"


def test_a_token_signed_with_another_key_is_forged(key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", key_dir / "elsewhere")
    foreign = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    monkeypatch.setattr(config, "DATA_DIR", key_dir)
    assert reason(foreign) == "forged"


def test_truncated_tokens_are_malformed() -> None:
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    for cut in range(len(token)):
        assert reason(token[:cut]) == "malformed", cut


@pytest.mark.parametrize("junk", ["", "k", "not a token!", "%%%%%%%%%%", "A" * 60, "Zm9v" * 200])
def test_junk_is_malformed(junk: str) -> None:
    assert reason(junk) == "malformed"


def test_rotation_revokes_old_tokens_and_keeps_new_ones_valid() -> None:
    old = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    assert rotate_keys() == 2
    assert reason(old) == "revoked"
    new = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    assert links.verify_token(new).key_version == 2 == current_key_version()
    rotate_keys()
    assert reason(new) == "revoked"


def test_sipas_secret_signs_without_a_key_file(key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPAS_SECRET", "a long shared secret for every app server")
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    assert links.verify_token(token).unit_id == "so-tu-phap"
    assert not (key_dir / "secret.key").exists()
    rotate_keys()  # the key file then records only which version is current
    assert reason(token) == "revoked"
    fresh = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    monkeypatch.setenv("SIPAS_SECRET", "another secret")
    assert reason(fresh) == "forged"


def test_refusals_speak_vietnamese_first_and_log_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    rotate_keys()
    with (caplog.at_level(logging.WARNING, logger="survey_app.collection.links"),
          pytest.raises(links.BadLink) as refused):
        links.verify_token(token)
    assert refused.value.message().startswith("Mã QR này đã hết hiệu lực")
    assert "no longer valid" in refused.value.message("en")
    assert "reason=revoked" in caplog.text and "so-tu-phap" in caplog.text
    assert token not in caplog.text and token[:20] not in caplog.text


def test_resolve_link_refuses_places_that_do_not_take_ratings(store: Store) -> None:
    assert links.resolve_link(store, links.make_token("so-tu-phap", "quay-1", "sipas-dvc")).unit_id == "so-tu-phap"
    store.write(lambda con: con.execute("UPDATE units SET active = FALSE WHERE unit_id = 'so-noi-vu'"))
    store.write(lambda con: con.execute("UPDATE counters SET active = FALSE WHERE unit_id = 'so-xay-dung'"))
    for unit, counter, instrument in [("so-khong-co", "quay-1", "sipas-dvc"), ("so-noi-vu", "quay-1", "sipas-dvc"),
                                      ("so-xay-dung", "quay-1", "sipas-dvc"), ("so-tu-phap", "quay-9", "sipas-dvc"),
                                      ("so-tu-phap", "quay-1", "khong-co")]:
        with pytest.raises(links.BadLink) as refused:
            links.resolve_link(store, links.make_token(unit, counter, instrument))
        assert refused.value.reason == "unknown_place", (unit, counter, instrument)


def test_tree_links_follow_parent_units(store: Store) -> None:
    store.write(lambda con: con.execute("UPDATE units SET parent_id = 'so-tu-phap' WHERE unit_id = 'so-noi-vu'"))
    tree = links.tree_links(store, "sipas-dvc", root="so-tu-phap")
    assert [(p.unit_id, p.counter_id) for p in tree] == [("so-noi-vu", "quay-1"), ("so-tu-phap", "quay-1")]
    with pytest.raises(links.UnknownPlace):
        links.tree_links(store, "sipas-dvc", root="so-khong-co")


def test_cli_link_prints_a_verified_url(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    capsys.readouterr()
    assert main(["link", "--db", str(db_path), "--unit", "q-ba-dinh", "--counter", "quay-1", "--kiosk",
                 "--instrument", "nhanh-3", "--base-url", "https://sipas.example.vn"]) == 0
    url = capsys.readouterr().out.strip()
    assert url.startswith("https://sipas.example.vn/?k=") and url.endswith("&embed=true")
    token = url.split("k=")[1].split("&")[0]
    assert links.verify_token(token) == links.LinkTarget("q-ba-dinh", "quay-1", "nhanh-3", "kiosk", 1)


def test_cli_link_for_larger_text_keeps_the_token(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    capsys.readouterr()
    place = ["link", "--db", str(db_path), "--unit", "q-ba-dinh", "--kiosk"]
    assert main(place) == 0
    plain = capsys.readouterr().out.strip()
    assert main([*place, "--large"]) == 0
    large = capsys.readouterr().out.strip()
    assert large == plain + "&large=1"
    assert links.token_from_link(large) == links.token_from_link(plain)


def test_cli_link_refuses_an_unknown_place_in_one_line(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--db", str(db_path)]) == 0
    assert main(["link", "--db", str(db_path), "--unit", "so-khong-co"]) == 2
    assert main(["link", "--db", str(db_path), "--unit", "so-tu-phap", "--instrument", "khong-co"]) == 2
    err = capsys.readouterr().err
    assert "so-khong-co" in err and "khong-co" in err and "Traceback" not in err


def test_cli_keys_rotate_revokes_printed_links(capsys: pytest.CaptureFixture[str]) -> None:
    old = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    assert main(["keys", "rotate"]) == 0
    assert "phiên bản 2" in capsys.readouterr().out
    assert reason(old) == "revoked"
