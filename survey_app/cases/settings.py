"""The case rules an admin sets (tables case_rules and holidays), over config's defaults."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import duckdb

from survey_app.admin import audit
from survey_app.cases.opening import read_rules
from survey_app.cases.rules import Calendar, check_rules
from survey_app.core.config import CaseRules
from survey_app.core.i18n import Refused, t
from survey_app.db.store import Readable, Store, open_cursor


def current_rules(source: Readable) -> tuple[CaseRules, dict[date, str]]:
    """The rules in force and the holidays entered (date → name)."""
    with open_cursor(source) as cur:
        rules, _ = read_rules(cur)
        holidays = dict(cur.execute("SELECT day, name FROM holidays ORDER BY day").fetchall())
    return rules, holidays


def calendar(source: Readable) -> Calendar:
    with open_cursor(source) as cur:
        return read_rules(cur)[1]


def parse_holidays(text: str) -> dict[date, str]:
    """One holiday a line, "2026-02-17 Tết Nguyên đán" (the name may be left out); Refused names the bad line."""
    found: dict[date, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        day_text, _, name = line.partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise Refused("case.holiday_bad", line=line[:40]) from None
        found[day] = name.strip()[:100] or t("case.holiday_default")
    return found


def save_rules(store: Store, actor: str, rules: CaseRules, holidays: dict[date, str]) -> None:
    """Store the rules and replace the holidays; one audit row. Refused when a rule is not usable."""
    problems = check_rules(rules)
    if problems:
        raise Refused("case.rules_bad", fields=", ".join(problems))
    values = {name: str(value) for name, value in asdict(rules).items()}

    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("DELETE FROM case_rules")
        for name, value in values.items():
            con.execute("INSERT INTO case_rules (name, value, updated_at, updated_by)"
                        " VALUES (?, ?, current_timestamp, ?)", [name, value, actor])
        con.execute("DELETE FROM holidays")
        for day, name in sorted(holidays.items()):
            con.execute("INSERT INTO holidays (day, name) VALUES (?, ?)", [day, name])
        audit.record(con, actor, "case.rules", None,
                     "; ".join(f"{k}={v}" for k, v in values.items()) + f"; holidays={len(holidays)}")

    store.write(work)
