"""Words the leaders' documents share — the workbook and CSV (export.py), the period report (report.py)
and the monthly scorecards (scorecard.py) — in the document's language, from the one catalogue
(survey_app/core/messages.yaml: doc.*, block.*, results.not_adequate). Numbers in them go through
survey_app.core.formats."""

from __future__ import annotations

from results.model import GroupResult
from survey_app.core.config import BLOCKS
from survey_app.core.formats import NONE, number
from survey_app.core.i18n import DEFAULT_LANG, t


def block_title(block: str | None, lang: str = DEFAULT_LANG) -> str:
    """"Khối Sở, ban, ngành" for "so"; a block the configuration does not know, as it is."""
    return t(f"block.{block}", lang) if block in BLOCKS else block or ""


def unranked(group: GroupResult, lang: str = DEFAULT_LANG) -> str:
    """Why a unit has no rank: too few responses, or none at all."""
    return t("results.not_adequate" if group.n else "doc.no_responses", lang)


def percent(value: float | None) -> str:
    """76,46 % ("–" when there is no figure)."""
    return NONE if value is None else f"{number(value)} %"
