"""A viewer's slice of the data, enforced below `compute()`: the dashboard's scope.

A `Slice` names the units (and maybe one counter) a dashboard view covers; `Slice.within(scope)`
cuts it down to what the viewer may see, so no filter can widen a leader's scope. A `SlicedSource`
hands out cursors on which the tables themselves are cut to the slice, so `compute()` and every
query of `results.live` see only the slice without knowing about it. The dashboard builds every
slice with `within(scope)` and reads only through a `SlicedSource`.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from results.margins import values_list
from results.scope import Source


@dataclass(frozen=True)
class Slice:
    """The responses one dashboard view covers: some units (None = every unit) and maybe one counter."""

    unit_ids: frozenset[str] | None = None
    counter_id: str | None = None  # a counter of the single unit in `unit_ids`

    def __post_init__(self) -> None:
        if self.counter_id is not None and (self.unit_ids is None or len(self.unit_ids) != 1):
            raise ValueError("a counter can only be chosen within exactly one unit")

    def within(self, scope: frozenset[str] | None) -> Slice:
        """This slice cut down to a viewer's scope (None = sees all): a filter can never widen a scope."""
        if scope is None:
            return self
        units = scope if self.unit_ids is None else self.unit_ids & scope
        return Slice(units, self.counter_id if units == self.unit_ids else None)


# Each view shadows the table of the same name for one cursor (a temporary object is found before
# the database's own, in DuckDB as in PostgreSQL), so every query run through the cursor — compute()
# included — sees only the slice without knowing about it. {db} is the database's quoted name.
_SLICE_VIEWS = {
    "responses": "SELECT r.* FROM {db}.main.responses r JOIN slice_units s ON s.unit_id = r.unit_id"
                 " WHERE s.counter_id IS NULL OR s.counter_id = r.counter_id",
    "units": "SELECT u.* FROM {db}.main.units u WHERE u.unit_id IN (SELECT unit_id FROM slice_units)",
    "counters": "SELECT c.* FROM {db}.main.counters c JOIN slice_units s ON s.unit_id = c.unit_id"
                " WHERE s.counter_id IS NULL OR s.counter_id = c.counter_id",
    # A counter's responses against its unit's dossiers would give a false response rate: none then.
    "dossier_counts": "SELECT d.* FROM {db}.main.dossier_counts d JOIN slice_units s ON s.unit_id = d.unit_id"
                      " WHERE s.counter_id IS NULL",
}


@dataclass(frozen=True)
class SlicedSource:
    """A source for `compute()` and `results.live` whose cursors see only `slice` of the database."""

    source: Source
    slice: Slice

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.source.cursor()
        if self.slice.unit_ids is None:
            return cur
        cur.execute("CREATE TEMP TABLE slice_units (unit_id VARCHAR NOT NULL, counter_id VARCHAR)")
        rows = [(u, self.slice.counter_id) for u in sorted(self.slice.unit_ids)]
        if rows:
            sql, params = values_list(rows)
            cur.execute(f"INSERT INTO slice_units VALUES {sql}", params)
        name = cur.execute("SELECT current_database()").fetchone()[0]
        db = '"' + name.replace('"', '""') + '"'
        for table, view in _SLICE_VIEWS.items():
            cur.execute(f"CREATE TEMP VIEW {table} AS {view.format(db=db)}")
        return cur
