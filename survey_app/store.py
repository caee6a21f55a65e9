"""The store as the app, the commands and scripts open it: the storage layer with the integrity
rules judging every response in its writer, and cases opened for the dissatisfied ones in the same
transaction (../shared/DESIGN.md §6: the stable Python API).

    from survey_app.store import open_store
    store = open_store(path)   # migrations applied; starts the writer thread
    store.submit({...}); store.query("SELECT …", [x]); store.close()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from survey_app.cases.opening import open_cases
from survey_app.core.config import FlagRules
from survey_app.core.instruments import Instrument
from survey_app.core.responses import InvalidResponse, ResponseRecord
from survey_app.db import backends
from survey_app.db.store import DatabaseBusy, Store, StoreUnavailable, SubmitResult
from survey_app.integrity.admission import admit

__all__ = ["DatabaseBusy", "Store", "StoreUnavailable", "SubmitResult", "open_store"]


def admit_and_open_cases(con: duckdb.DuckDBPyConnection, records: Sequence[ResponseRecord],
                         instruments: Mapping[str, Instrument],
                         rules: FlagRules) -> list[ResponseRecord | InvalidResponse]:
    """The writer's hook chain: the integrity rules judge the batch, then each response it keeps
    that calls for a case gets one — in the same transaction, so neither exists without the other."""
    outcomes = admit(con, records, instruments, rules)
    open_cases(con, [o for o in outcomes if isinstance(o, ResponseRecord)], instruments)
    return outcomes


def open_store(path: str | Path | None = None, *, read_only: bool = False,
               questions_dir: Path | None = None) -> Store:
    """Open (and create or migrate) the database, with the integrity rules and cases in its writer."""
    return backends.open_store(path, read_only=read_only, questions_dir=questions_dir, admit=admit_and_open_cases)
