"""Cases in the results: opened, answered on time, median time to answer; the monthly scorecard."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from factories import add, at, dvc_answers, dvc_response

from results import cli
from results.aggregate import compute
from survey_app.admin.units import import_units_file
from survey_app.core import config
from survey_app.db.store import Store
from survey_app.store import open_store


def put_case(store: Store, unit_id: str, opened: datetime, *, due_days: int = 5, replied_hours: float | None = None,
             status: str | None = None) -> None:
    replied = opened + timedelta(hours=replied_hours) if replied_hours is not None else None
    store.write(lambda con: con.execute(
        "INSERT INTO cases (case_id, code, response_id, unit_id, status, opened_at, due_at, replied_at, reply)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [uuid.uuid4(), uuid.uuid4().hex[:11], uuid.uuid4(), unit_id,
         status or ("da_tra_loi" if replied else "mo"), opened, opened + timedelta(days=due_days), replied,
         "Đã xử lý" if replied else None]))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """April 2026, before the tests' clock (so the unanswered case is overdue): Sở Tài chính has four
    cases (two on time, one late, one overdue), Sở Tư pháp none; March has one case; responses in both."""
    path = tmp_path_factory.mktemp("cases") / "sipas.duckdb"
    with open_store(path) as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        for month, value in ((3, 4), (4, 3)):
            add(store, [dvc_response(unit, dvc_answers(value, pa=4), when=at(2026, month, day))
                        for unit in ("so-tai-chinh", "so-tu-phap") for day in range(2, 27)])
        put_case(store, "so-tai-chinh", at(2026, 4, 3), replied_hours=10)
        put_case(store, "so-tai-chinh", at(2026, 4, 4), replied_hours=30)
        put_case(store, "so-tai-chinh", at(2026, 4, 5), replied_hours=24 * 8)  # after its 5 days
        put_case(store, "so-tai-chinh", at(2026, 4, 6))  # never answered: overdue
        put_case(store, "so-tai-chinh", at(2026, 3, 6), replied_hours=2)
    return str(path)


def test_compute_json_carries_the_case_figures(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compute", "--db", db, "--period", "2026-04", "--format", "json"]) == 0
    units = {o["unit_id"]: o for o in json.loads(capsys.readouterr().out)}
    finance = units["so-tai-chinh"]
    assert finance["cases_opened"] == 4
    assert finance["cases_on_time_pct"] == pytest.approx(50.0)  # 2 of the 4 decided cases
    assert finance["cases_median_hours"] == pytest.approx(30.0)  # 10, 30, 192
    assert (units["so-tu-phap"]["cases_opened"], units["so-tu-phap"]["cases_on_time_pct"]) == (0, None)
    with open_store(db, read_only=True) as store:
        blocks = {g.key: g for g in compute(store, "2026-04", by="block").groups}
    assert blocks["so"].cases is not None and blocks["so"].cases.overdue == 1


def test_scorecard_writes_a_pdf_per_unit_and_the_summary(db: str, tmp_path: object,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    import pypdfium2
    from openpyxl import load_workbook
    from pypdf import PdfReader

    out = Path(str(tmp_path)) / "phieu"
    assert cli.main(["scorecard", "--db", db, "--month", "2026-04", "--unit", "so-tai-chinh", "--out", str(out)]) == 0
    pdf = out / "phieu-2026-04-so-tai-chinh.pdf"
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1  # fits one printed page
    text = reader.pages[0].extract_text()
    assert "Sở Tài chính" in text and "Tháng 4/2026" in text and "Trả lời đúng hạn" in text
    page = pypdfium2.PdfDocument(pdf)[0]
    assert [round(v / 72 * 25.4) for v in page.get_size()] == [210, 297]  # A4 portrait
    image = page.render(scale=50 / 72).to_pil().convert("L")  # rendered, as a printer would
    ink = [image.crop((0, y, image.width, y + 20)).point(lambda v: 255 if v < 128 else 0).getbbox() is not None
           for y in range(0, image.height - 20, 20)]
    assert ink[1] and sum(ink) > len(ink) // 3  # a heading on top, text down the page
    sheet = load_workbook(out / "tong-hop-2026-04.xlsx")["Tổng hợp"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["Mã đơn vị"] == "so-tai-chinh" and row["Phản ánh tiếp nhận"] == 4 and row["Đang quá hạn"] == 1
    assert row["Thay đổi (điểm)"] < 0  # November's ratings (3) are lower than October's (4)
    assert cli.main(["scorecard", "--db", db, "--month", "2026-Q4", "--out", str(out)]) == 2
    assert cli.main(["scorecard", "--db", db, "--month", "2026-04", "--unit", "khong-co", "--out", str(out)]) == 2


def test_the_period_report_lists_the_units_cases(db: str, tmp_path: object) -> None:
    from pathlib import Path

    from pypdf import PdfReader

    out = Path(str(tmp_path)) / "bao-cao.pdf"
    assert cli.main(["report", "--db", db, "--period", "2026-04", "--out", str(out)]) == 0
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    section = text[text.index("Phản ánh của người dân"):]
    assert "Sở Tài chính 4 50,00 1 30" in section.replace("\n", " ")  # the one number format


def test_the_scorecard_takes_its_words_from_the_catalogue_in_either_language(db: str, tmp_path: object) -> None:
    import re
    from pathlib import Path

    from openpyxl import load_workbook
    from pypdf import PdfReader

    from results.scorecard import parse_month, write_scorecards
    from survey_app.core.i18n import t

    folders = {lang: Path(str(tmp_path)) / lang for lang in ("vi", "en")}
    with open_store(db, read_only=True) as store:
        write_scorecards(store, parse_month("2026-04"), folders["vi"], "so-tai-chinh")  # the default
        written = write_scorecards(store, parse_month("2026-04"), folders["en"], "so-tai-chinh", lang="en")
    assert [p.name for p in written] == ["phieu-2026-04-so-tai-chinh.pdf", "tong-hop-2026-04.xlsx"]  # any language
    texts = {lang: " ".join(PdfReader(folder / "phieu-2026-04-so-tai-chinh.pdf").pages[0].extract_text().split())
             for lang, folder in folders.items()}
    assert "PHIẾU KẾT QUẢ HÀI LÒNG — THÁNG 4/2026" in texts["vi"]
    assert "SATISFACTION SCORECARD — 4/2026" in texts["en"] and "Tháng" not in texts["en"]
    headings = ("scorecard.overall", "scorecard.sipas", "scorecard.change", "scorecard.rank", "scorecard.weakest",
                "scorecard.elements", "doc.col.element", "doc.cases", "scorecard.on_time", "scorecard.overdue",
                "scorecard.median_hours", "scorecard.comments")
    for lang, other in (("vi", "en"), ("en", "vi")):
        for key in headings:
            assert t(key, lang) in texts[lang] and t(key, other) not in texts[lang], (lang, key)
    assert "Tiếp cận dịch vụ" in texts["vi"] and "Access to the service" in texts["en"]  # the questionnaire's words
    assert "50 % of the complaints" in texts["en"] and "30 hours" in texts["en"]
    sheets = {lang: load_workbook(folder / "tong-hop-2026-04.xlsx").worksheets[0] for lang, folder in folders.items()}
    assert (sheets["vi"].title, sheets["en"].title) == ("Tổng hợp", "Summary")
    header = [c.value for c in sheets["en"][1]]
    assert header[:5] == ["Unit id", "Unit", "Block", "Responses", "SIPAS (%)"]
    assert not [h for h in header if re.search(r"[à-ỹĐđ]", str(h))]
    assert len(header) == len(list(sheets["vi"][1]))
    row = dict(zip(header, [c.value for c in sheets["en"][2]], strict=True))
    assert (row["Unit id"], row["Complaints received"], row["Overdue"], row["Block"]) == ("so-tai-chinh", 4, 1,
                                                                                          "Departments")
