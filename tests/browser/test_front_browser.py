"""The production front (survey_app.front): Debian's nginx on a free local port in front of the real app.

A citizen's phone gets the form with gzip-compressed static files served by nginx, and the submission
is stored; the metrics endpoint is not served, the security headers are on every answer, oversized
bodies and foreign host names are refused.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response

from survey_app import front
from survey_app.core import config

from .conftest import LiveApp, open_app, rerun, start_app
from .test_form_browser import stored, survey_link

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def static_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("front-static")  # compressed once for the module's tests


@pytest.fixture
def served(tmp_path: Path, static_cache: Path) -> Iterator[tuple[LiveApp, front.Nginx]]:
    if not Path(front.NGINX).exists():
        pytest.fail(f"{front.NGINX} is missing: run scripts/test.sh, which installs Debian's nginx")
    app = start_app(tmp_path)
    try:
        nginx = front.start_front([int(app.url.rsplit(":", 1)[1])], tmp_path / "front", static_cache=static_cache)
    except Exception:
        app.stop()
        raise
    yield app, nginx
    nginx.stop()
    app.stop()


def ask(nginx: front.Nginx, method: str, path: str, host: str | None = None,
        headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", nginx.plan.port, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", host or f"{nginx.plan.host}:{nginx.plan.port}")
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders()
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def test_a_citizen_answers_through_the_front_with_compressed_static_files(
        served: tuple[LiveApp, front.Nginx], phone: Page) -> None:
    app, nginx = served
    scripts: list[Response] = []
    phone.on("response", lambda r: scripts.append(r) if "/static/js/" in r.url else None)
    # A fresh app's first run imports every page: more time than later runs.
    open_app(phone, survey_link(app, "h-ba-vi", "quay-1", "nhanh-3", base_url=nginx.url), timeout_ms=60_000)
    with rerun(phone):  # nhanh-3 has no st.form: the face reruns the form
        phone.locator(".st-key-r_HL1").get_by_role("radio", name="Hài lòng", exact=True).tap()
    with rerun(phone):
        phone.get_by_role("button", name="Gửi đánh giá").tap()
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    big = [r for r in scripts if len(r.body()) > 1024]  # a few hundred bytes are not worth compressing
    assert len(big) > 10, "the scripts were not loaded through the front"
    for response in big:
        headers = response.all_headers()
        assert headers.get("content-encoding") == "gzip", response.url
        assert "immutable" in headers.get("cache-control", ""), response.url
    assert all(r.all_headers().get("server") == "nginx" for r in scripts)  # the app sends none
    nginx.stop()
    assert stored(app, "SELECT unit_id, instrument_id FROM responses") == [("h-ba-vi", "nhanh-3")]


def test_the_front_hides_metrics_adds_headers_and_refuses_foreign_hosts_and_big_bodies(
        served: tuple[LiveApp, front.Nginx]) -> None:
    nginx = served[1]
    assert ask(nginx, "GET", "/_stcore/metrics").status == 404
    assert ask(nginx, "GET", "/_stcore/agent/openapi.json").status == 404
    for path in ("/?k=x", "/_stcore/health", "/static/css/does-not-exist.css"):
        answer = ask(nginx, "GET", path)
        for name, value in front.SECURITY_HEADERS.items():
            assert answer.getheader(name) == value, (path, name)
    assert ask(nginx, "GET", "/_stcore/health").status == 200
    # The app's own answer to a foreign host would be 200: the front closes the connection instead.
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        ask(nginx, "GET", "/", host="sipas.evil.example")
    too_big = {"Content-Length": str(64 * 2**20), "Content-Type": "application/octet-stream"}
    assert ask(nginx, "PUT", "/_stcore/upload_file/s/f", headers=too_big).status == 413


def test_the_production_command_runs_both_and_stops_both_on_sigterm(tmp_path: Path) -> None:
    port = front.free_port()
    env = {**os.environ, "SIPAS_DATA_DIR": str(tmp_path), "SIPAS_DB": str(tmp_path / "sipas.duckdb"),
           "SIPAS_BASE_URL": f"http://127.0.0.1:{port}"}
    log = tmp_path / "production.log"
    command = [sys.executable, "-m", "survey_app", "production", "--port", str(port), "--listen", "127.0.0.1"]
    process = subprocess.Popen(command, env=env, cwd=config.PROJECT_DIR, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    try:
        app_port = int(wait_for_line(log, r"app process\(es\) on 127\.0\.0\.1:(\d+)", process))
        front.wait_healthy(f"http://127.0.0.1:{port}", process, log)
        nginx_pid = int((tmp_path / "front" / "nginx.pid").read_text())
        listening = subprocess.run(["ss", "-Hltn", f"sport = :{app_port}"], capture_output=True, text=True).stdout
        assert listening.split()[3] == f"127.0.0.1:{app_port}"  # the app: loopback only
    finally:
        front.stop_process(process)
    assert process.returncode == 0, log.read_text()
    assert not Path(f"/proc/{nginx_pid}").exists()
    assert ask_port_refused(app_port)


def test_a_cluster_of_two_app_processes_on_its_own_postgresql_serves_and_stops(tmp_path: Path) -> None:
    # The server runs as the `postgres` user, who cannot enter pytest's private tmp_path: /tmp it is.
    kept = Path(tempfile.mkdtemp(prefix="sipas-pg-kept-"))
    kept.chmod(0o755)
    try:
        run_cluster(tmp_path, kept / "pg")
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def run_cluster(tmp_path: Path, pg_dir: Path) -> None:
    port = front.free_port()
    env = {**os.environ, "SIPAS_DATA_DIR": str(tmp_path / "data"), "SIPAS_BASE_URL": f"http://127.0.0.1:{port}"}
    env.pop("SIPAS_DB", None)
    log = tmp_path / "production.log"
    command = [sys.executable, "-m", "survey_app", "production", "--port", str(port), "--listen", "127.0.0.1",
               "--processes", "2", "--postgres", "--postgres-dir", str(pg_dir)]
    process = subprocess.Popen(command, env=env, cwd=config.PROJECT_DIR, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    try:
        ports = wait_for_line(log, r"2 app process\(es\) on 127\.0\.0\.1:([\d, ]+) ", process, timeout=240)
        app_ports = [int(p) for p in ports.split(", ")]
        assert len(set(app_ports)) == 2
        front.wait_healthy(f"http://127.0.0.1:{port}", process, log)
        conf = (tmp_path / "data" / "front" / "nginx.conf").read_text()
        assert "ip_hash;" in conf and all(f"server 127.0.0.1:{p};" in conf for p in app_ports)
        assert "postgresql://" not in log.read_text()  # the password stays out of the log
        assert oct((pg_dir / "password").stat().st_mode)[-3:] == "600"
    finally:
        front.stop_process(process, timeout=60)
    assert process.returncode == 0, log.read_text()
    assert all(ask_port_refused(p) for p in app_ports)
    assert not list((pg_dir / "data").glob("postmaster.pid"))  # the server stopped too


def test_several_processes_on_a_duckdb_file_are_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SIPAS_DATA_DIR": str(tmp_path), "SIPAS_DB": str(tmp_path / "sipas.duckdb")}
    done = subprocess.run([sys.executable, "-m", "survey_app", "production", "--processes", "2"], env=env,
                          cwd=config.PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "nhiều tiến trình cần PostgreSQL" in done.stderr and "Traceback" not in done.stderr


def wait_for_line(log: Path, pattern: str, process: subprocess.Popen[bytes], timeout: float = 120) -> str:
    """The first group of `pattern` once the process has printed it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        found = re.search(pattern, log.read_text(errors="replace"))
        if found:
            return found.group(1)
        time.sleep(0.2)  # the interval between two reads of the log (a poll up to the deadline), not a wait for state
    raise AssertionError(f"no {pattern!r} in the output:\n{log.read_text(errors='replace')[-2000:]}")


def ask_port_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False
