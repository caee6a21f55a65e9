"""The headline over several units (SIPAS.md §3 "group of units") and where to look first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from results.formulas import group_index, margin_of_error, response_rate
from results.method import Method
from results.model import GroupResult


@dataclass(frozen=True)
class Overview:
    """The selection as one figure: the mean of the unit indices."""

    n: int
    units: int  # units with an index
    sipas: float | None
    moe: float | None
    previous_sipas: float | None
    dossiers: int | None
    response_rate: float | None

    @property
    def change(self) -> float | None:
        if self.sipas is None or self.previous_sipas is None:
            return None
        return self.sipas - self.previous_sipas


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(group_index(present)) if present else None


def overview(groups: Sequence[GroupResult], method: Method) -> Overview:
    """One unit's own figures, or the mean of several (their samples are independent, so the
    variance of the mean is Σ se² / U²)."""
    indexed = [g for g in groups if g.sipas is not None]
    errors = [g.se for g in indexed]
    se = math.sqrt(sum(e**2 for e in errors)) / len(errors) if errors and None not in errors else None
    n = sum(g.n for g in groups)
    dossiers = sum(g.dossiers for g in groups) if groups and all(g.dossiers is not None for g in groups) else None
    return Overview(
        n=n, units=len(indexed), sipas=_mean(g.sipas for g in indexed),
        moe=margin_of_error(None if se is None else se**2, method.confidence_z),
        previous_sipas=_mean(g.previous_sipas for g in indexed), dossiers=dossiers,
        response_rate=response_rate(n, dossiers),
    )


def weakest(groups: Sequence[GroupResult]) -> tuple[GroupResult, str] | None:
    """The unit (or counter) with the lowest index and its lowest element: where to look first.
    Units with an adequate sample come first, as a small sample's low index may be chance."""
    indexed = [g for g in groups if g.sipas is not None]
    if not indexed:
        return None
    unit = min(indexed, key=lambda g: (not g.adequate, g.sipas))
    elements = {e: v for e, v in unit.elements.items() if v is not None}
    return unit, min(elements, key=elements.__getitem__)
