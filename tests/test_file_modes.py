"""Issue 14: the data folder is 0700 and every file in it 0600 — database, write-ahead log, key
file, backups, exports — even under a permissive umask, so other local users read nothing."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import dvc_response

from survey_app.admin import administration
from survey_app.core import config
from survey_app.core.keys import load_keys
from survey_app.store import open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_database_key_backups_and_exports_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      permissive_umask: None) -> None:
    data = tmp_path / "data"
    monkeypatch.setattr(config, "DATA_DIR", data)
    with open_store(data / "sipas.duckdb") as store:
        from survey_app.admin.units import import_units_file

        import_units_file(store, config.DEFAULT_UNITS_CSV)
        store.submit(dvc_response())
        load_keys()
        backup = administration.backup(store, "test")
        export = administration.export_raw(store, "test", "csv")
        wal = data / "sipas.duckdb.wal"
        assert not wal.exists() or mode(wal) == 0o600
    assert mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {data / "sipas.duckdb", data / "secret.key", export} <= set(files)
    assert any(p.parent == backup for p in files)
    assert {str(p.relative_to(data)): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
    folders = [p for p in data.rglob("*") if p.is_dir()]
    assert {str(p.relative_to(data)): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}
