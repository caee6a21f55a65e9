"""Questionnaire files: the shipped ones load; each kind of bad file is reported with its place."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from survey_app.core import config
from survey_app.core.instruments import InstrumentError, load_instrument, load_instruments


def test_shipped_instruments_load_with_the_sipas_items() -> None:
    instruments = load_instruments()
    assert set(instruments) == {"sipas-dvc", "sipas-2017", "nhanh-3"}
    dvc = instruments["sipas-dvc"]
    assert [e.id for e in dvc.elements] == ["TC", "TT", "CC", "KQ", "PA"]
    assert [len(e.items) for e in dvc.elements] == [4, 4, 5, 3, 3]
    assert len(instruments["sipas-2017"].items) == 22
    assert dvc.skipped_elements("chua_nhan") == {"KQ"}
    assert all(i.na_allowed for i in dvc.elements[4].items)
    assert not any(i.na_allowed for e in dvc.elements[:4] for i in e.items)
    assert dvc.overall is not None and dvc.overall.id not in {i.id for i in dvc.items}
    assert instruments["nhanh-3"].items[0].scale.satisfied == {2, 3}


def test_every_citizen_string_has_both_languages() -> None:
    for instrument in load_instruments().values():
        texts = [instrument.title, *(e.text for e in instrument.elements), *(i.text for i in instrument.items)]
        texts += [q.text for q in instrument.questions] + [o.text for q in instrument.questions for o in q.options]
        assert all(t["vi"] and t["en"] for t in texts), instrument.id


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((config.QUESTIONS_DIR / "sipas-dvc.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "sipas-dvc.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("mutate", "place", "words"), [
    (lambda d: d["elements"][1]["items"].append({"id": "TC1", "vi": "x", "en": "x"}),
     "elements[1].items[4]", "already used"),
    (lambda d: d["elements"][0]["items"][0].pop("en"), "elements[0].items[0]", "'en' is a required property"),
    (lambda d: d["elements"][2].update(items=[]), "elements[2].items", "should be non-empty"),
    (lambda d: d["elements"][0].update(scale="sat7"), "elements[0].scale", "not defined"),
    (lambda d: d["scales"]["sat5"].update(satisfied=[4, 6]), "scales.sat5.satisfied", "not an option"),
    (lambda d: d["scales"]["sat5"]["options"][0].update(code=9), "scales.sat5.options[0].code", "maximum"),
    (lambda d: d["stage"]["options"][1].update(skips=["XX"]), "stage.options[1].skips", "unknown element"),
    (lambda d: d["questions"][0].update(show_if={"item": "ZZ9", "values": [1]}), "questions[0].show_if.item",
     "unknown item"),
    (lambda d: d["elements"][0]["items"][0].update(na="yes"), "elements[0].items[0].na", "not of type"),
    (lambda d: d.update(colour="blue"), "", "Additional properties"),
])
def test_bad_instrument_names_file_place_and_problem(tmp_path: Path, mutate, place: str, words: str) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(InstrumentError) as caught:
        load_instrument(path)
    assert caught.value.path == str(path)
    assert caught.value.place == place
    assert words in caught.value.problem


def test_broken_yaml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: bad\ntitle: {vi: x, en: [\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"bad.yaml: line \d+, column \d+: not valid YAML"):
        load_instrument(path)


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("id: x\ntitle: Tiếp cận".encode("utf-16"))
    with pytest.raises(InstrumentError, match="not UTF-8"):
        load_instrument(path)


def test_version_changes_with_content_not_with_comments(tmp_path: Path) -> None:
    source = config.QUESTIONS_DIR / "sipas-dvc.yaml"
    original = load_instrument(source)
    commented = tmp_path / "sipas-dvc.yaml"
    commented.write_text("# a new comment\n" + source.read_text(encoding="utf-8"), encoding="utf-8")
    assert load_instrument(commented).version == original.version
    reworded = _write(tmp_path, lambda d: d["elements"][0]["items"][0].update(vi="Câu hỏi mới"))
    assert load_instrument(reworded).version != original.version


def test_folder_refuses_file_name_that_differs_from_id(tmp_path: Path) -> None:
    shutil.copy(config.QUESTIONS_DIR / "nhanh-3.yaml", tmp_path / "nhanh-4.yaml")
    with pytest.raises(InstrumentError, match="must match the file name"):
        load_instruments(tmp_path)
