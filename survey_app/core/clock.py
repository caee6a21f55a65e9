"""The one clock: every "now" and "today" the service reads comes from here, in Vietnam time.

Call it as `clock.now()` / `clock.today()` (not `from … import now`), so that a test that sets the
clock (tests/conftest.py's `clock` fixture replaces `now`) is seen everywhere, `today()` included.
Elapsed time (timeouts, the session idle limit) is measured with the time module, not read here.
"""

from __future__ import annotations

from datetime import date, datetime

from survey_app.core.config import TIMEZONE


def now() -> datetime:
    """This moment, Vietnam time."""
    return datetime.now(TIMEZONE)


def today() -> date:
    """Today's date in Vietnam: 23:30 UTC is already the next day there."""
    return now().date()
