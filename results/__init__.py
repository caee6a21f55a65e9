"""SIPAS results: indices, sample adequacy, margins of error, rankings, CCHC points and reports.

A library (the dashboard calls it) and a command line (`python -m results`). Never imports Streamlit.
"""

from results.aggregate import compute, rank_within_blocks
from results.method import Method, MethodError, load_method
from results.model import ChoiceResult, GroupResult, ItemResult, Results
from survey_app.core.periods import Period, PeriodError, parse_period, period_between

__all__ = [
    "ChoiceResult", "GroupResult", "ItemResult", "Method", "MethodError", "Period", "PeriodError", "Results",
    "compute", "load_method", "parse_period", "period_between", "rank_within_blocks",
]
