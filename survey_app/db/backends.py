"""Which engine a `--db` value names: a file path is DuckDB (the default), a `postgresql://` URL is
PostgreSQL. The one place that chooses, so every command and the app accept both."""

from __future__ import annotations

from pathlib import Path

from survey_app.core import config
from survey_app.core.instruments import load_instruments
from survey_app.db.store import Admit, Instruments, Store


def open_store(path: str | Path | None = None, *, read_only: bool = False,
               questions_dir: Path | None = None, admit: Admit | None = None) -> Store:
    """Open (and create or migrate) the database; start the writer unless read-only.

    Read-only (commands that only read): no migration, no instrument registration, no writer, and
    the questionnaire files are parsed only if used. Without `admit` every valid response is stored
    as 'ok': use `survey_app.store.open_store`, which judges them by the integrity rules."""
    location = config.db_path(path)
    instruments: Instruments = ((lambda: load_instruments(questions_dir)) if read_only
                                else load_instruments(questions_dir))
    if isinstance(location, str):
        from survey_app.db.postgres import open_postgres  # psycopg is loaded only when it is used

        return open_postgres(location, instruments, read_only=read_only, admit=admit)
    from survey_app.db.duck import open_duckdb

    return open_duckdb(location, instruments, read_only=read_only, admit=admit)
