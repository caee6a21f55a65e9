"""Issue 14, the server: the app started directly (`streamlit run survey_app/app.py`, no proxy)
sends security headers, hides /_stcore/metrics, answers only its own host names (HTTP and
WebSocket), and keeps uploads and messages to the size of the real files."""

from __future__ import annotations

import base64
import os
import socket
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey_app.core import config
from tests.browser.conftest import LiveApp, start_app


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    live = start_app(tmp_path_factory.mktemp("server"))
    yield live
    live.stop()


def get(url: str, host: str | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}
    except urllib.error.HTTPError as refused:
        return refused.code, {k.lower(): v for k, v in refused.headers.items()}


def websocket_status(app: LiveApp, host: str) -> str:
    """The status line the server answers a WebSocket handshake with, for the given Host header."""
    port = int(app.url.rsplit(":", 1)[1])
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: http://{host}:{port}\r\n\r\n").encode())
        return sock.recv(4096).split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("path", ["/", "/_stcore/health"])
def test_answers_carry_the_security_headers(app: LiveApp, path: str) -> None:
    status, headers = get(app.url + path)
    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_metrics_are_not_served(app: LiveApp) -> None:
    assert get(app.url + "/_stcore/metrics")[0] == 404


def test_a_foreign_host_gets_no_page_and_no_websocket(app: LiveApp) -> None:
    assert get(app.url + "/", host="evil.example")[0] == 421
    assert " 101 " not in websocket_status(app, "evil.example") + " "
    assert " 101 " in websocket_status(app, "127.0.0.1") + " "  # the known host still gets one


def test_upload_and_message_limits_fit_the_real_files() -> None:
    settings = tomllib.loads((config.PROJECT_DIR / ".streamlit" / "config.toml").read_text())["server"]
    assert settings["maxUploadSize"] == config.MAX_UPLOAD_MB <= 5
    assert settings["maxMessageSize"] <= 50
    demo = Path(config.DEFAULT_UNITS_CSV).stat().st_size
    assert demo * 100 < config.MAX_UPLOAD_MB * 1024 * 1024  # a hundred times the demo province fits
