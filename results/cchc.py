"""From satisfaction to CCHC (PAR Index) points, by a rule table loaded from YAML (SIPAS.md §4).

Point values differ by province and year, so they live in a table, never in code. A rule is
`{block, criterion, max_points, mode, index, bands | target, source}`:
- `proportional`: points = max_points × index / 100;
- `banded`: the share of max_points of the highest band whose `min` the index reaches;
- `threshold`: full points at or above `target`, else proportional (`below: proportional`) or zero.
`index` is `sipas` (default) or an element id such as `CC`.

What a weak element costs is the counterfactual: the points the unit would gain if that element's
index were 100 and everything else stayed. Under `proportional` these costs add up to the points
lost exactly; under bands and thresholds they show which element would move the unit up a band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from results.formulas import as_float, unit_index
from results.method import Method
from results.model import GroupResult, Results
from survey_app.core import yamltext
from survey_app.core.i18n import Explained

MODES = ("proportional", "banded", "threshold")
RULES_DIR = Path(__file__).parent / "rules"  # the tables a leader may pick on the dashboard


class RulesError(Explained, ValueError):
    """A rule table that cannot be used; names the file and the rule."""


@dataclass(frozen=True)
class Band:
    min: float
    share: float  # of max_points


@dataclass(frozen=True)
class Rule:
    block: str
    criterion: str
    max_points: float
    mode: str
    index: str = "sipas"
    title: str = ""
    bands: tuple[Band, ...] = ()
    target: float | None = None
    below: str = "proportional"
    source: str = ""


@dataclass(frozen=True)
class RuleTable:
    name: str
    title: str
    example: bool
    source: str
    rules: tuple[Rule, ...]

    def for_block(self, block: str | None) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.block == block)


@dataclass(frozen=True)
class CriterionPoints:
    rule: Rule
    value: float | None  # the index the rule reads
    points: float | None
    element_costs: dict[str, float]  # points gained if the element were at 100


@dataclass(frozen=True)
class UnitPoints:
    group: GroupResult
    criteria: tuple[CriterionPoints, ...]

    @property
    def points(self) -> float | None:
        values = [c.points for c in self.criteria]
        return None if not values or None in values else sum(v for v in values if v is not None)

    @property
    def max_points(self) -> float:
        return sum(c.rule.max_points for c in self.criteria)

    @property
    def element_costs(self) -> dict[str, float]:
        total: dict[str, float] = {}
        for criterion in self.criteria:
            for element, cost in criterion.element_costs.items():
                total[element] = total.get(element, 0.0) + cost
        return total


def rule_points(rule: Rule, value: float) -> float:
    """The points a rule gives for an index value (0–100)."""
    if rule.mode == "proportional":
        return rule.max_points * value / 100
    if rule.mode == "banded":
        share = next((band.share for band in rule.bands if value >= band.min), 0.0)
        return rule.max_points * share
    assert rule.target is not None
    if value >= rule.target:
        return rule.max_points
    return rule.max_points * value / 100 if rule.below == "proportional" else 0.0


def _value(rule: Rule, elements: dict[str, float | None], method: Method) -> float | None:
    if rule.index != "sipas":
        return elements.get(rule.index)
    values = [math.nan if v is None else v for v in elements.values()]
    return as_float(unit_index(values, [method.weight(e) for e in elements]))


def criterion_points(rule: Rule, group: GroupResult, method: Method) -> CriterionPoints:
    value = _value(rule, group.elements, method)
    if value is None:
        return CriterionPoints(rule, None, None, {})
    points = rule_points(rule, value)
    costs = {}
    for element, index in group.elements.items():
        if index is None:
            continue
        better = _value(rule, {**group.elements, element: 100.0}, method)
        costs[element] = rule_points(rule, better) - points if better is not None else 0.0
    return CriterionPoints(rule, value, points, costs)


def cchc_points(results: Results, table: RuleTable) -> list[UnitPoints]:
    """Each unit's CCHC survey points by the rules of its block, with what each element costs."""
    if results.by != "unit":
        raise RulesError("results.cchc.per_unit")
    return [UnitPoints(g, tuple(criterion_points(r, g, results.method) for r in table.for_block(g.block)))
            for g in results.groups]


# -- loading ----------------------------------------------------------------------------------------------

def _rule(raw: Any, place: str) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError("results.cchc.not_a_mapping", place=place)
    missing = [k for k in ("block", "criterion", "max_points", "mode") if k not in raw]
    if missing:
        raise RulesError("results.cchc.missing_keys", place=place, keys=", ".join(missing))
    if raw["mode"] not in MODES:
        raise RulesError("results.cchc.bad_mode", place=place, mode=raw["mode"], modes=", ".join(MODES))
    try:
        bands = tuple(sorted((Band(float(b["min"]), float(b["share"])) for b in raw.get("bands", ())),
                             key=lambda b: -b.min))
        target = None if raw.get("target") is None else float(raw["target"])
        rule = Rule(block=str(raw["block"]), criterion=str(raw["criterion"]), max_points=float(raw["max_points"]),
                    mode=raw["mode"], index=str(raw.get("index", "sipas")), title=str(raw.get("title", "")),
                    bands=bands, target=target, below=str(raw.get("below", "proportional")),
                    source=str(raw.get("source", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError("results.cchc.bad_value", place=place, why=str(exc)) from None
    _check(rule, place)
    return rule


def _check(rule: Rule, place: str) -> None:
    if rule.max_points < 0:
        raise RulesError("results.cchc.negative_points", place=place)
    if rule.mode == "banded" and (not rule.bands or any(not 0 <= b.share <= 1 for b in rule.bands)):
        raise RulesError("results.cchc.bands", place=place)
    if rule.mode == "threshold" and (rule.target is None or rule.below not in ("proportional", "zero")):
        raise RulesError("results.cchc.threshold", place=place)


def load_rules(path: str | Path) -> RuleTable:
    """Read a rule table; raise RulesError naming the file and the rule that is wrong."""
    try:
        raw = yamltext.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RulesError("results.cchc.unreadable", path=str(path), why=str(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or "name" not in raw:
        raise RulesError("results.cchc.needs_rules", path=str(path))
    rules = tuple(_rule(r, f"{path}: rules[{i}]") for i, r in enumerate(raw["rules"]))
    keys = [(r.block, r.criterion) for r in rules]
    if len(set(keys)) != len(keys):
        raise RulesError("results.cchc.twice", path=str(path))
    return RuleTable(str(raw["name"]), str(raw.get("title", raw["name"])), bool(raw.get("example", False)),
                     str(raw.get("source", "")), rules)


def rule_tables(folder: Path = RULES_DIR) -> dict[str, RuleTable]:
    """The CCHC rule tables a leader may pick, by name (results/rules/*.yaml; an example says so).
    A file is parsed again only when it changes: the dashboard asks on every rerun."""
    tables = (_load_unchanged(path, path.stat().st_mtime_ns) for path in sorted(folder.glob("*.yaml")))
    return {table.name: table for table in tables}


@lru_cache(maxsize=64)
def _load_unchanged(path: Path, mtime_ns: int) -> RuleTable:
    """`load_rules`, once per version of a file (the modification time is part of the cache key)."""
    return load_rules(path)
