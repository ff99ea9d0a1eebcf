"""Trend charts across a patient's course: server-rendered SVG that prints and needs no script."""

from datetime import date

import pygal
from django.utils.safestring import SafeString
from pygal.style import Style

from records.rendering.charts import csp_safe_svg

CHART_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5a6675",
    font_family="DejaVu Sans, Arial, sans-serif",
    # Okabe-Ito, colour-blind safe, as the session chart.
    colors=("#0072B2", "#D55E00", "#009E73", "#CC79A7"),
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    title_font_size=16,
    guide_stroke_color="#dde3ea",
    guide_stroke_dasharray="1,0",
    major_guide_stroke_color="#dde3ea",
    major_guide_stroke_dasharray="1,0",
)


# A trend shows at most the last MAX_POINTS points of the last MAX_SPAN_DAYS before the latest, whatever
# the data holds (an outcome dated decades back, thousands of sessions); the tables list every value.
MAX_POINTS = 200
MAX_SPAN_DAYS = 10 * 366


def bounded[P: tuple](points: list[P]) -> tuple[list[P], int]:
    """The points a trend plots (each starts with its day), oldest first, and how many it leaves out."""
    ordered = sorted(points, key=lambda point: point[0])
    if not ordered:
        return [], 0
    start = ordered[-1][0].toordinal() - MAX_SPAN_DAYS
    shown = [point for point in ordered if point[0].toordinal() >= start][-MAX_POINTS:]
    return shown, len(ordered) - len(shown)


def _left_out(count: int) -> str:
    return f" {count} earlier values are in the table only." if count else ""


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
        "truncate_legend": -1,
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


def _per_day_chart(*, title: str, y_title: str, y_range: tuple[int, int], y_labels: list[int], days: list[date]):
    # XY over day numbers keeps the spacing true to time, without pygal's deprecated date handling.
    chart = pygal.XY(
        **_config(
            title=title,
            range=y_range,
            y_labels=y_labels,
            y_title=y_title,
            x_value_formatter=lambda x: date.fromordinal(int(x)).isoformat(),
        )
    )
    chart.x_labels = _date_labels(days)
    return chart


def headache_days_chart(points: list[tuple[date, int]], baseline: int | None, *, nonce: str = "") -> SafeString | None:
    """Headache days in the last 30 days, as reported over time, against the intake baseline."""
    points, left_out = bounded(points)
    if not points:
        return None
    days = [day for day, _ in points]
    chart = _per_day_chart(
        title="Headache days per 30 days",
        y_title="days",
        y_range=(0, 31),
        y_labels=[0, 5, 10, 15, 20, 25, 30],
        days=days,
    )
    chart.add("Reported headache days", [(day.toordinal(), value) for day, value in points])
    if baseline is not None:
        first, last = days[0].toordinal(), days[-1].toordinal()
        chart.add(
            "Baseline at intake",
            [(first, baseline), (last, baseline)],
            stroke_style={"width": 3, "dasharray": "9, 5"},
            show_dots=False,
        )
    return csp_safe_svg(
        chart.render(is_unicode=True),
        nonce=nonce,
        title="Headache days per 30 days against the baseline at intake",
        description=f"{len(points)} reports from {days[0]} to {days[-1]}; the table gives every value."
        + _left_out(left_out),
    )


def pain_chart(points: list[tuple[date, int | None, int | None]], *, nonce: str = "") -> SafeString | None:
    """Pain (0-10) before and after each session, from the session's own vitals."""
    points, left_out = bounded([p for p in points if p[1] is not None or p[2] is not None])
    if not points:
        return None
    chart = _per_day_chart(
        title="Pain before and after each session",
        y_title="pain 0-10",
        y_range=(0, 10),
        y_labels=list(range(0, 11, 2)),
        days=[day for day, _, _ in points],
    )
    chart.add("Before", [(day.toordinal(), before) for day, before, _ in points if before is not None])
    chart.add("After", [(day.toordinal(), after) for day, _, after in points if after is not None])
    return csp_safe_svg(
        chart.render(is_unicode=True),
        nonce=nonce,
        title="Pain before and after each session",
        description=f"{len(points)} sessions; pain as charted in the pre- and post-session vitals."
        + _left_out(left_out),
    )


def bp_chart(points: list[tuple[date, int, int]], *, nonce: str = "") -> SafeString | None:
    """The blood pressure taken at each session's screening, before any administration."""
    points, left_out = bounded(points)
    if not points:
        return None
    chart = _per_day_chart(
        title="Pre-session blood pressure",
        y_title="mmHg",
        y_range=(40, 220),
        y_labels=list(range(40, 221, 20)),
        days=[day for day, _, _ in points],
    )
    chart.add("Systolic", [(day.toordinal(), systolic) for day, systolic, _ in points])
    chart.add("Diastolic", [(day.toordinal(), diastolic) for day, _, diastolic in points])
    return csp_safe_svg(
        chart.render(is_unicode=True),
        nonce=nonce,
        title="Pre-session blood pressure per session",
        description=f"{len(points)} sessions; the screening blood pressure of each." + _left_out(left_out),
    )
