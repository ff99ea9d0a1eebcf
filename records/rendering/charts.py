"""Server-rendered vitals charts: pygal SVG made safe for a strict Content-Security-Policy.

The SVG is inline in the page, so it prints and works without JavaScript.
"""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pygal
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

# Colour-blind-safe (Okabe-Ito) series colours, in series order.
SERIES = [
    ("systolic", "Systolic BP (mmHg)", "#0072B2"),
    ("diastolic", "Diastolic BP (mmHg)", "#56B4E9"),
    ("heart_rate", "Heart rate (/min)", "#D55E00"),
    ("spo2", "SpO2 (%)", "#009E73"),
    ("respiratory_rate", "Respiratory rate (/min)", "#CC79A7"),
]
EVENT_COLOUR = "#000000"

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5a6675",
    colors=(*(colour for _, _, colour in SERIES), EVENT_COLOUR),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    value_font_size=12,
)


def csp_safe_svg(svg: str, *, nonce: str = "", title: str, description: str = "") -> SafeString:
    """Make pygal's SVG output safe under a strict CSP and accessible.

    Drops <script> elements, every style="" attribute (inline style attributes
    cannot carry a nonce) and the legend ids only the script used (the same in every
    chart), puts the nonce on <style> elements, and gives the SVG
    role="img", an aria-label and a <title> (plus <desc> when given).
    """
    root = ET.fromstring(svg)  # noqa: S314 (pygal output rendered here from our own data, not input)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}script", "script"):
                parent.remove(child)
    for element in root.iter():
        element.attrib.pop("style", None)
        # The legend's ids are for pygal's script (dropped above), and the same in every chart: two charts
        # on one page or print would use each twice.
        if element.get("id", "").startswith("activate-serie-"):
            del element.attrib["id"]
        if element.tag in (f"{{{SVG_NS}}}style", "style"):
            if nonce:
                element.set("nonce", nonce)
            else:
                element.attrib.pop("nonce", None)
    for existing in [c for c in root if c.tag == f"{{{SVG_NS}}}title"]:
        root.remove(existing)
    if description:
        desc = ET.Element(f"{{{SVG_NS}}}desc")
        desc.text = description
        root.insert(0, desc)
    title_el = ET.Element(f"{{{SVG_NS}}}title")
    title_el.text = title
    root.insert(0, title_el)
    root.set("role", "img")
    root.set("aria-label", title)
    root.set("focusable", "false")
    # Registered again each time: importing WeasyPrint re-maps the default namespace
    # prefix, after which ElementTree would write <ns0:svg>, which browsers do not show.
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    text = ET.tostring(root, encoding="unicode")
    # pygal's tooltips are revealed by its script; without it they would sit on top of the chart.
    text = re.sub(r"<desc class=\"(value|x_label|label)\">.*?</desc>", "", text)
    return mark_safe(text)  # noqa: S308 (serialised by ElementTree from our own chart)


# The chart shows one visit, whatever the rows hold: at most the last MAX_SPAN of it and the last
# MAX_READINGS readings (a reading dated decades back once made the page 18 MB). The table beside
# the chart lists every reading; the chart's description says how many it leaves out.
MAX_SPAN = timedelta(hours=12)
MAX_READINGS = 200
MAX_MARKS = 100


def bounded(readings, events) -> tuple[list, list, int]:
    """The readings and events the chart plots, and how many of them it leaves out."""
    readings = sorted(readings, key=lambda r: r.measured_at)
    events = sorted(events, key=lambda e: e.occurred_at)
    times = [r.measured_at for r in readings] + [e.occurred_at for e in events]
    if not times:
        return [], [], 0
    start = max(times) - MAX_SPAN
    shown_readings = [r for r in readings if r.measured_at >= start][-MAX_READINGS:]
    shown_events = [e for e in events if e.occurred_at >= start][-MAX_MARKS:]
    left_out = len(readings) + len(events) - len(shown_readings) - len(shown_events)
    return shown_readings, shown_events, left_out


def _x_axis(times: list[datetime]) -> tuple[datetime, list[int]]:
    """The origin (first time, to the minute) and tick positions in minutes, about 8 ticks."""
    origin = timezone.localtime(min(times)).replace(second=0, microsecond=0)
    span = max(1, int((max(times) - origin).total_seconds() // 60) + 1)
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120) if span / s <= 8), -(-span // 8))
    return origin, list(range(0, span + step, step))


def _shared_axis(readings, events):
    """What both panels plot and their common x axis: (readings, events, left out, origin, ticks).

    The scales panel takes the same readings and events as the vitals chart so that a minute sits
    at the same place in both.
    """
    readings, events, left_out = bounded(readings, events)
    times = [r.measured_at for r in readings] + [e.occurred_at for e in events]
    origin, ticks = _x_axis(times) if times else (timezone.localtime(), [0, 5, 10, 15])
    return readings, events, left_out, origin, ticks


# The scales panel: MOAA/S (0-5) and the CADSS-6 total (0-24, the sum of the six items entered).
SCALE_SERIES = [
    ("moaas", "Sedation, MOAA/S (0-5)", "#0072B2"),
    ("cadss6_total", "Dissociation, CADSS-6 total (0-24)", "#D55E00"),
]
SCALES_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5a6675",
    colors=(*(colour for _, _, colour in SCALE_SERIES), EVENT_COLOUR),
    font_family=CHART_STYLE.font_family,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    value_font_size=12,
)


def scales_chart(readings, events, *, nonce: str = "") -> SafeString:
    """The second panel under the vitals chart: MOAA/S and CADSS-6 total on the vitals chart's time axis.

    `readings` and `events` are the ones given to `vitals_chart` (entered-in-error readings left out):
    the panel plots the same window, with the same ticks and width, so the two line up.
    """
    readings, events, _left_out, origin, ticks = _shared_axis(readings, events)

    def minutes(value: datetime) -> float:
        return round((value - origin).total_seconds() / 60, 2)

    def clock(x: float) -> str:
        return (origin + timedelta(minutes=x)).strftime("%H:%M")

    chart = pygal.XY(
        style=SCALES_STYLE,
        disable_xml_declaration=True,
        js=[],
        width=960,
        height=240,
        dots_size=4,
        stroke_style={"width": 2},
        x_value_formatter=clock,
        x_labels=ticks,
        xrange=(ticks[0], ticks[-1]),
        range=(0, 24),
        y_labels=[0, 4, 8, 12, 16, 20, 24],
        # As wide as the vitals chart's labels (up to "220"), so both plots start at the same x.
        value_formatter=lambda v: f"{int(v)}".rjust(3, "\u2007"),
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        print_values=False,
        margin_bottom=10,
    )
    scored = 0
    for field, label, _colour in SCALE_SERIES:
        points = [(minutes(r.measured_at), getattr(r, field)) for r in readings if getattr(r, field) is not None]
        scored += len(points)
        chart.add(label, points)
    chart.add("Start / pause / resume / stop", [(minutes(e.occurred_at), 0) for e in events], stroke=False, dots_size=6)
    moaas = [r.moaas for r in readings if r.moaas is not None]
    totals = [r.cadss6_total for r in readings if r.cadss6_total is not None]
    if moaas or totals:
        summary = (f"{len(moaas)} MOAA/S scores (lowest {min(moaas)})" if moaas else "No MOAA/S scores") + (
            f"; {len(totals)} CADSS-6 totals (highest {max(totals)})." if totals else "; no CADSS-6 totals."
        )
        summary += " The table gives every value."
    else:
        summary = "No sedation or dissociation scores yet."
    svg = chart.render(is_unicode=True)
    return csp_safe_svg(svg, nonce=nonce, title="Sedation and dissociation over time", description=escape(summary))


def vitals_chart(readings, events, *, nonce: str = "") -> SafeString:
    """The session's vitals over time with administration start, pauses and stop marked.

    `readings` excludes readings entered in error. `events` are AdministrationEvents.
    Marks are a separate series plotted at the foot of the chart; the x axis is
    minutes from the first time shown, labelled with the clinic's clock time.
    """
    readings, events, left_out, origin, ticks = _shared_axis(readings, events)
    times = [r.measured_at for r in readings] + [e.occurred_at for e in events]

    def minutes(value: datetime) -> float:
        return round((value - origin).total_seconds() / 60, 2)

    def clock(x: float) -> str:
        return (origin + timedelta(minutes=x)).strftime("%H:%M")

    chart = pygal.XY(
        style=CHART_STYLE,
        disable_xml_declaration=True,
        js=[],
        width=960,
        height=420,
        dots_size=4,
        stroke_style={"width": 2},
        x_value_formatter=clock,
        x_labels=ticks,
        xrange=(ticks[0], ticks[-1]),
        range=(0, 220),
        y_labels=list(range(0, 221, 20)),
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        truncate_legend=-1,
        print_values=False,
        margin_bottom=10,
    )
    for field, label, _colour in SERIES:
        points = [(minutes(r.measured_at), getattr(r, field)) for r in readings if getattr(r, field) is not None]
        chart.add(label, points)
    marks = [{"value": (minutes(e.occurred_at), 8), "label": e.get_kind_display()} for e in events]
    chart.add("Start / pause / resume / stop", marks, stroke=False, dots_size=7)
    if times:
        first, last = min(times), max(times)
        summary = (
            f"{len(readings)} readings from {timezone.localtime(first):%H:%M} to {timezone.localtime(last):%H:%M}; "
            f"{len(events)} administration marks. The table gives every value."
        )
        if left_out:
            summary += f" {left_out} earlier readings or marks are in the table only."
    else:
        summary = "No readings yet."
    svg = chart.render(is_unicode=True)
    return csp_safe_svg(svg, nonce=nonce, title="Vitals over time", description=escape(summary))
