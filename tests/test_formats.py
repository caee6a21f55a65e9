"""One number format for people (decimal comma, thousands with dots): the dashboard, its charts, the PDF
report and the XLSX workbook all write 76,46 and 16.340; machine formats (CSV) keep 76.46."""

from __future__ import annotations

import re
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc
from factories import golden_unit
from openpyxl import load_workbook
from pypdf import PdfReader

from results import Method, compute, report
from results.export import write_xlsx
from results.model import Results
from survey_app.core.formats import count, number
from survey_app.db.store import Store
from survey_app.ui import charts, dashboard


@pytest.mark.parametrize(("value", "digits", "signed", "shown"), [
    (76.456, 2, False, "76,46"),
    (76.454, 2, False, "76,45"),
    (1234.5, 2, False, "1.234,50"),
    (-1234.5, 2, False, "-1.234,50"),
    (0.81, 2, True, "+0,81"),
    (-0.81, 2, True, "-0,81"),
    (12.345, 1, False, "12,3"),
    (100.0, 0, False, "100"),
    (1.96, None, False, "1,96"),
    (0.05, None, False, "0,05"),
    (None, 2, False, "–"),
])
def test_number(value: float | None, digits: int | None, signed: bool, shown: str) -> None:
    assert number(value, digits, signed=signed) == shown


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (999, "999"), (16340, "16.340"), (1234567, "1.234.567"),
                                              (None, "–")])
def test_count(value: int | None, shown: str) -> None:
    assert count(value) == shown


def _svg_texts(chart: alt.TopLevelMixin) -> list[str]:
    return re.findall(r">([^<]*\d[^<]*)</text>", vlc.vegalite_to_svg(chart.to_dict()))


def test_charts_write_figures_with_a_decimal_comma() -> None:
    frame = pd.DataFrame({"name": ["Sở A", "Sở B"], "sipas": [76.456, 81.2], "moe": [0.81, None],
                          "rank": [2.0, None], "n": [16340, 3]})
    texts = _svg_texts(charts.ranking(frame))
    assert "76,46" in texts and "81,20" in texts and not any("76.46" in text for text in texts)
    # TV mode and the PNG download keep the locale (configure() would replace the whole config).
    assert "76,46" in _svg_texts(charts.large(charts.ranking(frame)))
    assert charts.to_png(charts.ranking(frame)).startswith(b"\x89PNG")


def test_the_dashboard_tables_write_numbers_like_the_tiles() -> None:
    frame = pd.DataFrame({"name": ["Sở A"], "sipas": [76.456], "n": [16340], "rank": [float("nan")]})
    html = dashboard._styled(frame).to_html()
    assert "76,46" in html and "16.340" in html and "–" in html


@pytest.fixture
def results(store: Store) -> Results:
    golden_unit(store)
    return compute(store, "2026-Q1", method=Method(name="small", min_sample=2))


def test_the_pdf_report_writes_a_decimal_comma(store: Store, results: Results, tmp_path: Path) -> None:
    path = tmp_path / "bao-cao.pdf"
    report.write_report(results, compute(store, "2026-Q1", by="block", method=results.method), path)
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    sipas = results.group("so-tai-chinh").sipas
    assert number(sipas) in text and f"{sipas:.2f}" not in text
    assert "z = 1,96" in text


def test_the_workbook_keeps_numbers_as_numbers_in_the_readers_convention(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "ket-qua.xlsx"
    write_xlsx(results, path)
    sheet = load_workbook(path)["Khối Sở, ban, ngành"]
    header = [c.value for c in sheet[1]]
    n, sipas = (sheet.cell(row=2, column=header.index(name) + 1) for name in ("Số phiếu", "SIPAS (%)"))
    assert isinstance(n.value, int) and n.number_format == "#,##0"
    assert isinstance(sipas.value, float) and sipas.number_format == "0.00"
