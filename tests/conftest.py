"""Shared fixtures: a set clock, a fresh database with the Hà Nội demo units."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
from factories import NOW, Clock

from survey_app.admin.units import import_units_file
from survey_app.core import clock as service_clock
from survey_app.core import config
from survey_app.store import Store, open_store


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Every test runs at factories.NOW (a Wednesday morning mid-quarter, Vietnam time), whenever it is
    really run: "today", this quarter, opening hours and retention never depend on the wall clock.
    Ask for `clock` to read or move it. Browser tests override this: their servers keep the real one."""
    frozen = Clock(NOW)
    monkeypatch.setattr(service_clock, "now", lambda: frozen.moment)
    return frozen


@pytest.fixture
def integrity_rules_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every integrity flag off, for this test and the stores and servers it starts (they read the
    SIPAS_FLAG_* variables). Tests run with the production rules; a test that asks for this says why."""
    for rule in fields(config.FlagRules):
        monkeypatch.setenv(f"SIPAS_FLAG_{rule.name.upper()}", "" if isinstance(rule.default, str) else "0")
    # The app's scheduler escalates and mails in the background: off unless a test starts it (test_mail.py).
    monkeypatch.setenv("SIPAS_SCHEDULER_SECONDS", "0")
    monkeypatch.delenv("SIPAS_SMTP_URL", raising=False)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sipas.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as opened:
        import_units_file(opened, config.DEFAULT_UNITS_CSV)
        yield opened


@pytest.fixture(autouse=True)
def _fresh_log_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with a full budget of refused-link warnings (a module-wide limit)."""
    from survey_app.collection import links
    from survey_app.core.logbudget import LogBudget

    monkeypatch.setattr(links, "_refusals", LogBudget(links.REFUSALS_LOGGED_PER_MINUTE))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One PostgreSQL server for the whole test session (Debian's packages; each test takes its own
    database from it). Fails, never skips, when PostgreSQL is missing: scripts/test.sh installs it."""
    from survey_app.db.pg_local import PostgresMissing, pg_server

    try:
        with pg_server() as url:
            yield url
    except PostgresMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture
def pg_db(pg_url: str) -> str:
    """The URL of a fresh, empty PostgreSQL database for this test."""
    from survey_app.db.pg_local import fresh_database

    return fresh_database(pg_url, "t_" + uuid.uuid4().hex[:12])
