"""One catalogue for every user-facing text (survey_app/core/messages.yaml): each key the code asks for
is there in Vietnamese and English with the same fields, and each key there is asked for somewhere."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from survey_app.core.config import PROJECT_DIR
from survey_app.core.i18n import LANGS, Refused, _catalog, both, t

CODE = ("survey_app", "results")
# What takes a message key as its first argument.
TAKES_A_KEY = {"t", "both", "Refused", "Explained", "StoreUnavailable", "DatabaseBusy", "UnknownPlace", "UsageError",
               "__init__"}
KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
PREFIX = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]*)+")  # the head of a key built in an f-string


def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for package in CODE:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _asked(trees: Iterator[tuple[Path, ast.AST]] | None = None) -> tuple[set[str], set[str]]:
    """The keys the code passes as text, and the prefixes of keys it builds (f"link.bad.{reason}")."""
    keys, prefixes = set(), set()
    for _, tree in trees or _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and _callee(node) in TAKES_A_KEY):
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
