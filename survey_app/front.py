"""The production front: Debian's nginx in front of the app (`scripts/serve-production.sh`).

nginx serves Streamlit's static files itself (precompressed once with gzip -9, long cache lifetimes
for the hashed names), proxies the app's routes and its WebSocket, passes only the public host
name (from SIPAS_BASE_URL), adds the security headers, refuses oversized bodies and hides
`/_stcore/metrics` and the agent API. The app listens on 127.0.0.1 only.

nginx runs with its own configuration, pid, temp and log files in a run folder, never the
system's. The upstream block is built from a list of app ports, so several app processes behind
one front only add ports (and a session-affinity rule) to `FrontPlan.app_ports`.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from survey_app.core import config

log = logging.getLogger(__name__)
NGINX = "/usr/sbin/nginx"
# Admin uploads (unit and dossier CSV files) are the only bodies; citizens send theirs over the WebSocket.
MAX_BODY = "10m"
# A citizen's tab may stay open all day at a kiosk: the WebSocket may stay quiet that long.
STREAM_TIMEOUT = "1d"
# Text worth compressing; fonts (woff2) and images are compressed already.
COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg", ".map", ".txt")
# Streamlit 1.67's `document.fonts.load(`1em "${…materialIcons}"`)` in its start-up script.
ICON_FONT_PRELOAD = re.compile(r'document\.fonts\.load\(`1em "\$\{\w+\.materialIcons\}"`\)')
SECURITY_HEADERS = {
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    # The survey link carries its token in the query string: no other site may read it from a Referer.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass(frozen=True)
class FrontPlan:
    """Everything the nginx configuration depends on."""

    port: int
    app_ports: tuple[int, ...]
    host: str
    run_dir: Path
    static_dir: Path
    listen: str = "0.0.0.0"

    @property
    def user(self) -> str | None:
        """The workers' account: www-data when nginx starts as root and may read the static copy."""
        if os.geteuid() != 0:
            return None  # nginx runs as whoever started it
        return "www-data" if _others_can_read(self.static_dir) else "root"


def _others_can_read(folder: Path) -> bool:
    # Every parent must let others through (a pytest folder in /tmp is 0700: then root workers).
    return all(path.stat().st_mode & 0o005 == 0o005 for path in [folder, *folder.parents])


def public_host(base_url: str | None = None) -> str:
    """The host name citizens' links carry (SIPAS_BASE_URL): the only one the front lets through."""
    host = urlsplit(base_url or config.base_url()).hostname
    if not host:
        raise ValueError(f"SIPAS_BASE_URL has no host name: {base_url or config.base_url()!r}")
    return host


def streamlit_static_dir() -> Path:
    """The installed Streamlit package's static folder (found without importing Streamlit)."""
    spec = importlib.util.find_spec("streamlit")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("streamlit is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def precompressed_static(cache_dir: Path, source: Path | None = None) -> Path:
    """A copy of Streamlit's static folder with a .gz beside each text file, for nginx's gzip_static.

    Made once per Streamlit version in `cache_dir` (about 25 MB of JavaScript, 2 s of CPU); files
    are hard links when the folder is on the same disk.
    """
    source = source or streamlit_static_dir()
    target = cache_dir / f"streamlit-static-{importlib.metadata.version('streamlit')}"
    done = target / ".complete"
    if done.exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, copy_function=_link_or_copy)
    _skip_icon_font_preload(target)
    for path in target.rglob("*"):
        if path.suffix in COMPRESSIBLE and path.stat().st_size > 256:
            data = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
            path.with_name(path.name + ".gz").write_bytes(data)
    done.touch()
    return target


def _skip_icon_font_preload(static: Path) -> bool:
    """Streamlit's start-up script preloads its icon font (366 KB, half a first load) that the form's
    first page never shows; without the preload a phone fetches it only when an icon appears."""
    for script in static.glob("static/js/index.*.js"):
        text = script.read_text(encoding="utf-8")
        patched, count = ICON_FONT_PRELOAD.subn("Promise.resolve()", text)
        if count == 1:
            script.unlink()  # a hard link to the installed package's file: never write through it
            script.write_text(patched, encoding="utf-8")
            return True
    log.warning("Streamlit's icon-font preload was not found: the front serves its scripts unchanged")
    return False


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _headers(indent: str) -> str:
    return "".join(f'{indent}add_header {name} "{value}" always;\n' for name, value in SECURITY_HEADERS.items())


def _upstream(ports: Sequence[int]) -> str:
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in ports)
    # Streamlit keeps a session in the process holding its WebSocket, and uploads and media must
    # reach that process too: with several, one client address always goes to the same one.
    affinity = "    ip_hash;\n" if len(ports) > 1 else ""
    return f"upstream sipas_app {{\n{affinity}{servers}    keepalive 16;\n}}\n"


def nginx_config(plan: FrontPlan) -> str:
    """nginx.conf for the plan: everything under plan.run_dir, nothing of the system's configuration."""
    run = plan.run_dir
    pad = " " * 12
    proxy = "".join(f"{pad}{line};\n" for line in (
        "proxy_pass http://sipas_app", "proxy_http_version 1.1", "proxy_set_header Host $host",
        # uvicorn trusts X-Forwarded-For from 127.0.0.1: the app then sees the citizen's address
        # (the device hash of the integrity rules), which the client cannot forge past nginx.
        "proxy_set_header X-Forwarded-For $remote_addr", "proxy_set_header X-Forwarded-Proto $scheme",
        *(f"proxy_hide_header {name}" for name in SECURITY_HEADERS),  # ours replace the app's: never twice
    )) + _headers(pad)
    user = f"user {plan.user};\n" if plan.user else ""
    return f"""# Generated by survey_app/front.py: do not edit, it is rewritten at every start.
{user}worker_processes auto;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {run}/access.log;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_max_body_size {MAX_BODY};
    gzip on;
    gzip_comp_level 5;
    gzip_min_length 512;
    gzip_vary on;
    gzip_proxied any;
    gzip_types text/css application/javascript text/javascript application/json image/svg+xml text/plain;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' '';
    }}
{_upstream(plan.app_ports)}
    # Any other host name (a scanner, a wrong DNS entry): the connection is closed without an answer.
    server {{
        listen {plan.listen}:{plan.port} default_server;
        server_name _;
        return 444;
    }}
    server {{
        listen {plan.listen}:{plan.port};
        server_name {plan.host};
        root {plan.static_dir};
{_headers('        ')}
        # Hashed names never change: a phone keeps them a year.
        location /static/ {{
            gzip_static on;
{_headers('            ')}            add_header Cache-Control "public, max-age=31536000, immutable" always;
        }}
        # The page itself (every app URL is the same single-page app) is checked on each visit.
        location / {{
            gzip_static on;
            expires -1;
            try_files $uri /index.html;
        }}
        location = /_stcore/stream {{
{proxy}            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout {STREAM_TIMEOUT};
            proxy_send_timeout {STREAM_TIMEOUT};
            proxy_buffering off;
        }}
        location = /_stcore/metrics {{ return 404; }}
        location ^~ /_stcore/agent/ {{ return 404; }}
        location ~ ^/(_stcore|media|component|app/static|auth|oauth2callback)(/|$) {{
{proxy}            proxy_set_header Connection "";  # keeps the upstream connection open for the next request
        }}
    }}
}}
"""


def app_command(port: int) -> list[str]:
    """`streamlit run` of the app on 127.0.0.1 only: nothing but the front reaches it."""
    return [sys.executable, "-m", "streamlit", "run", str(config.PROJECT_DIR / "survey_app" / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60,
                 headers: dict[str, str] | None = None) -> None:
    """Wait until `url`/_stcore/health answers ok; fail early when the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            request = urllib.request.Request(f"{url}/_stcore/health", headers=headers or {})
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy within {timeout:.0f} s")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """SIGTERM (the app checkpoints the database; nginx exits at once), SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Nginx:
    """A running nginx of a FrontPlan (master in the foreground, so it is our child)."""

    plan: FrontPlan
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.plan.host}:{self.plan.port}"

    def stop(self) -> None:
        stop_process(self.process)


def start_nginx(plan: FrontPlan) -> Nginx:
    """Write the configuration into the run folder, check it, and start nginx in the foreground."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"{NGINX} is missing: scripts/setup.sh installs Debian's nginx")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (plan.run_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    conf = plan.run_dir / "nginx.conf"
    conf.write_text(nginx_config(plan), encoding="utf-8")
    command = [NGINX, "-p", str(plan.run_dir), "-c", str(conf), "-e", str(plan.run_dir / "error.log")]
    subprocess.run([*command, "-t", "-q"], check=True, capture_output=True)
    log = plan.run_dir / "nginx.out"
    process = subprocess.Popen([*command, "-g", "daemon off;"], stdout=log.open("wb"), stderr=subprocess.STDOUT)
    return Nginx(plan, process)


def start_front(app_ports: Sequence[int], run_dir: Path, *, port: int | None = None, host: str = "127.0.0.1",
                listen: str = "127.0.0.1", static_cache: Path | None = None) -> Nginx:
    """nginx in front of app processes already listening on `app_ports`; returns once it answers."""
    run_dir.mkdir(parents=True, exist_ok=True)
    static = precompressed_static(static_cache or run_dir)
    plan = FrontPlan(port or free_port(), tuple(app_ports), host, run_dir, static, listen)
    nginx = start_nginx(plan)
    try:
        wait_healthy(f"http://{'127.0.0.1' if listen in ('0.0.0.0', '::') else listen}:{plan.port}",
                     nginx.process, run_dir / "error.log", headers={"Host": host})
    except RuntimeError:
        nginx.stop()
        raise
    return nginx


def serve(port: int, run_dir: Path, listen: str = "0.0.0.0", processes: int = 1) -> int:
    """Run `processes` app processes and the front in the foreground until Ctrl-C or SIGTERM; then
    stop them all. More than one needs a database they can share (PostgreSQL)."""
    host = public_host()
    run_dir.mkdir(parents=True, exist_ok=True)
    apps: list[tuple[int, subprocess.Popen[bytes], Path]] = []
    started: list[subprocess.Popen[bytes]] = []
    # SIGTERM (a service manager) ends the run like Ctrl-C does: through the finally below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for number in range(1, processes + 1):
            app_port, log = free_port(), run_dir / f"app-{number}.log"
            app = subprocess.Popen(app_command(app_port), cwd=config.PROJECT_DIR, stdout=log.open("ab"),
                                   stderr=subprocess.STDOUT)
            started.append(app)
            apps.append((app_port, app, log))
        for app_port, app, log in apps:
            wait_healthy(f"http://127.0.0.1:{app_port}", app, log)
        ports = [app_port for app_port, _, _ in apps]
        nginx = start_front(ports, run_dir, port=port, host=host, listen=listen, static_cache=run_dir)
        started.append(nginx.process)
        print(f"SIPAS: {config.base_url()} → nginx on {listen}:{port} → {processes} app process(es) on "
              f"127.0.0.1:{', '.join(map(str, ports))} (logs in {run_dir}); Ctrl-C stops them all.", flush=True)
        while all(p.poll() is None for p in started):
            time.sleep(0.5)
        print("SIPAS: a process of the front exited; stopping the others.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(started):  # the front first: no new citizen reaches a stopping app
            stop_process(process)
