"""The typed results the library returns; exports and the dashboard read these, never SQL rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from results.cases import CaseStats
from results.method import Method
from survey_app.core.config import BLOCKS
from survey_app.core.i18n import t
from survey_app.core.instruments import Instrument
from survey_app.core.periods import Period

GROUPINGS = ("unit", "block", "counter", "field")


@dataclass(frozen=True)
class ItemResult:
    """One rated item in one group: counts per code (n1…n5, zeros included), N/A and S_i."""

    item_id: str
    counts: dict[int, int]
    na: int
    satisfied: int
    dissatisfied: int
    index: float | None  # S_i; None when nobody rated the item

    @property
    def n(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class ChoiceResult:
    """One perception / expectation question: count and share of each option.

    `base` is the denominator of the shares: the valid answers of a single-choice question, the
    group's respondents for a question with several choices (expectations)."""

    question_id: str
    section: str
    multiple: bool
    base: int
    counts: dict[str, int]
    shares: dict[str, float | None]


@dataclass(frozen=True)
class TargetOutlook:
    """A unit's yearly SIPAS target beside its index: the gap, the year-end projection and the
    probability of reaching the target (results/targets.py has the formulas)."""

    year: int
    target: float
    gap: float  # index − target, in points (negative: below the target)
    # Projection and probability only for the year so far (a period from 1 January): a quarter's
    # index alone says too little about the year's.
    projected: float | None = None
    projected_low: float | None = None
    projected_high: float | None = None
    p_target: float | None = None  # probability that the year's index ends at or above the target
    year_elapsed: float | None = None  # share of the year the index already covers (0–1)


@dataclass(frozen=True)
class GroupResult:
    """A unit, block, counter or service field in the period."""

    key: str  # unit_id, block, "unit_id/counter_id" or service field ("" = not given)
    name: str
    block: str | None
    unit_id: str | None
    counter_id: str | None
    n: int  # respondents whose status counts
    sipas: float | None
    se: float | None  # standard error of `sipas`, in points
    moe: float | None  # 95 % margin of error, in points
    elements: dict[str, float | None]
    items: dict[str, ItemResult]
    overall: ItemResult | None
    questions: dict[str, ChoiceResult]
    channels: dict[str, int]
    dossiers: int | None
    required_n: int
    adequate: bool
    response_rate: float | None
    qd766_ratio: float | None
    units: int = 1  # units combined into this group (blocks)
    rank: int | None = None
    previous_sipas: float | None = None
    previous_rank: int | None = None
    # Honest rankings (results/ranks.py): 95 % rank interval, standing against the block's mean
    # ("above" | "below" | "same") and the tied band in the block; set when margins are computed.
    rank_low: int | None = None
    rank_high: int | None = None
    vs_block: str | None = None
    rank_band: int | None = None
    outlook: TargetOutlook | None = None  # the year's target, where one is set (results/targets.py)
    cases: CaseStats | None = None  # units and blocks only: complaints opened, answered on time

    @property
    def change(self) -> float | None:
        """SIPAS now minus SIPAS in the previous period of the same length."""
        if self.sipas is None or self.previous_sipas is None:
            return None
        return self.sipas - self.previous_sipas

    def section(self, name: str) -> dict[str, ChoiceResult]:
        return {q: c for q, c in self.questions.items() if c.section == name}

    @property
    def perceptions(self) -> dict[str, ChoiceResult]:
        return self.section("perception")

    @property
    def expectations(self) -> dict[str, ChoiceResult]:
        return self.section("expectation")


@dataclass(frozen=True)
class Results:
    """Everything computed for one period and grouping, with the rules and versions that produced it."""

    period: Period
    previous_period: Period | None
    by: str
    instrument: Instrument  # newest answered version, for names and order
    instrument_versions: tuple[str, ...]
    elements: tuple[tuple[str, tuple[str, ...]], ...]
    method: Method
    statuses: tuple[str, ...]
    groups: tuple[GroupResult, ...]
    computed_at: datetime
    notes: tuple[str, ...] = field(default_factory=tuple)

    def group(self, key: str) -> GroupResult:
        found = next((g for g in self.groups if g.key == key), None)
        if found is None:
            raise KeyError(key)
        return found

    def blocks(self) -> dict[str, list[GroupResult]]:
        """Groups by block (Sở first), ranked ones by rank, then the rest by name: the published order."""
        order = {block: i for i, block in enumerate(BLOCKS)}
        out: dict[str, list[GroupResult]] = {}
        for g in sorted(self.groups, key=lambda g: (order.get(g.block or "", len(order)), g.block or "",
                                                    g.rank is None, g.rank or 0, g.name)):
            out.setdefault(g.block or "", []).append(g)
        return out

    @property
    def provenance(self) -> str:
        """One line naming the rule set, instrument versions, statuses and period, for every export."""
        versions = ", ".join(self.instrument_versions)
        return t("results.provenance", method=self.method.name, instrument=self.instrument.id, versions=versions,
                 statuses=", ".join(self.statuses), period=self.period.label, first=self.period.first,
                 last=self.period.last)
