"""The computing rules SIPAS.md marks configurable, as one named rule set.

The default, `sipas-default`, is SIPAS.md §3 as written. A YAML file with the same keys overrides
any of them (`python -m results compute --method FILE`); every result carries the rule set, so a
number can always be traced to the rules that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from survey_app.core import yamltext
from survey_app.core.i18n import Explained

ELEMENT_MODES = ("mean", "pooled")
GROUP_MODES = ("mean", "pooled")
MARGIN_MODES = ("linearisation", "bootstrap")


class MethodError(Explained, ValueError):
    """A rule-set file that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Method:
    name: str = "sipas-default"
    # S_e: unweighted mean of the item indices, or pooled 100·Σ(satisfied)/Σ(answered).
    element_index: str = "mean"
    # Unit SIPAS: weights of the elements (missing element = weight 1); empty = plain mean.
    element_weights: dict[str, float] = field(default_factory=dict)
    # A block or the province: mean of the unit indices, or pooled over respondents.
    group_index: str = "mean"
    # Satisfied codes per instrument; an instrument not listed uses its scale's `satisfied`.
    satisfied: dict[str, list[int]] = field(default_factory=dict)
    # Dissatisfied codes (QĐ 766 ratio) per instrument; default: codes below the scale's midpoint.
    dissatisfied: dict[str, list[int]] = field(default_factory=dict)
    # Sample adequacy: n = N / (1 + N·e²) with N dossiers; without N, `min_sample`.
    sample_error: float = 0.05
    min_sample: int = 100
    margin: str = "linearisation"
    confidence_z: float = 1.96
    bootstrap_replicates: int = 1000
    bootstrap_seed: int = 20260101

    def __post_init__(self) -> None:
        for key, value, allowed in (("element_index", self.element_index, ELEMENT_MODES),
                                    ("group_index", self.group_index, GROUP_MODES),
                                    ("margin", self.margin, MARGIN_MODES)):
            if value not in allowed:
                raise MethodError("results.method.bad_choice", key=key, value=value, allowed=", ".join(allowed))
        if not 0 < self.sample_error < 1:
            raise MethodError("results.method.sample_error")
        if self.min_sample < 2 or self.bootstrap_replicates < 10:
            raise MethodError("results.method.minimums")
        if any(w < 0 for w in self.element_weights.values()):
            raise MethodError("results.method.negative_weight")

    def weight(self, element_id: str) -> float:
        return float(self.element_weights.get(element_id, 1.0))

    def describe(self) -> dict[str, Any]:
        """Every rule with its value, for notes sheets and JSON."""
        return asdict(self)


def load_method(path: str | Path) -> Method:
    """A rule set from YAML; keys not given keep the `sipas-default` values."""
    try:
        raw = yamltext.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MethodError("results.method.unreadable", path=str(path), why=str(exc)) from None
    if not isinstance(raw, dict) or "name" not in raw:
        raise MethodError("results.method.needs_name", path=str(path))
    known = {f.name for f in fields(Method)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise MethodError("results.method.unknown_keys", path=str(path), keys=", ".join(unknown))
    try:
        return Method(**raw)
    except TypeError as exc:
        raise MethodError("results.method.bad_value", path=str(path), why=str(exc)) from None
