"""One pass over the answers: every respondent's ratings packed into a few integers, then counted.

Joining twenty million answers to their responses is most of the cost of a result, so it is done
once: DuckDB reduces each counted respondent (of both periods compared) to one row — period, group,
version and each item's code packed `width` bits apiece into BIGINTs — and numpy counts from those
rows the item tables of both periods, the linearisation's Σ z_r² and the bootstrap's patterns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from results.catalog import Catalog
from results.scope import ONE_CODING, Scope

BITS = 63  # a BIGINT without its sign bit

# Period, group and version travel as one number (a narrower hash table for the million groups).
_PACKED = """
WITH scope AS ({scope})
, cell AS (SELECT response_id, (g * {versions} + version) * 2 + p AS c FROM scope)
, slot(item_id, col, shift) AS (VALUES {slots})
SELECT any_value(s.c) AS c, {columns}
FROM answers a
JOIN cell s ON s.response_id = a.response_id
JOIN slot ON slot.item_id = a.item_id
GROUP BY a.response_id
"""
# Each item's slot holds 0 (no answer row: not asked), 1 + code − lowest code, or `na` (N/A); a
# value outside every scale (never stored through validation) is left out rather than spill over.
_CODE = ("CASE WHEN a.value IS NULL THEN {na} WHEN a.value BETWEEN {low} AND {high} THEN a.value - ({low}) + 1"
         " ELSE 0 END")
_COLUMN = "coalesce(bit_or(CAST({code} AS BIGINT) << slot.shift){only}, 0) AS m{col}"


@dataclass(frozen=True)
class Packing:
    """Where each item's code sits in the packed columns."""

    items: tuple[str, ...]
    low: int  # the lowest code of any item
    width: int  # bits per item

    @classmethod
    def of(cls, catalogs: Iterable[Catalog]) -> Packing:
        specs = [(item, spec) for catalog in catalogs for (_, item), spec in catalog.codes.items()]
        values = [c for _, spec in specs for c in spec.codes] or [0]
        low, high = min(values), max(values)
        return cls(tuple(dict.fromkeys(item for item, _ in specs)), low, (high - low + 2).bit_length())

    @property
    def na(self) -> int:
        return (1 << self.width) - 1

    @property
    def per_column(self) -> int:
        return BITS // self.width

    @property
    def columns(self) -> int:
        return -(-len(self.items) // self.per_column)

    def slot(self, value: int | None) -> int:
        return self.na if value is None else value - self.low + 1

    def value(self, slot: int) -> int | None:
        return None if slot == self.na else slot + self.low - 1

    def query(self) -> tuple[str, list[Any], dict[str, str]]:
        """The packing query's parameters and SQL fragments (all numbers computed here, none typed in)."""
        place = [(item, k // self.per_column, (k % self.per_column) * self.width) for k, item in enumerate(self.items)]
        slots = ", ".join(["(?, ?, ?)"] * len(place))
        code = _CODE.format(na=self.na, low=self.low, high=self.low + self.na - 2)
        columns = ", ".join(
            _COLUMN.format(code=code, col=col, only=f" FILTER (WHERE slot.col = {col})" if self.columns > 1 else "")
            for col in range(self.columns))
        return _PACKED, [v for row in place for v in row], {"slots": slots, "columns": columns}


@dataclass(frozen=True)
class Tally:
    """One row per counted respondent with at least one answer row: period (0 the period asked for,
    1 the one compared with), group and version numbers, and each item's slot (see Packing)."""

    packing: Packing
    keys: tuple[str, ...]
    versions: tuple[str, ...]
    period: NDArray[np.int8]
    group: NDArray[np.int64]
    version: NDArray[np.int64]
    slots: NDArray[np.uint8]  # packing.items × respondents: each item's slots side by side in memory

    def of_period(self, p: int) -> Tally:
        keep = self.period == p
        if keep.all():
            return self
        return Tally(self.packing, self.keys, self.versions, self.period[keep], self.group[keep],
                     self.version[keep], self.slots[:, keep])

    @cached_property
    def cells(self) -> NDArray[np.int64]:
        """Each respondent's first cell in a groups × versions × slots table; add the slot."""
        return (self.group * len(self.versions) + self.version) * (self.packing.na + 1)

    def column(self, item_id: str) -> NDArray[np.uint8] | None:
        """The slots of one item, or None when no counted version has the item."""
        items = self.packing.items
        return self.slots[items.index(item_id)] if item_id in items else None

    def coding(self, catalog: Catalog, v: int) -> str:
        """The catalog's coding (version, or ONE_CODING) that version number `v` is counted by."""
        return self.versions[v] if catalog.split_versions else ONE_CODING

    def lookup(self, catalog: Catalog, item_id: str, pick: Any) -> NDArray[np.float64]:
        """versions × slots table of `pick(codes, value)` for a rated value the version defines, else 0."""
        table = np.zeros((len(self.versions), self.packing.na + 1))
        for v in range(len(self.versions)):
            spec = catalog.codes.get((self.coding(catalog, v), item_id))
            for code in spec.codes if spec else ():
                table[v, self.packing.slot(code)] = pick(spec, code)
        return table

    def item_rows(self, catalog: Catalog) -> list[tuple[str, str, str, int | None, int]]:
        """(group, coding, item, value, count): what `item_results` reads, as the SQL count gave it."""
        width = self.packing.na + 1
        size = len(self.keys) * len(self.versions) * width
        rows = []
        for k, item_id in enumerate(self.packing.items):
            counts = np.bincount(self.cells + self.slots[k], minlength=size).reshape(len(self.keys),
                                                                                     len(self.versions), width)
            counts[:, :, 0] = 0  # not asked
            for g, v, slot in zip(*np.nonzero(counts), strict=True):
                rows.append((self.keys[g], self.coding(catalog, int(v)), item_id, self.packing.value(int(slot)),
                             int(counts[g, v, slot])))
        return rows


def count_answers(scope: Scope, catalogs: Sequence[Catalog]) -> Tally:
    """The one scan of the answers for `scope` (both its periods); scope.keys and scope.versions set."""
    packing = Packing.of(catalogs)
    empty = np.zeros(0, dtype=np.int64)
    arrays: dict[str, Any] = {"c": empty} | {f"m{c}": empty for c in range(packing.columns)}
    if scope.keys and packing.items:  # no respondent, or an instrument without rated items: nothing to scan
        template, params, fragments = packing.query()
        arrays = scope.arrays(template, params, versions=str(len(scope.versions)), **fragments)
    cell = np.asarray(arrays["c"], dtype=np.int64)
    group, version = np.divmod(cell // 2, max(len(scope.versions), 1))
    slots = np.zeros((len(packing.items), len(cell)), dtype=np.uint8)
    mask = np.int64(packing.na)
    for k in range(len(packing.items)):
        col, shift = divmod(k, packing.per_column)
        slots[k] = (np.asarray(arrays[f"m{col}"], dtype=np.int64) >> np.int64(shift * packing.width)) & mask
    return Tally(packing, scope.keys, scope.versions, (cell % 2).astype(np.int8), group, version, slots)


__all__ = ["Packing", "Tally", "count_answers"]
