"""Altair charts of the dashboard, built from small aggregated DataFrames (never response rows).

Plain functions: a DataFrame in, an `alt.Chart` out, so they are tested without a browser. Texts
come from messages.yaml; colours say the same thing everywhere (red = dissatisfied, green = satisfied,
grey = too few responses to rank).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import TypeVar

import altair as alt
import pandas as pd
import vl_convert as vlc

from survey_app.core import config
from survey_app.core.formats import CHART_LOCALE, WEEKDAYS
from survey_app.core.i18n import t

FONT = "DejaVu Sans"  # has every Vietnamese letter; registered for PNG export
GREY = "#b0b0b0"
RANKED = "#1f6fb2"
BAND_SHADE = "#6baed6"  # the next tied band: a lighter blue
ACCENT = "#b71c1c"  # the theme's red: the element to fix first
BAR_HEIGHT = 22  # px per unit in a ranking
# Answer colours per side (-1 dissatisfied, 0 neutral, 1 satisfied), light → dark.
SHADES = {-1: ("#f4a582", "#d6604d", "#b2182b"), 0: ("#d9d9d9",), 1: ("#92c5de", "#4393c3", "#2166ac")}
INDEX_SCALE = alt.Scale(scheme="redyellowgreen", domain=[50, 100], clamp=True)
Chart = TypeVar("Chart", bound=alt.TopLevelMixin)


def _vietnamese(chart: Chart) -> Chart:
    """Figures on the chart, its axes and tooltips written as everywhere else: 76,46 and 16.340."""
    return chart.configure(locale=CHART_LOCALE)


def _rank_label(rank: float, low: float, high: float) -> str:
    """'3 (2–5)': the point rank and its 95 % interval; the rank alone when the interval is that rank."""
    if pd.isna(low) or low == high:
        return f"{int(rank)}"
    return f"{int(rank)} ({int(low)}–{int(high)})"


def ranking(frame: pd.DataFrame, bar_height: int = BAR_HEIGHT, label_limit: int = 360) -> alt.Chart:
    """Units of one block, ranked ones first: bar = SIPAS, whisker = its margin, grey = too few
    responses to rank (named without a rank). Units in one tied band (overlapping 95 % rank
    intervals, results/ranks.py) share a shade, and bands alternate, so a tie reads as a tie.

    Columns: name, sipas, moe, rank (None when not ranked), n; optional rank_low, rank_high, rank_band."""
    data = frame.dropna(subset=["sipas"])
    for column in ("rank_low", "rank_high", "rank_band"):
        if column not in data:
            data = data.assign(**{column: data["rank"]})
    data = data.assign(
        status=lambda d: [_rank_label(r, lo, hi) if pd.notna(r) else t("results.not_adequate")
                          for r, lo, hi in zip(d["rank"], d["rank_low"], d["rank_high"], strict=True)],
        label=lambda d: [f"{s}. {n}" if pd.notna(r) else n for r, s, n in zip(d["rank"], d["status"], d["name"],
                                                                                 strict=True)],
        shade=lambda d: ["none" if pd.isna(b) else "odd" if int(b) % 2 else "even" for b in d["rank_band"]],
        low=lambda d: d["sipas"] - d["moe"].fillna(0), high=lambda d: d["sipas"] + d["moe"].fillna(0),
    )
    order = data.assign(ranked=data["rank"].notna()).sort_values(["ranked", "sipas"], ascending=False)["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=label_limit, labelOverlap=False))
    tooltip = [alt.Tooltip("name:N", title=t("dash.col.unit")), alt.Tooltip("sipas:Q", title="SIPAS", format=".2f"),
               alt.Tooltip("status:N", title=t("dash.col.rank")),
               alt.Tooltip("moe:Q", title="±", format=".2f"), alt.Tooltip("n:Q", title="n", format=",")]
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar().encode(
        x=alt.X("sipas:Q", title=t("dash.sipas_axis"), scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("shade:N", legend=None,
                        scale=alt.Scale(domain=["odd", "even", "none"], range=[RANKED, BAND_SHADE, GREY])),
        tooltip=tooltip)
    whiskers = base.mark_rule(color="#333").encode(x="low:Q", x2="high:Q")
    values = base.mark_text(align="left", dx=4, color="#333").encode(x="high:Q", text=alt.Text("sipas:Q", format=".2f"))
    return _vietnamese((bars + whiskers + values).properties(height=max(bar_height * len(data), 60)))


def priorities(frame: pd.DataFrame) -> alt.Chart:
    """Importance–performance picture of one unit (Martilla & James): x = derived importance with
    its 95 % interval, y = the element's index, cross-hairs at the means; the lower right quadrant
    (important, performing worse) is where to concentrate.

    Columns: element, name, importance, importance_low, importance_high, performance, priority."""
    data = frame.dropna(subset=["importance", "performance"])
    tooltip = [alt.Tooltip("name:N", title=t("dash.col.element")),
               alt.Tooltip("priority:Q", title=t("dash.priority.rank")),
               alt.Tooltip("importance:Q", title=t("dash.priority.importance"), format=".2f"),
               alt.Tooltip("performance:Q", title=t("dash.col.index"), format=".2f")]
    base = alt.Chart(data)
    x = alt.X("importance:Q", title=t("dash.priority.importance"), scale=alt.Scale(zero=True))
    y = alt.Y("performance:Q", title=t("dash.col.index"), scale=alt.Scale(zero=False))
    whiskers = base.mark_rule(color="#777").encode(x="importance_low:Q", x2="importance_high:Q", y=y)
    points = base.mark_circle(size=160).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.condition("datum.priority == 1", alt.value(ACCENT), alt.value(RANKED)))
    labels = base.mark_text(dx=10, dy=-10, fontSize=13, fontWeight="bold").encode(x=x, y=y, text="element:N")
    means = pd.DataFrame({"importance": [data["importance"].mean()], "performance": [data["performance"].mean()]})
    cross_x = alt.Chart(means).mark_rule(strokeDash=[4, 4], color=GREY).encode(x="importance:Q")
    cross_y = alt.Chart(means).mark_rule(strokeDash=[4, 4], color=GREY).encode(y="performance:Q")
    return (cross_x + cross_y + whiskers + points + labels).properties(height=320)


def element_heatmap(frame: pd.DataFrame, order: list[str]) -> alt.Chart:
    """Rows (units or counters, in `order`) × elements, coloured by the element index.

    Columns: name, element (code), element_name, value."""
    base = alt.Chart(frame).encode(
        x=alt.X("element:N", title=None, sort=None, axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=360, labelOverlap=False)),
        tooltip=[alt.Tooltip("name:N", title=t("dash.col.unit")),
                 alt.Tooltip("element_name:N", title=t("dash.col.element")),
                 alt.Tooltip("value:Q", title=t("dash.col.index"), format=".2f")])
    cells = base.mark_rect().encode(color=alt.Color("value:Q", scale=INDEX_SCALE, title=t("dash.col.index")))
    # White figures on the darkest cells, black elsewhere, so every figure stays readable.
    ink = alt.condition("datum.value < 60 || datum.value > 92", alt.value("white"), alt.value("black"))
    labels = base.mark_text(fontSize=11).encode(text=alt.Text("value:Q", format=".1f"), color=ink)
    return _vietnamese((cells + labels).properties(height=max(BAR_HEIGHT * len(order), 60)))


def _diverging_layout(frame: pd.DataFrame) -> pd.DataFrame:
    """x0/x1 of every segment: dissatisfied codes left of 0, satisfied right, neutral split across."""
    rows = []
    for _, item in frame.groupby("order", sort=True):
        rated = item[item["code"].notna()].sort_values("code", key=lambda c: c * _direction(item))
        left = -(rated.loc[rated["side"] < 0, "share"].sum() + rated.loc[rated["side"] == 0, "share"].sum() / 2)
        for segment in rated.itertuples():
            share = segment.share or 0.0
            rows.append({**segment._asdict(), "x0": left, "x1": left + share})
            left += share
    return pd.DataFrame(rows)


def _direction(item: pd.DataFrame) -> int:
    """1 when higher codes are the satisfied ones (1–5), -1 when the scale runs the other way."""
    sides = item.dropna(subset=["code"]).sort_values("code")["side"].tolist()
    return 1 if sides[-1] >= sides[0] else -1


def _answer_colours(rated: pd.DataFrame) -> alt.Scale:
    """Light near the centre, darker outwards; the legend runs from most dissatisfied to most satisfied."""
    domain, colours = [], []
    for side in (-1, 0, 1):
        labels = rated[rated["side"] == side].groupby("label")["x0"].mean().sort_values().index.tolist()
        if labels:
            palette = SHADES[side]
            domain += labels
            colours += palette[::-1][:len(labels)] if side < 0 else palette[-len(labels):]
    return alt.Scale(domain=domain, range=colours)


def answer_bars(frame: pd.DataFrame) -> alt.HConcatChart:
    """Diverging stacked bars of the answers per item (shares of ratings) and, apart, the N/A share.

    Columns: order, item_id, item, code (None = N/A), label, side, count, share."""
    rated = _diverging_layout(frame)
    order = frame.sort_values("order")["item_id"].drop_duplicates().tolist()
    y = alt.Y("item_id:N", sort=order, title=None)
    tooltip = [alt.Tooltip("item:N", title=t("dash.col.item")), alt.Tooltip("label:N", title=t("dash.col.answer")),
               alt.Tooltip("share:Q", title="%", format=".1f"), alt.Tooltip("count:Q", title="n", format=",")]
    bars = alt.Chart(rated).mark_bar().encode(
        y=y, x=alt.X("x0:Q", title=t("dash.share_axis"), axis=alt.Axis(labelExpr="abs(datum.value)")), x2="x1:Q",
        color=alt.Color("label:N", scale=_answer_colours(rated), title=None, legend=alt.Legend(orient="bottom")),
        tooltip=tooltip)
    centre = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="#333").encode(x="x:Q")
    na = alt.Chart(frame[frame["code"].isna()]).mark_bar(color=GREY).encode(
        y=alt.Y("item_id:N", sort=order, title=None, axis=None),
        x=alt.X("share:Q", title=t("dash.na_axis"), scale=alt.Scale(domain=[0, 100])), tooltip=tooltip)
    height = BAR_HEIGHT * len(order)
    return _vietnamese(alt.hconcat((bars + centre).properties(height=height), na.properties(width=110, height=height)))


def trend(frame: pd.DataFrame, since: date) -> alt.LayerChart:
    """SIPAS per week or month with its 95 % margin as a band, a dashed line where the chosen
    period begins (`since`). Columns: start, sipas, moe, n."""
    data = frame.dropna(subset=["sipas"]).assign(low=lambda d: d["sipas"] - d["moe"].fillna(0),
                                                 high=lambda d: d["sipas"] + d["moe"].fillna(0))
    x = alt.X("start:T", title=None, axis=alt.Axis(format="%d/%m/%Y"))
    tooltip = [alt.Tooltip("start:T", title=t("dash.col.from"), format="%d/%m/%Y"),
               alt.Tooltip("sipas:Q", title="SIPAS", format=".2f"), alt.Tooltip("moe:Q", title="±", format=".2f"),
               alt.Tooltip("n:Q", title="n", format=",")]
    band = alt.Chart(data).mark_area(opacity=0.25, color=RANKED).encode(
        x=x, y=alt.Y("low:Q", title="SIPAS", scale=alt.Scale(zero=False)), y2="high:Q")
    line = alt.Chart(data).mark_line(point=True, color=RANKED).encode(x=x, y="sipas:Q", tooltip=tooltip)
    begins = alt.Chart(pd.DataFrame({"start": [pd.Timestamp(since)]})).mark_rule(strokeDash=[4, 4]).encode(x="start:T")
    return _vietnamese((band + line + begins).properties(height=280))


def hour_weekday(frame: pd.DataFrame, value: str, title: str, scheme: str) -> alt.Chart:
    """A weekday × hour heatmap of `value`. Columns: weekday (1–7), hour (0–23) and `value`."""
    data = frame.assign(day=lambda d: [WEEKDAYS[w - 1] for w in d["weekday"]])
    return _vietnamese(alt.Chart(data).mark_rect().encode(
        x=alt.X("hour:O", title=t("dash.hour_axis"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("day:N", sort=list(WEEKDAYS), title=None, axis=alt.Axis(labelOverlap=False)),
        color=alt.Color(f"{value}:Q", title=title, scale=alt.Scale(scheme=scheme)),
        tooltip=[alt.Tooltip("day:N", title=t("dash.col.day")), alt.Tooltip("hour:O", title=t("dash.hour_axis")),
                 alt.Tooltip(f"{value}:Q", title=title, format=".1f")],
    ).properties(height=alt.Step(BAR_HEIGHT)))


def share_bars(frame: pd.DataFrame) -> alt.FacetChart:
    """Options of each question ranked by share, one panel per question.

    Columns: question, option, share, count."""
    base = alt.Chart(frame).encode(
        y=alt.Y("option:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300)),
        x=alt.X("share:Q", title="%", scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("option:N", title=t("dash.col.answer")),
                 alt.Tooltip("share:Q", title="%", format=".1f"), alt.Tooltip("count:Q", title="n", format=",")])
    labels = base.mark_text(align="left", dx=3).encode(text=alt.Text("share:Q", format=".1f"))
    chart = base.mark_bar(color=RANKED) + labels
    return _vietnamese(chart.properties(width=420).facet(
        row=alt.Row("question:N", title=None, header=alt.Header(labelAngle=0, labelOrient="top", labelAnchor="start",
                                                                labelLimit=700, labelFontWeight="bold"))
    ).resolve_scale(y="independent"))


def large(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The same chart readable across a room (TV mode)."""
    return chart.configure_axis(labelFontSize=24, titleFontSize=22, labelLimit=700).configure_text(fontSize=24)


@cache
def _fonts() -> None:
    vlc.register_font_directory(str(config.FONTS_DIR))


def to_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart as a PNG, rendered on the server by vl-convert with a font that has Vietnamese."""
    _fonts()
    spec = chart.to_dict()
    spec["config"] = {**spec.get("config", {}), "font": FONT}  # configure() would drop the locale
    return vlc.vegalite_to_png(spec, scale=scale)
