"""A local PostgreSQL server from Debian's packages: throw-away for tests and benchmarks, or kept
in a folder of its own for `python -m survey_app production --postgres` (one machine, several
app processes).

Its own data folder and socket folder, a free port on 127.0.0.1, `fsync` off unless asked to be
durable (a test's data dies with it anyway). As root, `initdb` and the server run as the
`postgres` user, which owns the folder. A throw-away server's files are removed when it stops.

    with pg_server() as url:          # postgresql://postgres@127.0.0.1:PORT/sipas
        open_store(url)
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _newest_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = Path(os.environ["SIPAS_PG_BIN"]) if os.environ.get("SIPAS_PG_BIN") else _newest_bin()
START_TIMEOUT = 60.0


class PostgresMissing(RuntimeError):
    """Debian's postgresql package is not installed (scripts/test.sh installs it)."""


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], **kwargs: object) -> None:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed: {done.stderr.strip() or done.stdout.strip()}")


PASSWORD_FILE = "password"


def _password(folder: Path) -> str:
    """The kept server's password: made once, readable by its owner only."""
    path = folder / PASSWORD_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
        if os.geteuid() == 0:
            shutil.chown(path, "postgres")
    return path.read_text(encoding="utf-8").strip()


def _user() -> str:
    return "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")


@contextmanager
def pg_server(database: str = "sipas", max_connections: int = 100, *, durable: bool = False,
              keep: Path | None = None) -> Iterator[str]:
    """Start a server, create `database` (if new), yield its URL; stop the server at the end.
    Tests run without fsync (faster, and their data dies anyway); benchmarks ask for `durable`.
    With `keep`, the server lives in that folder (made on first use, durable) and its data stays;
    otherwise in a temporary folder that is removed."""
    if not available():
        raise PostgresMissing(f"PostgreSQL is not installed in {PG_BIN} (apt-get install postgresql)")
    folder = keep or Path(tempfile.mkdtemp(prefix="sipas-pg-"))
    data, sockets, port = folder / "data", folder / "run", _free_port()
    fresh = not (data / "PG_VERSION").exists()
    sockets.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    started = False
    try:
        password = _password(folder) if keep else None
        if fresh:
            # A kept server holds citizens' data: a password (in a file only its owner reads), not trust.
            auth = ["-A", "scram-sha-256", f"--pwfile={folder / PASSWORD_FILE}"] if password else ["-A", "trust"]
            _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", _user(), *auth, "-E", "UTF8",
                  "--locale=C.UTF-8", *([] if keep or durable else ["--no-sync"])])
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c max_connections={max_connections}"
        if not (durable or keep):
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
              "-w", "-t", str(int(START_TIMEOUT)), "start"])
        started = True
        if fresh:
            _run([str(PG_BIN / "createdb"), "-h", str(sockets), "-p", str(port), "-U", _user(), database],
                 env={**os.environ, "PGPASSWORD": password or ""})
        login = f"{_user()}:{password}" if password else _user()
        yield f"postgresql://{login}@127.0.0.1:{port}/{database}"
    finally:
        if started:
            _stop(data)
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _stop(data: Path) -> None:
    # "fast": roll back open sessions (a test that failed may leave one) instead of waiting for them.
    for attempt in range(3):
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
            return
        except RuntimeError:
            time.sleep(0.5 * (attempt + 1))
    _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])


def fresh_database(url: str, name: str) -> str:
    """A new empty database on the server of `url`: one per test, so tests share one server."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"
