"""One-shot messages: a button callback says what happened; the next run shows it once, on top.

Callbacks run before the page is drawn, so tables drawn after them already show the change.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

KEY = "flash"
Kind = Literal["success", "info", "warning", "error"]


def say(kind: Kind, text: str) -> None:
    st.session_state[KEY] = (kind, text)


def show() -> None:
    kind, text = st.session_state.pop(KEY, (None, ""))
    if kind is not None:
        getattr(st, kind)(text)
