"""Questionnaires (instruments): load the YAML files of questions/, validate them, version them.

An instrument's version is a checksum of its content, so editing a file makes a new version and
stored responses keep the version they answered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from survey_app.core import config, yamltext
from survey_app.core.i18n import LANGS


class InstrumentError(ValueError):
    """A questionnaire file is wrong: names the file, the place inside it and what is wrong."""

    def __init__(self, path: Path | str, place: str, problem: str) -> None:
        self.path, self.place, self.problem = str(path), place, problem
        super().__init__(f"{path}: {place or '(top)'}: {problem}")


Text = dict[str, str]


@dataclass(frozen=True)
class Condition:
    """When a question is shown: for some stages, or for some values of an item."""

    stages: frozenset[str] = frozenset()
    item_id: str | None = None
    values: frozenset[int] = frozenset()

    def holds(self, stage: str | None, answers: dict[str, int | None]) -> bool:
        if self.stages:
            return stage in self.stages
        return answers.get(self.item_id or "") in self.values


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text


@dataclass(frozen=True)
class Scale:
    id: str
    options: tuple[tuple[int, Text], ...]
    satisfied: frozenset[int]

    @property
    def codes(self) -> frozenset[int]:
        return frozenset(code for code, _ in self.options)


@dataclass(frozen=True)
class Item:
    id: str
    element_id: str | None
    text: Text
    scale: Scale
    na_text: Text | None  # None: the item must be rated

    @property
    def na_allowed(self) -> bool:
        return self.na_text is not None


@dataclass(frozen=True)
class Element:
    id: str
    text: Text
    items: tuple[Item, ...]


@dataclass(frozen=True)
class StageOption:
    id: str
    text: Text
    skips: frozenset[str]  # element ids not asked at this stage (stored as N/A)


@dataclass(frozen=True)
class Stage:
    text: Text
    options: tuple[StageOption, ...]

    def option(self, option_id: str) -> StageOption | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    text: Text
    options: tuple[Choice, ...]
    max_choices: int  # 1 = single choice
    show_if: Condition | None

    @property
    def option_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options)


@dataclass(frozen=True)
class CommentSpec:
    text: Text
    show_if: Condition | None


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    checksum: str
    title: Text
    intro: Text | None
    elements: tuple[Element, ...]
    stage: Stage | None
    overall: Item | None
    questions: tuple[Question, ...]
    service_fields: tuple[Choice, ...]
    comment: CommentSpec | None
    definition: dict[str, Any]  # the parsed file, stored with each version

    @property
    def items(self) -> tuple[Item, ...]:
        """The rated items that make up the index, in questionnaire order."""
        return tuple(item for element in self.elements for item in element.items)

    @property
    def answer_items(self) -> dict[str, Item]:
        """Every item a response may answer: the index items and the overall question."""
        extra = (self.overall,) if self.overall else ()
        return {item.id: item for item in self.items + extra}

    def skipped_elements(self, stage: str | None) -> frozenset[str]:
        option = self.stage.option(stage) if self.stage and stage else None
        return option.skips if option else frozenset()

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


def checksum_of(definition: dict[str, Any]) -> str:
    """Checksum of the content, not of the bytes: comments and layout do not make a new version."""
    canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@cache
def _schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((config.QUESTIONS_DIR / "schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _place(path: Any) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def load_instrument(path: Path) -> Instrument:
    """Read and validate one instrument file; raise InstrumentError on any problem."""
    try:
        raw = yamltext.parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InstrumentError(path, "", "the file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InstrumentError(path, place, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(raw, dict):
        raise InstrumentError(path, "", "the file must hold a mapping with id, title, scales, elements")
    error = jsonschema.exceptions.best_match(_schema_validator().iter_errors(raw))
    if error is not None:
        raise InstrumentError(path, _place(error.absolute_path), error.message)
    return instrument_from_definition(path, raw)


def _text(node: dict[str, Any]) -> Text:
    return {lang: node[lang] for lang in LANGS}


def _condition(node: dict[str, Any] | None) -> Condition | None:
    if node is None:
        return None
    return Condition(
        stages=frozenset(node.get("stage", ())),
        item_id=node.get("item"),
        values=frozenset(node.get("values", ())),
    )


def instrument_from_definition(path: Path, raw: dict[str, Any]) -> Instrument:
    """Build an instrument from a parsed definition (a file, or a version stored in the database)."""
    ids_seen: dict[str, str] = {}

    def claim(identifier: str, place: str) -> None:
        if identifier in ids_seen:
            raise InstrumentError(path, place, f"id '{identifier}' is already used at {ids_seen[identifier]}")
        ids_seen[identifier] = place

    scales = {}
    for scale_id, node in raw["scales"].items():
        codes = [o["code"] for o in node["options"]]
        if len(set(codes)) != len(codes):
            raise InstrumentError(path, f"scales.{scale_id}.options", "two options have the same code")
        if not set(node["satisfied"]) <= set(codes):
            raise InstrumentError(path, f"scales.{scale_id}.satisfied", "lists a code that is not an option")
        options = tuple((o["code"], _text(o)) for o in node["options"])
        scales[scale_id] = Scale(scale_id, options, frozenset(node["satisfied"]))

    def scale_for(node: dict[str, Any], default: str | None, place: str) -> Scale:
        scale_id = node.get("scale", default)
        if scale_id is None:
            raise InstrumentError(path, place, "names no scale and the file has more than one")
        if scale_id not in scales:
            raise InstrumentError(path, f"{place}.scale", f"scale '{scale_id}' is not defined in scales")
        return scales[scale_id]

    default_scale = next(iter(scales)) if len(scales) == 1 else None

    def item(node: dict[str, Any], element_id: str | None, scale: Scale, na: Text | None, place: str) -> Item:
        claim(node["id"], place)
        item_scale = scale_for(node, scale.id, place) if "scale" in node else scale
        item_na = _text(node["na"]) if "na" in node else na
        return Item(node["id"], element_id, _text(node), item_scale, item_na)

    elements = []
    for e, node in enumerate(raw["elements"]):
        place = f"elements[{e}]"
        claim(node["id"], place)
        scale = scale_for(node, default_scale, place)
        na = _text(node["na"]) if "na" in node else None
        items = tuple(
            item(i_node, node["id"], scale, na, f"{place}.items[{i}]") for i, i_node in enumerate(node["items"])
        )
        elements.append(Element(node["id"], _text(node), items))
    element_ids = {e.id for e in elements}

    overall = None
    if "overall" in raw:
        overall = item(raw["overall"], None, scale_for(raw["overall"], default_scale, "overall"), None, "overall")

    stage = None
    if "stage" in raw:
        options = []
        for s, node in enumerate(raw["stage"]["options"]):
            unknown = set(node.get("skips", ())) - element_ids
            if unknown:
                raise InstrumentError(path, f"stage.options[{s}].skips", f"unknown element {sorted(unknown)[0]}")
            options.append(StageOption(node["id"], _text(node), frozenset(node.get("skips", ()))))
        if len({o.id for o in options}) != len(options):
            raise InstrumentError(path, "stage.options", "two options have the same id")
        stage = Stage(_text(raw["stage"]["text"]), tuple(options))

    answer_items = {i.id: i for el in elements for i in el.items} | ({overall.id: overall} if overall else {})

    def condition(node: dict[str, Any] | None, place: str) -> Condition | None:
        cond = _condition(node)
        if cond is None:
            return None
        if cond.stages and (stage is None or not cond.stages <= {o.id for o in stage.options}):
            raise InstrumentError(path, f"{place}.show_if.stage", "names a stage option that does not exist")
        if cond.item_id is not None:
            target = answer_items.get(cond.item_id)
            if target is None:
                raise InstrumentError(path, f"{place}.show_if.item", f"unknown item '{cond.item_id}'")
            if not cond.values <= target.scale.codes:
                raise InstrumentError(path, f"{place}.show_if.values", "a value is not on the item's scale")
        return cond

    questions = []
    for q, node in enumerate(raw.get("questions", ())):
        place = f"questions[{q}]"
        claim(node["id"], place)
        options = tuple(Choice(o["id"], _text(o)) for o in node["options"])
        if len({o.id for o in options}) != len(options):
            raise InstrumentError(path, f"{place}.options", "two options have the same id")
        questions.append(
            Question(node["id"], node["section"], _text(node), options, node.get("multiple", 1),
                     condition(node.get("show_if"), place))
        )

    fields = tuple(Choice(o["id"], _text(o)) for o in raw.get("service_fields", ()))
    if len({f.id for f in fields}) != len(fields):
        raise InstrumentError(path, "service_fields", "two fields have the same id")
    comment = None
    if "comment" in raw:
        comment = CommentSpec(_text(raw["comment"]), condition(raw["comment"].get("show_if"), "comment"))

    checksum = checksum_of(raw)
    return Instrument(
        id=raw["id"], version=checksum[:12], checksum=checksum, title=_text(raw["title"]),
        intro=_text(raw["intro"]) if "intro" in raw else None, elements=tuple(elements), stage=stage,
        overall=overall, questions=tuple(questions), service_fields=fields, comment=comment, definition=raw,
    )


def load_instruments(directory: Path | None = None) -> dict[str, Instrument]:
    """Every instrument of the folder, by id; the first bad file raises InstrumentError."""
    directory = directory or config.QUESTIONS_DIR
    found: dict[str, Instrument] = {}
    for path in sorted(directory.glob("*.yaml")):
        instrument = load_instrument(path)
        if instrument.id in found:
            raise InstrumentError(path, "id", f"instrument '{instrument.id}' is defined in two files")
        if path.stem != instrument.id:
            raise InstrumentError(path, "id", f"the id '{instrument.id}' must match the file name '{path.stem}'")
        found[instrument.id] = instrument
    if not found:
        raise InstrumentError(directory, "", "no questionnaire (*.yaml) found")
    return found
