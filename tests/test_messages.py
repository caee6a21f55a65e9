"""One catalogue for every user-facing text (survey_app/core/messages.yaml): each key the code asks for
is there in Vietnamese and English with the same fields, and each key there is asked for somewhere; the
modules moved to the catalogue hold no Vietnamese text of their own (docstrings and comments aside)."""

from __future__ import annotations

import ast
import re
import string
import unicodedata
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from survey_app.core.config import PROJECT_DIR
from survey_app.core.i18n import LANGS, Refused, _catalog, both, t

CODE = ("survey_app", "results")
# What takes a message key as its first argument, besides every exception class built on these (_takes_a_key).
TAKES_A_KEY = {"t", "both", "Refused", "Explained", "StoreUnavailable", "DatabaseBusy", "UnknownPlace", "UsageError",
               "__init__"}
KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
PREFIX = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]*)+")  # the head of a key built in an f-string


def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for package in CODE:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


@cache
def _takes_a_key() -> frozenset[str]:
    """TAKES_A_KEY and the classes of the code built on one of them (MethodError, PeriodError …), so
    that `raise PeriodError("period.bad", …)` is seen as asking for a key."""
    classes = [node for _, tree in _trees() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    found, grown = set(TAKES_A_KEY), True
    while grown:
        new = {c.name for c in classes if any(isinstance(b, ast.Name) and b.id in found for b in c.bases)}
        grown = not new <= found
        found |= new
    return frozenset(found)


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _asked(trees: Iterator[tuple[Path, ast.AST]] | None = None) -> tuple[set[str], set[str]]:
    """The keys the code passes as text, and the prefixes of keys it builds (f"link.bad.{reason}")."""
    keys, prefixes = set(), set()
    for _, tree in trees or _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and _callee(node) in _takes_a_key()):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and KEY.fullmatch(first.value):
                keys.add(first.value)
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant) \
                    and PREFIX.fullmatch(str(first.values[0].value)):
                prefixes.add(str(first.values[0].value))
    return keys, prefixes


def _literals() -> set[str]:
    """Every string in the code that looks like a key or a key's head (keys also sit in tuples and
    dicts, and helpers build them: f"case.status.{status}")."""
    return {node.value for _, tree in _trees() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and PREFIX.fullmatch(node.value)}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_the_code_asks_for_is_in_the_catalogue() -> None:
    keys, prefixes = _asked()
    catalogue = _catalog()
    assert sorted(keys - set(catalogue)) == []
    assert sorted(p for p in prefixes if not any(k.startswith(p) for k in catalogue)) == []
    assert len(keys) > 200  # the scan sees the code


def test_every_message_has_each_language_with_the_same_fields() -> None:
    for key, entry in _catalog().items():
        assert set(entry) == set(LANGS), key
        assert all(entry[lang].strip() for lang in LANGS), key
        assert _fields(entry["vi"]) == _fields(entry["en"]), key


def test_no_message_is_left_unused() -> None:
    literals = _literals()
    _, prefixes = _asked()
    heads = {text for text in literals if text.endswith(".")} | prefixes
    unused = [key for key in _catalog() if key not in literals and not any(key.startswith(p) for p in heads)]
    assert unused == []


def test_the_command_line_gets_one_line_vietnamese_then_english() -> None:
    refused = Refused("admin.unknown_unit", unit="so-x")
    assert str(refused) == both("admin.unknown_unit", unit="so-x") == "Không có đơn vị mã so-x. (No unit with id so-x.)"
    assert refused.message("en") == t("admin.unknown_unit", "en", unit="so-x")


@pytest.mark.parametrize("code", ['t("no.such_key", lang)', 'raise Refused("no.such_key", n=1)',
                                  'super().__init__(f"no.such_{reason}")'])
def test_the_scan_would_see_a_missing_key(code: str) -> None:
    keys, prefixes = _asked(iter([(Path("x.py"), ast.parse(code))]))
    assert keys | prefixes in ({"no.such_key"}, {"no.such_"})


def test_the_exceptions_built_on_explained_are_seen_to_take_a_key() -> None:
    assert {"MethodError", "RulesError", "CatalogError", "PeriodError", "BadLink"} <= _takes_a_key()


# -- no Vietnamese text outside the catalogue --------------------------------------------------------------

# Every module of the app and of results takes its texts from the catalogue, but these, which hold data
# written in Vietnamese rather than texts of the app: module → why.
DATA_MODULES = {
    "survey_app/demo/generate.py": "the demo's citizens' comments and the units' replies: data, like a real response",
}
# Letters only Vietnamese (and a few other languages) write: a vowel with a tone mark, ă â ê ô ơ ư, đ.
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_MARKED = {unicodedata.normalize("NFC", vowel + tone) for vowel in "aăâeêioôơuưy" for tone in _TONES} | set("ăâêôơưđ")
VIETNAMESE = frozenset(_MARKED | {letter.upper() for letter in _MARKED})


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def vietnamese_literals(source: str) -> list[str]:
    """The string constants of `source` (the pieces of f-strings included, docstrings not) that hold a
    Vietnamese letter, as "line: text"."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    return [f"{node.lineno}: {node.value}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and VIETNAMESE.intersection(node.value)]


def _modules() -> list[str]:
    return sorted(str(path.relative_to(PROJECT_DIR)) for package in ("survey_app", "results")
                  for path in (PROJECT_DIR / package).rglob("*.py"))


def test_no_module_holds_vietnamese_text_outside_the_catalogue() -> None:
    found = {path: vietnamese_literals((PROJECT_DIR / path).read_text(encoding="utf-8"))
             for path in _modules() if path not in DATA_MODULES}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_data_modules_still_hold_vietnamese_data() -> None:
    """An exemption that no longer exempts anything is removed, not left to cover a future text."""
    for path in DATA_MODULES:
        assert vietnamese_literals((PROJECT_DIR / path).read_text(encoding="utf-8")), path


@pytest.mark.parametrize(("source", "found"), [
    ('print("Đã ghi tệp")', ["1: Đã ghi tệp"]),
    ('raise ValueError(f"{n} phản ánh (cases)")', ["1:  phản ánh (cases)"]),
    ('NAMES = {"a": "TỔNG HỢP"}', ["1: TỔNG HỢP"]),
    ('class A:\n    """Lớp."""\n    name = "lớp"', ["3: lớp"]),
    ('def f():\n    x = 1\n    "không phải docstring"', ["3: không phải docstring"]),
    ('"""Mô-đun."""\n\n\ndef f():\n    """Hàm."""\n    return "ok"  # bình luận', []),
    ('KEY = "cli.units_loaded"; DASH = "–"; TIMES = "×"', []),
])
def test_the_scan_would_see_a_vietnamese_text(source: str, found: list[str]) -> None:
    assert vietnamese_literals(source) == found
