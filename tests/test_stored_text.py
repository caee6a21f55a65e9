"""Issue 14: unit and counter names (stored text) reach citizens and leaders as text, never as
Markdown — a name written as an image and a link must load no image and offer no link.

Each page runs in AppTest; every text Streamlit would render as Markdown (bodies of titles, alerts,
captions and Markdown, and labels, help and captions of widgets and images) is rendered here by a
CommonMark parser, as the browser's renderer would, and checked for <img> and <a>.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from factories import NOW, add, dvc_answers, dvc_response
from google.protobuf.message import Message
from logins import add_user, cheap_hashes, log_in, open_page
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Node

from survey_app.collection import links
from survey_app.core import config
from survey_app.db.store import Store
from survey_app.ui.text import plain

EVIL = "![t](http://x/t.png) [bấm](http://x)"
UNIT = "so-tu-phap"
MARKDOWN_FIELDS = {"body", "label", "caption", "help"}
_render = MarkdownIt("commonmark").render


def _strings(message: Message) -> Iterator[str]:
    """The Markdown-rendered strings of one element's message, nested ones included."""
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for item in values:
            if isinstance(item, Message):
                yield from _strings(item)
            elif isinstance(item, str) and field.name in MARKDOWN_FIELDS:
                yield item


def _nodes(block: Block) -> Iterator[Node]:
    for child in block.children.values():
        yield child
        if isinstance(child, Block):
            yield from _nodes(child)


def rendered(at: AppTest) -> str:
    found = []
    for root in (at.main, at.sidebar):
        for node in _nodes(root):
            proto = getattr(node, "proto", None)
            if isinstance(proto, Message):
                found += [_render(text) for text in _strings(proto)]
    return "\n".join(found)


def assert_text_only(at: AppTest) -> None:
    assert not at.exception, at.exception
    html = rendered(at)
    assert "http://x" in html  # the name is on the page…
    assert "<img" not in html and "<a " not in html  # …as text


@pytest.fixture
def evil_db(store: Store, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cheap_hashes(monkeypatch)
    store.write(lambda con: con.execute("UPDATE units SET name = ? WHERE unit_id = ?", [EVIL, UNIT]))
    store.write(lambda con: con.execute("UPDATE counters SET name = ? WHERE unit_id = ?", [EVIL, UNIT]))
    add(store, [dvc_response(UNIT, dvc_answers(v, pa=None), when=NOW - timedelta(minutes=5)) for v in (2, 4, 5)])
    add_user(store, "quan-tri", "admin")
    add_user(store, "lan", "staff", UNIT)
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.setenv("SIPAS_DB", str(db_path))
    store.close()
    yield db_path


def test_plain_keeps_every_character_visible() -> None:
    assert _render(plain(EVIL)).strip() == f"<p>{EVIL}</p>"
    assert _render(plain("**đậm** `mã` # 1. <b>x</b> $x$ :red[đỏ]")).strip() == \
        "<p>**đậm** `mã` # 1. &lt;b&gt;x&lt;/b&gt; $x$ :red[đỏ]</p>"


def test_citizens_see_the_names_as_text(evil_db: Path) -> None:
    at = AppTest.from_file(str(config.PROJECT_DIR / "survey_app" / "app.py"), default_timeout=30)
    at.query_params["k"] = links.make_token(UNIT, "quay-1", "sipas-dvc")
    assert_text_only(at.run())


def test_staff_see_the_names_as_text_on_the_qr_page(evil_db: Path) -> None:
    assert_text_only(open_page(log_in("lan"), "staff-qr"))


def test_leaders_see_the_names_as_text_on_the_dashboard(evil_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "dashboard")
    at.session_state["dash_unit"] = UNIT  # the filters, the headline and the drill-down name the unit
    at.session_state["dash_counter"] = "quay-1"
    assert_text_only(at.run())


def test_admins_see_the_names_as_text(evil_db: Path) -> None:
    at = open_page(log_in("quan-tri"), "admin-units")
    at.selectbox(key="adm_unit").set_value(UNIT)
    assert_text_only(at.run())
