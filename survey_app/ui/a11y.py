"""What every page needs for people with poor sight, keyboards and screen readers (WCAG 2.1 AA).

Streamlit serves `<html lang="en">` and has no setting for it (streamlit/streamlit#15726), greys
captions to 60 % of the text colour and writes a few English hints of its own; this module corrects
those from the page, in one place.
"""

from __future__ import annotations

import json

import streamlit as st

# Captions and widget hints: Streamlit fades them to 60 % opacity of the text colour, which on white
# and on the grey sidebar falls under the 4.5:1 contrast of WCAG 1.4.3; #4b5563 gives 7.5:1 on white.
# Streamlit's "Press Ctrl+Enter to submit form" (the first span of its input hints) is English on a
# Vietnamese page and says nothing a keyboard user needs, so it goes; the character counter that
# follows it while typing (max_chars) stays. A disabled
# widget's label stays grey but readable (#6b7280, 4.8:1) rather than Streamlit's 2.4:1.
# An element that only carries a script takes no room; a step heading, focused, shows no link icon.
STYLE = """<style>
[data-testid="stCaptionContainer"], [data-testid="InputInstructions"] { color: #4b5563; opacity: 1; }
[data-testid="InputInstructions"] > span:first-child { display: none; }
[data-testid="stElementContainer"]:has(:disabled) [data-testid="stWidgetLabel"] p { color: #6b7280; }
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) { display: none; }
[data-testid="stForm"] h3 [data-testid="stHeaderActionElements"] { display: none; }
</style>"""
# Larger text: Streamlit sizes text, padding and tap targets in rem, so the root size scales them all;
# long answer choices wrap instead of being cut off with an ellipsis.
LARGE_STYLE = """<style>
html { font-size: 21px; }
[class*="st-key-r_"] button { min-height: 60px; min-width: 64px; }
[class*="st-key-q_"] button, [class*="st-key-q_"] button * { white-space: normal; text-overflow: clip; height: auto; }
</style>"""
_LANG_SCRIPT = "<script>document.documentElement.lang = {lang};</script>"
# Waits for the step's heading (the step is drawn after this script), then takes focus there, so
# a keyboard or a screen reader starts at the top of the new step as after a page change.
_FOCUS_SCRIPT = """<script>
(() => {{
  const step = {step};  // the step key makes each step's script a new element, so it runs again
  let tries = 0;
  const focusTop = () => {{
    const heading = document.querySelector('[data-testid=stForm] h3');
    if (!heading) {{ if (tries++ < 60) setTimeout(focusTop, 50); return; }}
    heading.setAttribute('tabindex', '-1');
    heading.focus({{preventScroll: true}});
    heading.scrollIntoView({{block: 'start'}});
  }};
  setTimeout(focusTop, 0);
}})();
</script>"""


def page_setup(lang: str, *, large: bool = False) -> None:
    """The contrast styles, larger text when asked, and the page language."""
    st.html(STYLE + (LARGE_STYLE if large else ""))
    st.html(_LANG_SCRIPT.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


def focus_step(step: str) -> None:
    """Move the focus to the heading of the step about to be drawn."""
    st.html(_FOCUS_SCRIPT.format(step=json.dumps(step)), unsafe_allow_javascript=True)
