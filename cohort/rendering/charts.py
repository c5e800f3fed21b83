"""The report's charts, drawn by pygal as static SVG (no JavaScript) in data: URIs.

Every chart shows figures the report's tables already state, with the same rounding (the
printed values are the report's own formatted texts), so a chart never says 91 % where the
table says 90 %. Labels that come from the programme are shortened; the full texts stand in
the tables next to the charts.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal
from pygal.style import Style

from ..core.reporting import AttendanceFigures, PrePostFigure, RateRow, SurveyBlock

INK = "#1d2733"
MUTED = "#5b6670"
LINE = "#d8dee4"
ACCENT = "#0b5d7a"
LIGHT = "#9cc3d5"
# Disagree (warm) to agree (the accent), with the neutral middle in grey.
LIKERT_COLOURS = ("#b5523b", "#e3a58f", "#c9ced3", "#7fb1c8", ACCENT)
FONT = "DejaVu Sans, Liberation Sans, sans-serif"
WIDTH = 800
LABEL_CHARS = 38


def _style(colours: Sequence[str], value_colours: Sequence[str]) -> Style:
    return Style(
        background="white", plot_background="white", foreground=INK, foreground_strong=INK,
        foreground_subtle=LINE, font_family=FONT, label_font_size=13,
        major_label_font_size=13, value_font_size=12, legend_font_size=13,
        title_font_size=15, value_colors=tuple(value_colours), opacity="1", opacity_hover="1",
        colors=tuple(colours), guide_stroke_color=LINE, major_guide_stroke_color=LINE,
    )


def _config(height: int, colours: Sequence[str] = (ACCENT,),
            value_colours: Sequence[str] = ("white",), **options) -> dict:
    """Values are printed inside the bars: white on dark colours, ink on light ones."""
    config = dict(js=[], width=WIDTH, height=height, explicit_size=True,
                  disable_xml_declaration=True, style=_style(colours, value_colours),
                  print_values=True,
                  truncate_label=LABEL_CHARS, truncate_legend=60, show_legend=False, margin=8,
                  spacing=12)
    return {**config, **options}


def data_uri(chart: pygal.graph.graph.Graph) -> str:
    svg = chart.render(is_unicode=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def short(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _percent_value(share, label: str = "") -> dict | None:
    if share is None:
        return None
    return {"value": share.percent, "formatter": lambda _v, text=share.text: text,
            "label": label}


def response_rates_chart(rates: Sequence[RateRow], series_title: str) -> str | None:
    """Response rate per survey as horizontal bars, 0-100 %."""
    rows = [r for r in rates if r.share is not None][::-1]  # first on top
    if not rows:
        return None
    chart = pygal.HorizontalBar(**_config(60 + 34 * len(rows), range=(0, 100)))
    chart.x_labels = [short(f"{r.title}: {r.meeting_title}" if r.meeting_title else r.title)
                      for r in rows]
    chart.add(series_title, [_percent_value(r.share) for r in rows])
    return data_uri(chart)


def likert_chart(block: SurveyBlock, labels: Sequence[str]) -> str | None:
    """Each statement's answers from disagree to agree, as one stacked 100 % bar; bars are
    labelled with the statement's number in the list the chart stands under."""
    numbered = [(i, s) for i, s in enumerate(block.statements, start=1)
                if not s.suppressed and s.distribution][::-1]  # first on top
    if not numbered:
        return None
    chart = pygal.HorizontalStackedBar(**_config(
        150 + 40 * len(numbered), LIKERT_COLOURS, ("white", INK, INK, INK, "white"),
        range=(0, 100), show_legend=True, legend_at_bottom=True,
        legend_at_bottom_columns=3, margin_bottom=34))  # pygal counts 5 // 3 = 1 legend row
    chart.x_labels = [str(i) for i, _ in numbered]
    for step, label in enumerate(labels):
        values = []
        for _, s in numbered:
            row = s.distribution[step]
            value = _percent_value(row.share)
            if value is not None and row.share.percent < 7:  # too narrow for its label
                value["formatter"] = lambda _v: ""
            values.append(value)
        chart.add(label, values)
    return data_uri(chart)


def pre_post_chart(figure: PrePostFigure, before: str, after: str) -> str | None:
    """Mean self-assessment per area before and after, on the scale's own range."""
    areas = [a for a in figure.areas
             if a.pre_mean is not None or a.post_mean is not None][::-1]  # first on top
    if not areas:
        return None
    chart = pygal.HorizontalBar(**_config(
        90 + 52 * len(areas), (LIGHT, ACCENT), (INK, "white"), range=(1, len(figure.scale)),
        zero=1, show_legend=True, legend_at_bottom=True, legend_at_bottom_columns=2,
        truncate_label=56))  # bars start at the scale's lowest step, 1
    chart.x_labels = [short(a.text, 56) for a in areas]
    chart.add(before, [_mean_value(a.pre_mean_value, a.pre_mean) for a in areas])
    chart.add(after, [_mean_value(a.post_mean_value, a.post_mean) for a in areas])
    return data_uri(chart)


def _mean_value(value: float | None, text: str | None) -> dict | None:
    if value is None:
        return None
    return {"value": value, "formatter": lambda _v, text=text: text}


def attendance_chart(attendance: AttendanceFigures, series_title: str) -> str | None:
    """Attendance rate per meeting (suppressed meetings are left empty)."""
    rows = attendance.meetings
    if not rows or all(r.share is None for r in rows):
        return None
    chart = pygal.Bar(**_config(300, range=(0, 100), truncate_label=18))
    chart.x_labels = [r.title for r in rows]
    chart.add(series_title, [_percent_value(r.share) for r in rows])
    return data_uri(chart)


def distribution_chart(attendance: AttendanceFigures, series_title: str,
                       x_title: str) -> str | None:
    """How many participants attended 0, 1, 2, ... of the recorded meetings."""
    if not attendance.distribution:
        return None
    chart = pygal.Bar(**_config(280, (LIGHT,), (INK,), x_title=x_title))
    chart.x_labels = [row.label for row in attendance.distribution]
    chart.add(series_title, [{"value": row.count,
                              "formatter": lambda _v, row=row: str(row.count)}
                             for row in attendance.distribution])
    return data_uri(chart)
