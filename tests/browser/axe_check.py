"""axe-core (WCAG 2.0/2.1 A and AA rules) on a live page, and a failure message a person can act on."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Markup inside Streamlit that the app cannot reach: (rule, selector) → why. Only that rule, and
# only on elements inside that selector, is let through; every other rule still runs there.
STREAMLIT_INTERNALS: dict[tuple[str, str], str] = {
    # The sidebar navigation with sections (st.navigation given a dict) draws <ul> > <div> > <li>:
    # the section's wrapper is Streamlit's React markup; no option or style changes the elements.
    ("list", "[data-testid=stSidebarNavItems]"): "Streamlit's sectioned sidebar navigation",
    ("listitem", "[data-testid=stSidebarNavItems]"): "Streamlit's sectioned sidebar navigation",
}
_axe = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    found = []
    for rule in results.response["violations"]:
        nodes = [node for node in rule["nodes"] if not _streamlit_internal(page, rule["id"], node)]
        if nodes:
            found.append({**rule, "nodes": nodes})
    return found


def _streamlit_internal(page: Page, rule: str, node: dict[str, Any]) -> bool:
    selectors = [selector for (rule_id, selector) in STREAMLIT_INTERNALS if rule_id == rule]
    target = node["target"][-1] if node["target"] else ""
    if not selectors or not isinstance(target, str):
        return False
    return page.evaluate("([target, selectors]) => { const e = document.querySelector(target);"
                         " return Boolean(e) && selectors.some(s => e.closest(s)); }", [target, selectors])


def describe(found: list[dict[str, Any]]) -> str:
    """One paragraph per rule: its id, impact and help, then each element's selector, markup and why."""
    lines = []
    for rule in found:
        lines.append(f"{rule['id']} ({rule['impact']}): {rule['help']} — {len(rule['nodes'])} element(s)")
        for node in rule["nodes"][:15]:
            why = " ".join(node.get("failureSummary", "").split())
            lines.append(f"  {' > '.join(map(str, node['target']))}\n    {node['html'][:200]}\n    {why[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    found = violations(page)
    assert not found, f"WCAG 2.1 AA violations on {where}:\n{describe(found)}"
