"""Issue 14: strangers sending bad survey links cannot flood the service log — the warning per
refused link is limited per minute, and what was left out is counted in the next line logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from survey_app.collection import links
from survey_app.core import config
from survey_app.core.logbudget import LogBudget


@pytest.fixture(autouse=True)
def _keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)


def test_a_flood_of_bad_links_logs_a_bounded_number_of_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=links.log.name)
    for n in range(2000):
        with pytest.raises(links.BadLink):
            links.verify_token(f"rac-rac-rac-{n:06d}")
    assert len(caplog.records) == links.REFUSALS_LOGGED_PER_MINUTE


def test_the_budget_refills_and_reports_what_it_left_out() -> None:
    clock = [0.0]
    budget = LogBudget(per_minute=3, clock=lambda: clock[0])
    assert [budget.take() for _ in range(5)] == [(True, 0), (True, 0), (True, 0), (False, 0), (False, 0)]
    clock[0] = 61.0
    assert budget.take() == (True, 2)  # the first line of the new minute says 2 were left out
    assert budget.take() == (True, 0)
