"""Stored text shown as text: unit and counter names, ids, e-mail addresses and anything else a
person typed are put into Markdown-rendering elements (titles, captions, alerts, labels) only through
`plain`, so `![t](http://…)` or `[bấm vào đây](http://…)` shows as typed instead of loading an image
or offering a link.
"""

from __future__ import annotations

import re

# Every ASCII punctuation mark CommonMark lets a backslash escape that Streamlit's Markdown reads
# (emphasis, links and images, headings, lists, tables, HTML, LaTeX `$`, `:colour[…]` and emoji `:x:`).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=^])")


def plain(text: str) -> str:
    """`text` escaped so that Markdown shows it character for character, on one line."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))
