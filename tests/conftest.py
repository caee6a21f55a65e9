"""Shared fixtures: a set clock, a fresh database with the Hà Nội demo units."""

from __future__ import annotations

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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sipas.duckdb"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as opened:
        import_units_file(opened, config.DEFAULT_UNITS_CSV)
        yield opened
