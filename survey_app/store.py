"""The store as the app, the commands and scripts open it: the storage layer with the integrity
rules judging every response in its writer (../shared/DESIGN.md §6: the stable Python API).

    from survey_app.store import open_store
    store = open_store(path)   # migrations applied; starts the writer thread
    store.submit({...}); store.query("SELECT …", [x]); store.close()
"""

from __future__ import annotations

from pathlib import Path

from survey_app.db import backends
from survey_app.db.store import DatabaseBusy, Store, StoreUnavailable, SubmitResult
from survey_app.integrity.admission import admit

__all__ = ["DatabaseBusy", "Store", "StoreUnavailable", "SubmitResult", "open_store"]


def open_store(path: str | Path | None = None, *, read_only: bool = False,
               questions_dir: Path | None = None) -> Store:
    """Open (and create or migrate) the database, with the integrity rules in its writer."""
    return backends.open_store(path, read_only=read_only, questions_dir=questions_dir, admit=admit)
