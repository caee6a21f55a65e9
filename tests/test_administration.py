"""The admin's actions: each one writes its audit row; bad input changes nothing; nothing is deleted."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from factories import dvc_response
from logins import add_wards

from survey_app.admin import administration, audit, units
from survey_app.collection import links
from survey_app.core import config
from survey_app.core.i18n import Refused
from survey_app.db.store import Store


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")


def _flagged(store: Store, unit_id: str = "so-tai-chinh", **fields: object) -> str:
    response = dvc_response(unit_id=unit_id, **fields)
    store.submit(response)
    store.write(lambda con: con.execute("UPDATE responses SET status = 'flagged', flag_reasons = 'burst'"
                                        " WHERE response_id = ?", [response["response_id"]]))
    return response["response_id"]


ACTIONS: dict[str, Callable[[Store], object]] = {
    "unit.add": lambda s: administration.add_unit(s, "quan-tri", "p-moi", "Phường Mới", "huyen",
                                                  parent_id="q-cau-giay"),
    "unit.rename": lambda s: administration.update_unit(s, "quan-tri", "so-tu-phap", name="Sở Tư pháp Hà Nội",
                                                        instrument_id=None, active=True),
    "unit.instrument": lambda s: administration.update_unit(s, "quan-tri", "so-tu-phap", name="Sở Tư pháp",
                                                            instrument_id="nhanh-3", active=True),
    "unit.deactivate": lambda s: administration.update_unit(s, "quan-tri", "so-tu-phap", name="Sở Tư pháp",
                                                            instrument_id=None, active=False),
    "counter.add": lambda s: administration.add_counter(s, "quan-tri", "so-tu-phap", "quay-2", "Quầy 2"),
    "counter.rename": lambda s: administration.update_counter(s, "quan-tri", "so-tu-phap", "quay-1",
                                                              name="Quầy tiếp nhận", active=True),
    "counter.deactivate": lambda s: administration.update_counter(s, "quan-tri", "so-tu-phap", "quay-1",
                                                                  name="Quầy 1", active=False),
    "units.import": lambda s: administration.import_units(
        s, "quan-tri", administration.preview_units_import(s, "unit_id,name,block\np-a,Phường A,huyen\n")),
    "dossiers.import": lambda s: administration.import_dossiers(
        s, "quan-tri", administration.preview_dossiers_import(s, "unit_id,period,dossiers\nso-tu-phap,2026,9000\n")),
    "keys.rotate": lambda s: administration.rotate_link_keys(s, "quan-tri"),
    "response.exclude": lambda s: administration.review_response(s, "quan-tri", _flagged(s), False, "trùng lặp"),
    "response.include": lambda s: administration.review_response(s, "quan-tri", _flagged(s), True, "đã xác minh"),
    "backup": lambda s: administration.backup(s, "quan-tri"),
    "export.raw": lambda s: administration.export_raw(s, "quan-tri", "csv"),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_each_admin_action_writes_an_audit_row(store: Store, action: str) -> None:
    ACTIONS[action](store)
    rows = [(e.actor, e.action) for e in audit.read(store, actor="quan-tri")]
    assert rows == [("quan-tri", action)]


def test_refused_action_changes_nothing_and_writes_no_row(store: Store) -> None:
    before = units.list_units(store, active_only=False)
    for attempt in (
        lambda: administration.add_unit(store, "quan-tri", "so-tu-phap", "Trùng mã", "so"),
        lambda: administration.add_unit(store, "quan-tri", "Có Dấu", "Tên", "so"),
        lambda: administration.add_unit(store, "quan-tri", "p-x", "Tên", "so", parent_id="khong-co"),
        lambda: administration.update_unit(store, "quan-tri", "so-tu-phap", name="  ", instrument_id=None,
                                           active=True),
        lambda: administration.update_unit(store, "quan-tri", "so-tu-phap", name="Sở", instrument_id="khong-co",
                                           active=True),
        lambda: administration.add_counter(store, "quan-tri", "so-tu-phap", "quay-1", "Quầy trùng"),
    ):
        with pytest.raises(Refused):
            attempt()
    assert units.list_units(store, active_only=False) == before
    assert audit.read(store) == []


def test_bad_units_csv_changes_nothing_and_lists_each_bad_row(store: Store) -> None:
    before = units.list_units(store, active_only=False)
    text = ("unit_id,name,block,parent_id\n"
            "p-tot,Phường Tốt,huyen,q-cau-giay\n"
            "p-thieu-ten,,huyen,\n"
            "p-sai-khoi,Phường Sai,tinh,\n"
            "p-tot,Trùng mã,huyen,\n")
    preview = administration.preview_units_import(store, text, "phuong.csv")
    assert len(preview.problems) == 3
    assert [p.split(":")[0] for p in preview.problems] == ["dòng 3", "dòng 4", "dòng 5"]
    with pytest.raises(Refused):
        administration.import_units(store, "quan-tri", preview)
    orphan = administration.preview_units_import(store, "unit_id,name,block,parent_id\np-x,Phường X,huyen,khong-co\n")
    assert orphan.problems and "khong-co" in orphan.problems[0]
    assert units.list_units(store, active_only=False) == before
    assert audit.read(store) == []


def test_good_units_csv_previews_then_adds_and_updates(store: Store) -> None:
    text = ("unit_id,name,block,parent_id\n"
            "p-dich-vong,Phường Dịch Vọng,huyen,q-cau-giay\n"
            "q-cau-giay,Quận Cầu Giấy (mới),huyen,\n")
    preview = administration.preview_units_import(store, text)
    assert not preview.problems and preview.new_ids == {"p-dich-vong"}
    assert units.get_unit(store, "p-dich-vong") is None  # a preview changes nothing
    assert administration.import_units(store, "quan-tri", preview) == 2
    assert units.get_unit(store, "q-cau-giay").name == "Quận Cầu Giấy (mới)"
    assert [c.counter_id for c in units.list_counters(store, "p-dich-vong")] == ["quay-1"]


def test_deactivated_unit_keeps_its_data_and_refuses_its_codes(store: Store) -> None:
    store.submit(dvc_response(unit_id="so-tu-phap"))
    token = links.make_token("so-tu-phap", "quay-1", "sipas-dvc")
    administration.update_unit(store, "quan-tri", "so-tu-phap", name="Sở Tư pháp", instrument_id=None, active=False)
    with pytest.raises(links.BadLink):
        links.resolve_link(store, token)
    assert store.query("SELECT count(*) FROM responses WHERE unit_id = 'so-tu-phap'") == [(1,)]
    assert units.get_unit(store, "so-tu-phap") is not None


def test_review_changes_the_status_with_its_reason_and_deletes_nothing(store: Store) -> None:
    response_id = _flagged(store)
    assert [r.response_id for r in administration.flagged_responses(store)] == [response_id]
    with pytest.raises(Refused, match="lý do"):
        administration.review_response(store, "quan-tri", response_id, False, "  ")
    administration.review_response(store, "quan-tri", response_id, False, "Cùng một máy gửi 30 phiếu")
    assert store.query("SELECT status FROM responses") == [("excluded",)]
    assert store.query("SELECT count(*) FROM answers") == [(20,)]
    assert administration.flagged_responses(store) == []
    entry, = audit.read(store, action="response")
    assert entry.target == response_id and entry.detail == "flagged → excluded: Cùng một máy gửi 30 phiếu"


def test_flagged_list_holds_a_leaders_scope(store: Store) -> None:
    add_wards(store)
    mine = _flagged(store, unit_id="p-dich-vong", counter_id="quay-1")
    _flagged(store, unit_id="p-kim-ma", counter_id="quay-1")
    scope = units.unit_subtree(store, "q-cau-giay")
    assert [r.response_id for r in administration.flagged_responses(store, scope)] == [mine]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_raw_export_is_anonymous_and_holds_the_scope(store: Store, tmp_path: Path, fmt: str) -> None:
    add_wards(store)
    store.submit(dvc_response(unit_id="p-dich-vong", contact={"phone": "0912 345 678", "consent": True},
                              comment="Tôi là Nguyễn Văn A"))
    store.submit(dvc_response(unit_id="p-kim-ma"))
    archive = administration.export_raw(store, "quan-tri", fmt, units.unit_subtree(store, "q-cau-giay"))
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == [f"answers.{fmt}", f"choices.{fmt}", f"responses.{fmt}"]
        zf.extractall(tmp_path / "raw")
        everything = b"".join(zf.read(name) for name in zf.namelist())
    reader = "read_csv_auto" if fmt == "csv" else "read_parquet"
    con = duckdb.connect()
    responses = con.execute(f"SELECT * FROM {reader}(?)", [str(tmp_path / "raw" / f"responses.{fmt}")])
    columns = [d[0] for d in responses.description]
    rows = responses.fetchall()
    assert "client_hash" not in columns and len(rows) == 1 and rows[0][columns.index("unit_id")] == "p-dich-vong"
    answers = con.execute(f"SELECT count(*) FROM {reader}(?)", [str(tmp_path / "raw" / f"answers.{fmt}")])
    assert answers.fetchone() == (20,)
    assert b"0912345678" not in everything and "Nguyễn".encode() not in everything


def test_backup_is_a_restorable_copy(store: Store) -> None:
    store.submit(dvc_response())
    folder = administration.backup(store, "quan-tri")
    assert folder.parent == Path(config.DATA_DIR) / "backups"
    restored = duckdb.connect()
    restored.execute(f"IMPORT DATABASE '{folder}'")
    assert restored.execute("SELECT count(*) FROM responses").fetchone() == (1,)
    assert restored.execute("SELECT count(*) FROM units").fetchone() == (52,)
