"""Trend charts across a patient's course: server-rendered SVG that prints and needs no script."""

import re
import uuid
from datetime import date
from xml.etree import ElementTree as ET

import pygal
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5a6675",
    font_family="DejaVu Sans, Arial, sans-serif",
    colors=("#1f4e8c", "#a52834", "#2f7d4f", "#8a5a00"),
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    guide_stroke_color="#dde3ea",
    guide_stroke_dasharray="1,0",
    major_guide_stroke_color="#dde3ea",
    major_guide_stroke_dasharray="1,0",
)


def csp_safe_svg(chart: pygal.graph.graph.Graph, *, title: str, nonce: str = "") -> SafeString:
    """The chart as inline SVG a strict Content-Security-Policy allows.

    pygal emits a <script>, inline style attributes and a <style> element: the
    script goes, style attributes become presentation attributes, and the <style>
    element carries the page's nonce.
    """
    root = ET.fromstring(chart.render(is_unicode=True))  # noqa: S314 (pygal's output, not outside input)
    for parent in root.iter():
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, _, value = declaration.partition(":")
                if name.strip() and re.fullmatch(r"[\w-]+", name.strip()):
                    element.set(name.strip(), value.strip())
        if element.tag == f"{{{SVG_NS}}}style" and nonce:
            element.set("nonce", nonce)
    title_id = f"chart-title-{uuid.uuid4().hex[:8]}"
    title_element = ET.Element(f"{{{SVG_NS}}}title", {"id": title_id})
    title_element.text = title
    root.insert(0, title_element)
    root.set("role", "img")
    root.set("aria-labelledby", title_id)
    root.set("class", f"{root.get('class', '')} trend-chart".strip())
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308 (built from our own chart)


def _config(**options) -> dict:
    return {
        "disable_xml_declaration": True,
        "js": [],
        "style": CHART_STYLE,
        "width": 760,
        "height": 300,
        "legend_at_bottom": True,
        "show_x_guides": False,
        "dots_size": 4,
        "print_values": False,
        "x_label_rotation": 0,
        "truncate_label": -1,
        "margin_right": 48,
        **options,
    }


def _date_labels(days: list[date], most: int = 8) -> list[int]:
    """At most `most` evenly spread x-axis labels (as day numbers) between the first and last day."""
    first, last = days[0].toordinal(), days[-1].toordinal()
    if first == last:
        return [first]
    step = max(1, (last - first) // (most - 1))
    return [*list(range(first, last, step))[: most - 1], last]


def headache_days_chart(points: list[tuple[date, int]], baseline: int | None, *, nonce: str = "") -> SafeString | None:
    """Headache days in the last 30 days, as reported over time, against the intake baseline."""
    if not points:
        return None
    # XY over day numbers keeps the spacing true to time without pygal's deprecated date handling.
    chart = pygal.XY(
        **_config(
            title="Headache days per 30 days",
            range=(0, 31),
            y_labels=list(range(0, 31, 5)),
            y_title="days",
            x_value_formatter=lambda x: date.fromordinal(int(x)).isoformat(),
        )
    )
    chart.x_labels = _date_labels([day for day, _ in points])
    chart.add("Reported headache days", [(day.toordinal(), value) for day, value in points])
    if baseline is not None:
        first, last = points[0][0].toordinal(), points[-1][0].toordinal()
        chart.add(
            "Baseline at intake",
            [(first, baseline), (last, baseline)],
            stroke_style={"width": 3, "dasharray": "9, 5"},
            show_dots=False,
        )
    return csp_safe_svg(chart, title="Headache days per 30 days against the baseline at intake", nonce=nonce)
