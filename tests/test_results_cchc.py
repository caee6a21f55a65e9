"""CCHC points from rule tables: the three modes, per block, and what each element costs."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import add, at, dvc_answers, dvc_response, golden_unit

from results import Method, compute
from results.cchc import Band, Rule, RulesError, cchc_points, load_rules, rule_points
from survey_app.core import config
from survey_app.db.store import Store

EXAMPLE = config.PROJECT_DIR / "results" / "rules" / "vi-du-ha-noi.yaml"
BANDS = (Band(90, 1.0), Band(80, 0.75), Band(70, 0.5), Band(0, 0.25))


def test_proportional_points() -> None:
    assert rule_points(Rule("so", "8.1", 8, "proportional"), 82.5) == pytest.approx(6.6)  # 8 × 0.825


@pytest.mark.parametrize(("value", "points"), [(95, 10), (90, 10), (89.99, 7.5), (80, 7.5), (75, 5), (10, 2.5)])
def test_banded_points(value: float, points: float) -> None:
    assert rule_points(Rule("huyen", "8.1", 10, "banded", bands=BANDS), value) == pytest.approx(points)


def test_threshold_points_below_target_proportional_or_zero() -> None:
    proportional = Rule("so", "8.2", 2, "threshold", target=85, below="proportional")
    assert rule_points(proportional, 85) == 2
    assert rule_points(proportional, 80) == pytest.approx(1.6)  # 2 × 0.80
    assert rule_points(Rule("so", "8.2", 2, "threshold", target=85, below="zero"), 84.99) == 0


def test_example_table_says_it_is_an_example() -> None:
    table = load_rules(EXAMPLE)
    assert table.example and "VÍ DỤ" in table.title
    assert "VÍ DỤ" in EXAMPLE.read_text(encoding="utf-8").splitlines()[1]
    assert {r.block for r in table.rules} == {"so", "huyen"}


def test_points_per_block_and_element_costs(store: Store, tmp_path: Path) -> None:
    golden_unit(store)  # Sở Tài chính: TC 56.25, TT 50, CC 55, KQ 66.67, PA 50 → SIPAS 55.583
    add(store, [dvc_response("q-cau-giay", dvc_answers(5, pa=None, TC1=1), when=at(2026, 2, 1)) for _ in range(3)])
    results = compute(store, "2026-Q1", method=Method(name="small", min_sample=2))
    points = {p.group.key: p for p in cchc_points(results, load_rules(EXAMPLE))}

    tai_chinh = points["so-tai-chinh"]
    sipas = (56.25 + 50 + 55 + 200 / 3 + 50) / 5
    assert [c.rule.criterion for c in tai_chinh.criteria] == ["8.1", "8.2"]
    assert tai_chinh.criteria[0].points == pytest.approx(8 * sipas / 100)  # proportional, 8 points
    assert tai_chinh.criteria[1].points == pytest.approx(2 * 55 / 100)  # CC 55 < 85: proportional
    assert tai_chinh.points == pytest.approx(8 * sipas / 100 + 1.1)
    # Proportional: TC at 100 would add 8 × (100 − 56.25)/5/100 = 0.7 points; the CC rule adds its own.
    assert tai_chinh.criteria[0].element_costs["TC"] == pytest.approx(8 * (100 - 56.25) / 5 / 100)
    assert sum(tai_chinh.criteria[0].element_costs.values()) == pytest.approx(8 - tai_chinh.criteria[0].points)
    assert tai_chinh.criteria[1].element_costs == pytest.approx({"TC": 0, "TT": 0, "CC": 2 - 1.1, "KQ": 0, "PA": 0})

    cau_giay = points["q-cau-giay"]  # TC1 = 1 everywhere → TC 75; other elements 100 (PA N/A) → 93.75
    assert cau_giay.criteria[0].value == pytest.approx(93.75)
    assert cau_giay.points == pytest.approx(10.0)  # band ≥ 90: full
    assert cau_giay.element_costs["TC"] == 0  # already in the top band
    assert cau_giay.max_points == 10


def test_a_unit_without_responses_gets_no_points(store: Store) -> None:
    results = compute(store, "2026-Q1")
    unit = next(p for p in cchc_points(results, load_rules(EXAMPLE)) if p.group.key == "so-tai-chinh")
    assert unit.points is None


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\nrules: [{block: so, criterion: '1', max_points: 2, mode: magic}]", "mode"),
    ("name: x\nrules: [{block: so, criterion: '1', mode: proportional}]", "max_points"),
    ("name: x\nrules: [{block: so, criterion: '1', max_points: 2, mode: banded}]", "bands"),
    ("name: x\nrules: [{block: so, criterion: '1', max_points: 2, mode: threshold}]", "target"),
    ("name: x\nrules: [{block: so, criterion: '1', max_points: abc, mode: proportional}]", "không hợp lệ"),
    ("rules: []", "name"),
    ("name: [unclosed", "không đọc được"),
])
def test_bad_rule_tables_are_refused_with_a_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        load_rules(path)
