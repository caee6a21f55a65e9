"""A leader on the dashboard can say what their unit should fix first, what it is worth in CCHC
points, whether this year's target is within reach, and which ranks are ties (AppTest)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from factories import NOW, add, dvc_answers, dvc_response
from test_dashboard_page import open_page, rerun

from survey_app.store import Store
from survey_app.ui import dashboard

UNIT = "so-tai-chinh"


@pytest.fixture
def decisions_db(store: Store, db_path: Path) -> Iterator[str]:
    """This week, 300 responses at Sở Tài chính whose overall rating follows the CC element, 150 at
    two other departments; Sở Tài chính has a target for this year out of its reach."""
    rng = random.Random(5)
    now = NOW - timedelta(minutes=5)
    rows = []
    for unit_id, n, level in ((UNIT, 300, 3), ("so-tu-phap", 150, 5), ("so-y-te", 150, 4)):
        for i in range(n):
            cc = rng.randint(1, 5)
            given = dvc_answers(max(1, min(5, level + rng.choice((-1, 0, 0)))), pa=rng.randint(1, 5),
                            hl=max(1, min(5, cc + rng.choice((-1, 0, 1)))),
                            **{f"CC{k}": cc for k in range(1, 6)})
            rows.append(dvc_response(unit_id, given, when=now - timedelta(seconds=i)))
    add(store, rows)
    store.write(lambda con: con.execute(
        "INSERT INTO targets (unit_id, year, sipas, updated_at) VALUES (?, ?, 99.0, now())", [UNIT, now.year]))
    store.close()
    yield str(Path(store.path))


def test_a_leader_sees_what_to_fix_first_and_what_it_is_worth(decisions_db: str) -> None:
    at = open_page(decisions_db, dash_tab="Ưu tiên cải thiện",
                   dash_rules="vi-du-ha-noi")
    overview = at.dataframe[0].value
    assert set(overview["name"]) >= {"Sở Tài chính", "Sở Tư pháp", "Sở Y tế"}
    at.selectbox(key=dashboard.UNIT).set_value(UNIT)
    rerun(at)
    headline = at.success[0].value
    assert headline.startswith("Nên cải thiện trước: Công chức trực tiếp giải quyết công việc (CC)")
    assert "điểm CCHC tăng" in headline
    table = at.dataframe[0].value
    assert table["priority"].tolist() == [1, 2, 3, 4, 5]
    assert table.iloc[0]["element"] == "CC" and table["importance"].sum() == pytest.approx(1.0)
    assert any("trọng số tương đối" in c.value for c in at.caption)


def test_the_year_target_shows_its_gap_and_chance(decisions_db: str) -> None:
    at = open_page(decisions_db)
    at.selectbox(key=dashboard.UNIT).set_value(UNIT)
    rerun(at)
    tile = next(m for m in at.metric if m.label.startswith("Chỉ tiêu năm"))
    assert tile.value == "99,00"
    assert tile.delta.startswith("-") and "so với chỉ tiêu" in tile.delta
    assert "khả năng đạt chỉ tiêu" in tile.help


def test_the_ranking_shows_rank_intervals_and_standing(decisions_db: str) -> None:
    at = open_page(decisions_db)
    table = at.dataframe[0].value
    ranked = table[table["ranked"]]
    assert len(ranked) == 3
    assert set(ranked["standing"]) <= {"cao hơn", "thấp hơn", "không khác biệt"}
    assert all(lo <= r <= hi for r, lo, hi in zip(ranked["rank"], ranked["rank_low"], ranked["rank_high"],
                                                  strict=True))
    assert ranked["rank_band"].min() == 1
