"""The dashboard's downloads of a slice, as bytes: results.export's XLSX and results.report's PDF."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from results.aggregate import compute
from results.cchc import RuleTable, cchc_points
from results.export import write_xlsx
from results.model import Results
from results.report import write_report
from results.scope import Source
from survey_app.core.i18n import DEFAULT_LANG


def workbook(results: Results, table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> bytes:
    """The XLSX of these (sliced) results in `lang`, with CCHC points when a rule table is given."""
    out = io.BytesIO()
    write_xlsx(results, out, cchc_points(results, table) if table else None, table, lang)
    return out.getvalue()


def report_pdf(source: Source, results: Results, table: RuleTable | None = None, lang: str = DEFAULT_LANG) -> bytes:
    """The PDF of the period in `lang` for the slice `source` sees (its blocks computed through it)."""
    blocks = compute(source, results.period, by="block", instrument_id=results.instrument.id, method=results.method,
                     include_flagged="flagged" in results.statuses, choices=False, compare=False)
    with tempfile.TemporaryDirectory() as folder:  # write_report writes to a path, not a stream
        path = Path(folder) / "report.pdf"
        write_report(results, blocks, path, cchc_points(results, table) if table else None, table, lang)
        return path.read_bytes()
