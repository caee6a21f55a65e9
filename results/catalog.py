"""What each answered instrument version says about its items: element, codes, satisfied codes.

Read from `instruments.definition` in the database for the versions the responses actually answered,
not from today's YAML files: if a later version moves an item or changes the satisfied codes, older
responses are still counted by the rules they were given under.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb

from results.method import Method
from results.scope import ONE_CODING
from survey_app.core import instruments as instrument_files
from survey_app.core.i18n import Explained
from survey_app.core.instruments import Instrument, Item


class CatalogError(Explained, ValueError):
    """The instrument is unknown to the database."""


@dataclass(frozen=True)
class Codes:
    """One item in one version: the codes of its scale and which of them count as (dis)satisfied."""

    codes: tuple[int, ...]
    satisfied: frozenset[int]
    dissatisfied: frozenset[int]


@dataclass(frozen=True)
class Catalog:
    instrument: Instrument  # the newest answered version: names, order and elements for presenting
    versions: tuple[str, ...]  # every version the counted responses answered, oldest first
    codes: dict[tuple[str, str], Codes]  # (coding, item_id) → codes; coding = version, or ONE_CODING
    elements: tuple[tuple[str, tuple[str, ...]], ...]  # element id → item ids, newest version's layout

    @cached_property
    def split_versions(self) -> bool:
        """Whether counts must be kept apart by version (the versions code some item differently)."""
        return any(coding != ONE_CODING for coding, _ in self.codes)

    @property
    def overall_id(self) -> str | None:
        """The item a QĐ 766 "dissatisfied rating" is read from: the overall question, or a lone item."""
        if self.instrument.overall is not None:
            return self.instrument.overall.id
        items = self.instrument.items
        return items[0].id if len(items) == 1 else None

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Index items, then the overall question (if it is not itself the only index item)."""
        ids = tuple(i for _, items in self.elements for i in items)
        overall = self.instrument.overall
        return ids + ((overall.id,) if overall is not None else ())

    def element_of(self, item_id: str) -> str | None:
        return next((e for e, items in self.elements if item_id in items), None)

    def all_codes(self, item_id: str) -> tuple[int, ...]:
        return tuple(sorted({c for (_, i), spec in self.codes.items() if i == item_id for c in spec.codes}))


def _from_definition(definition: dict[str, Any], label: str) -> Instrument:
    # The stored definition is the parsed YAML file; survey_app builds instruments from exactly that.
    return instrument_files.instrument_from_definition(Path(label), definition)


def item_codes(item: Item, instrument_id: str, method: Method) -> Codes:
    """The codes of `item` and which count as (dis)satisfied under `method` (the scale's own by default)."""
    codes = tuple(sorted(item.scale.codes))
    satisfied = frozenset(method.satisfied.get(instrument_id, item.scale.satisfied))
    midpoint = (codes[0] + codes[-1]) / 2
    dissatisfied = frozenset(method.dissatisfied.get(instrument_id, [c for c in codes if c < midpoint]))
    return Codes(codes, satisfied, dissatisfied)


def load_catalog(cur: duckdb.DuckDBPyConnection, instrument_id: str, answered: list[str], method: Method) -> Catalog:
    """The catalog of `instrument_id` for the `answered` versions (the newest stored one when none)."""
    rows = cur.execute(
        "SELECT version, definition FROM instruments WHERE instrument_id = ? ORDER BY loaded_at, version",
        [instrument_id],
    ).fetchall()
    if not rows:
        raise CatalogError("results.unknown_instrument", instrument=instrument_id[:40])
    stored = {version: definition for version, definition in rows}
    versions = [v for v in stored if v in answered] or [rows[-1][0]]
    built = {v: _from_definition(json.loads(stored[v]), f"{instrument_id}@{v}") for v in versions}
    by_version = {v: {item.id: item_codes(item, instrument_id, method) for item in inst.answer_items.values()}
                  for v, inst in built.items()}
    if all(coding == by_version[versions[-1]] for coding in by_version.values()):
        by_version = {ONE_CODING: by_version[versions[-1]]}
    codes = {(v, item_id): spec for v, coding in by_version.items() for item_id, spec in coding.items()}
    newest = built[versions[-1]]
    layout: dict[str, list[str]] = {e.id: [i.id for i in e.items] for e in newest.elements}
    placed = {i for items in layout.values() for i in items}
    for inst in built.values():  # items an older version had and the newest dropped still count
        for element in inst.elements:
            extra = [i.id for i in element.items if i.id not in placed]
            layout.setdefault(element.id, []).extend(extra)
            placed.update(extra)
    elements = tuple((e, tuple(items)) for e, items in layout.items())
    return Catalog(newest, tuple(versions), codes, elements)
