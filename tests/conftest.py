"""Shared fixtures: a fresh database with the Hà Nội demo units, and valid responses to vary."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.store import Store, open_store


@pytest.fixture(autouse=True)
def _integrity_rules_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests submit near-identical responses seconds apart at any hour: just what the integrity rules
    flag. Off unless a test turns them on (tests/test_integrity.py); servers started by tests inherit this."""
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
