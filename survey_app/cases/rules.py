"""The pure part of cases: which response opens one, its deadline in working days, its code.

No database: the writer (survey_app/cases/opening.py) and the pages hand in the rules in force.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

from survey_app.core import config
from survey_app.core.config import CaseRules
from survey_app.core.instruments import Instrument

# mở → đang xử lý → đã trả lời → đóng; a reopened case goes back to "đang xử lý".
OPEN, IN_PROGRESS, ANSWERED, CLOSED = "mo", "dang_xu_ly", "da_tra_loi", "dong"
STATUSES = (OPEN, IN_PROGRESS, ANSWERED, CLOSED)
PENDING = (OPEN, IN_PROGRESS)  # waiting for the unit: these can be overdue
ITEMS_CHOICES = ("any", "overall")
NEEDS_CHOICES = ("comment_or_contact", "comment", "none")
# No 0/O, 1/I/L: a code read aloud over the phone or copied from a screen survives.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_CHARS = 10  # 31^10 ≈ 2^49.5: not guessable through a web page


@dataclass(frozen=True)
class Calendar:
    """The days a unit works: every day but the weekend, the fixed national holidays and `holidays`."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({5, 6})

    def is_working_day(self, day: date) -> bool:
        return (day.weekday() not in self.weekend and (day.month, day.day) not in config.FIXED_HOLIDAYS
                and day not in self.holidays)


def due_at(opened_at: datetime, working_days: int, calendar: Calendar) -> datetime:
    """The end (Vietnam time) of the `working_days`-th working day after the day the case opened.

    Counted from the next day, as Vietnamese deadlines are ("trong N ngày làm việc kể từ ngày tiếp
    nhận"): a case opened on Friday with 1 day is due at the end of Monday.
    """
    day = opened_at.astimezone(config.TIMEZONE).date()
    left = working_days
    while left > 0:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return datetime.combine(day, time(23, 59, 59), config.TIMEZONE)


def dissatisfied_by_item(instrument: Instrument, rules: CaseRules) -> dict[str, frozenset[int]]:
    """The ratings of each item that count as dissatisfied: the rules' codes on a five-point scale,
    on any other scale the codes below its satisfied ones (a three-face kiosk's "Không hài lòng").
    With rules.items == "overall" only the overall question counts (or a one-question form's item)."""
    items = instrument.answer_items
    if rules.items == "overall":
        overall = [instrument.overall.id] if instrument.overall else list(items) if len(items) == 1 else []
        items = {i: items[i] for i in overall}
    found = {}
    for item_id, item in items.items():
        if len(item.scale.options) == 5:
            found[item_id] = rules.dissatisfied_codes & item.scale.codes
        else:
            found[item_id] = frozenset(c for c in item.scale.codes if c < min(item.scale.satisfied, default=0))
    return found


def opens_case(answers: Iterable[tuple[str, int | None]], dissatisfied: Mapping[str, frozenset[int]], *,
               has_comment: bool, has_contact: bool, rules: CaseRules) -> bool:
    """True when the answers carry a dissatisfied rating (`dissatisfied_by_item`) and, unless the
    rules say otherwise, a comment or a contact given with consent."""
    if not any(value in dissatisfied.get(item, ()) for item, value in answers if value is not None):
        return False
    if rules.needs == "comment":
        return has_comment
    if rules.needs == "comment_or_contact":
        return has_comment or has_contact
    return True


def new_code() -> str:
    """A fresh case code such as 7KQ3M-XW9TB."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_CHARS))
    return f"{chars[:5]}-{chars[5:]}"


def normalise_code(text: str) -> str | None:
    """A code as typed (lower case, spaces, no dash) in its stored form, or None if it cannot be one."""
    chars = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(chars) != CODE_CHARS or any(ch not in CODE_ALPHABET for ch in chars):
        return None
    return f"{chars[:5]}-{chars[5:]}"


def rules_from(overrides: dict[str, str], base: CaseRules | None = None) -> CaseRules:
    """The defaults with the admin's overrides (name → text) applied; unknown names are ignored."""
    base = base or CaseRules()
    given: dict[str, object] = {}
    for rule in fields(CaseRules):
        if rule.name in overrides:
            given[rule.name] = type(getattr(base, rule.name))(overrides[rule.name])
    return CaseRules(**{**{f.name: getattr(base, f.name) for f in fields(CaseRules)}, **given})


def check_rules(rules: CaseRules) -> list[str]:
    """The rules' problems as field names (empty when they can be used)."""
    problems = []
    try:
        if not rules.dissatisfied_codes or not rules.dissatisfied_codes <= set(range(1, 6)):
            problems.append("dissatisfied")
    except ValueError:
        problems.append("dissatisfied")
    if rules.items not in ITEMS_CHOICES:
        problems.append("items")
    if rules.needs not in NEEDS_CHOICES:
        problems.append("needs")
    if not 0 <= rules.deadline_days <= 60:
        problems.append("deadline_days")
    try:
        if not rules.weekend_days <= set(range(7)) or len(rules.weekend_days) > 3:
            problems.append("weekend")
    except ValueError:
        problems.append("weekend")
    return problems
