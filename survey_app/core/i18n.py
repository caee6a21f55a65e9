"""Texts of the app in Vietnamese (first) and English, from messages.yaml."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from survey_app.core import yamltext

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"


@cache
def _catalog() -> dict[str, dict[str, str]]:
    text = (resources.files("survey_app.core") / "messages.yaml").read_text(encoding="utf-8")
    return yamltext.parse(text)


def t(key: str, lang: str = DEFAULT_LANG, **fields: Any) -> str:
    """The message `key` in `lang`, with its {fields} filled in."""
    entry = _catalog()[key]
    return entry.get(lang, entry[DEFAULT_LANG]).format(**fields)


def both(key: str, **fields: Any) -> str:
    """The message in one line for a reader of either language: "Vietnamese (English)"."""
    return f"{t(key, 'vi', **fields)} ({t(key, 'en', **fields)})"


def pick(text: dict[str, str], lang: str) -> str:
    """A questionnaire text ({vi, en}) in `lang`."""
    return text.get(lang) or text[DEFAULT_LANG]


class Explained(Exception):
    """An error whose text is a catalogue message: `message(lang)` for a page in the visitor's
    language, and one line "Vietnamese (English)" as str() for the command line and the logs."""

    def __init__(self, key: str, **fields: Any) -> None:
        self.key, self.fields = key, fields
        super().__init__(both(key, **fields))

    def message(self, lang: str = DEFAULT_LANG, escape: Callable[[str], str] | None = None) -> str:
        """The reason in `lang`; `escape` applied to each text field first (a page rendering Markdown
        passes its escaper: the fields quote what a person typed)."""
        fields = {k: escape(v) if escape and isinstance(v, str) else v for k, v in self.fields.items()}
        return t(self.key, lang, **fields)


class Refused(Explained, ValueError):
    """A request a person made that the rules refuse; `message()` says why in their language.

    Carries a message key rather than text so the page shows it in the visitor's language and the
    command line (which prints any ValueError as one line) shows Vietnamese with English after it.
    """
