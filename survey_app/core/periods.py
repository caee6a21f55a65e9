"""Reporting periods in Vietnam time: a year (2026), a quarter (2026-Q3), a month (2026-09), or a range.

A period is a half-open interval [start, end) of tz-aware instants in Asia/Ho_Chi_Minh, so a response
stored at 23:30 on 30 September Hà Nội time belongs to September whatever the server's zone is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from survey_app.core import clock
from survey_app.core.config import TIMEZONE
from survey_app.core.i18n import DEFAULT_LANG, Explained, t

_LABEL = re.compile(r"^(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")


class PeriodError(Explained, ValueError):
    """A period the user typed that is not a year, a quarter, a month or a valid date range."""


@dataclass(frozen=True)
class Period:
    """Dates are local (Vietnam) calendar days; `last` is included."""

    first: date
    last: date
    label: str  # "2026", "2026-Q3", "2026-09" or "2026-01-15..2026-02-14"
    kind: str  # year | quarter | month | range

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, TIMEZONE)

    @property
    def end(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time.min, TIMEZONE)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def title(self, lang: str = DEFAULT_LANG) -> str:
        """As a report heading says it, in `lang` (messages.yaml, period.*): Năm 2026, Quý III/2026,
        Tháng 9/2026, Từ … đến …; Quarter III 2026 in English."""
        quarter = ("I", "II", "III", "IV")[(self.first.month - 1) // 3]
        return t(f"period.{self.kind}", lang, year=self.first.year, quarter=quarter, month=self.first.month,
                 first=self.first, last=self.last)

    def previous(self) -> Period:
        """The period of the same length just before, for "change against last period"."""
        if self.kind == "year":
            return parse_period(str(self.first.year - 1))
        if self.kind == "quarter":
            return _quarter(*_shift_months(self.first.year, self.first.month, -3))
        if self.kind == "month":
            return _month(*_shift_months(self.first.year, self.first.month, -1))
        return period_between(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def months(self) -> list[str]:
        """Labels of the calendar months the period covers, when it is made of whole months."""
        if self.kind == "range":
            return []
        labels, (year, month) = [], (self.first.year, self.first.month)
        while date(year, month, 1) <= self.last:
            labels.append(f"{year}-{month:02d}")
            year, month = _shift_months(year, month, 1)
        return labels


def _shift_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    next_year, next_month = _shift_months(year, month, 1)
    return date(next_year, next_month, 1) - timedelta(days=1)


def _quarter(year: int, first_month: int) -> Period:
    quarter = (first_month - 1) // 3 + 1
    start_month = 3 * (quarter - 1) + 1
    return Period(date(year, start_month, 1), _month_end(year, start_month + 2), f"{year}-Q{quarter}", "quarter")


def _month(year: int, month: int) -> Period:
    return Period(date(year, month, 1), _month_end(year, month), f"{year}-{month:02d}", "month")


def parse_period(text: str) -> Period:
    """`2026`, `2026-Q3` or `2026-09`; raise PeriodError with a Vietnamese-first message otherwise."""
    match = _LABEL.match(text.strip())
    if not match:
        raise PeriodError("period.bad", text=text[:20])
    year = int(match["year"])
    if match["quarter"]:
        return _quarter(year, 3 * int(match["quarter"]) - 2)
    if match["month"]:
        return _month(year, int(match["month"]))
    return Period(date(year, 1, 1), date(year, 12, 31), str(year), "year")


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError("period.bad_date", text=text[:20]) from None


def period_between(first: date, last: date) -> Period:
    """The days from `first` to `last`, both included."""
    if last < first:
        raise PeriodError("period.end_before_start", first=first, last=last)
    return Period(first, last, f"{first.isoformat()}..{last.isoformat()}", "range")


def current_year() -> Period:
    return parse_period(str(clock.today().year))


def period_choices(first: date, last: date) -> list[Period]:
    """Quarters, then months, then years from `last` back to `first`, newest first: a period menu."""
    quarters, months, years = [], [], []
    year, month = last.year, last.month
    while (year, month) >= (first.year, first.month):
        months.append(_month(year, month))
        if month % 3 == 0 or (year, month) == (last.year, last.month):
            quarters.append(_quarter(year, month))
        if month == 12 or (year, month) == (last.year, last.month):
            years.append(parse_period(str(year)))
        year, month = _shift_months(year, month, -1)
    if not quarters or quarters[-1].first > first:  # the oldest quarter started before its last month
        quarters.append(_quarter(first.year, first.month))
    return list(dict.fromkeys([*quarters, *months, *years]))


def current_quarter(day: date | None = None) -> Period:
    """The quarter of `day` (default today)."""
    day = day or clock.today()
    return _quarter(day.year, day.month)
