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
# An element that only carries a script takes no room; a step heading, focused
# by the script below (not a control), shows no ring and no link icon.
STYLE = """<style>
[data-testid="stCaptionContainer"], [data-testid="InputInstructions"] { color: #4b5563; opacity: 1; }
[data-testid="InputInstructions"] > span:first-child { display: none; }
[data-testid="stElementContainer"]:has(:disabled) [data-testid="stWidgetLabel"] p { color: #6b7280; }
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) { display: none; }
[data-testid="stForm"] h3 [data-testid="stHeaderActionElements"] { display: none; }
[data-testid="stForm"] h3[tabindex="-1"]:focus { outline: none; }
</style>"""
# Larger text: Streamlit sizes text, padding and tap targets in rem, so the root size scales them all;
# long answer choices wrap instead of being cut off with an ellipsis.
LARGE_STYLE = """<style>
html { font-size: 21px; }
[class*="st-key-r_"] button { min-height: 60px; min-width: 64px; }
[class*="st-key-q_"] button, [class*="st-key-q_"] button * { white-space: normal; text-overflow: clip; height: auto; }
</style>"""
_LANG_SCRIPT = "<script>document.documentElement.lang = {lang};</script>"
# Drawn after the step, it finds the step's heading at once (a few frames' grace at most) and takes
# focus there, so a keyboard or a screen reader starts at the top of the new step as after a page
# change. It never acts later than that: a page that jumps under a finger taps the wrong thing.
_FOCUS_SCRIPT = """<script>
(() => {{
  const step = {step};  // the step key makes each step's script a new element, so it runs again
  let frames = 0;
  const focusTop = () => {{
    const heading = document.querySelector('[data-testid=stForm] h3');
    if (!heading) {{ if (frames++ < 5) requestAnimationFrame(focusTop); return; }}
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }};
  focusTop();
}})();
</script>"""


def page_setup() -> None:
    """Every page: the contrast styles and the page language, Vietnamese."""
    st.html(STYLE)
    st.html(_LANG_SCRIPT.format(lang=json.dumps("vi")), unsafe_allow_javascript=True)


def citizen_setup(lang: str, *, large: bool) -> None:
    """The citizen's page: their language (after page_setup's, so it wins) and larger text when asked."""
    if large:
        st.html(LARGE_STYLE)
    if lang != "vi":
        st.html(_LANG_SCRIPT.format(lang=json.dumps(lang)), unsafe_allow_javascript=True)


def focus_step(step: str) -> None:
    """Move the focus to the heading of the step about to be drawn."""
    st.html(_FOCUS_SCRIPT.format(step=json.dumps(step)), unsafe_allow_javascript=True)
