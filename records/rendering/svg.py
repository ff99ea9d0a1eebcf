"""Line charts drawn as inline SVG: the session's vitals and scales panels and the patient's trends.

The markup is written here rather than by a chart library because the session page draws two charts
on every view and every answer to a charted reading. pygal, used until 2026-12, spent about 24 ms of
an 87 ms session page on its own machinery (every attribute it read passed through a Python-level
lookup, some ten thousand a chart); this writer draws the same charts in about a millisecond.

What the charts promise, wherever they are shown or printed:

- no script and no style="" attribute (the page's Content-Security-Policy allows neither): colours
  are presentation attributes, and the one <style> element carries the page's nonce;
- role="img" with the chart's title as its accessible name and its summary as its description;
- every point carries its own value and time as a <title> (shown on hover, read by screen readers);
- ids only from the chart's `name`, so that charts shown or printed together never share one.
"""

from dataclasses import dataclass
from math import ceil, floor

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
INK = "#1d2733"
SUBTLE = "#5a6675"
GUIDE = "#dde3ea"


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    note: str  # what the point says on its own: its series, value and time


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    points: list[Point]
    line: bool = True  # joined by a line; False: dots only (marks)
    dot: float = 4  # the dots' radius; 0: no dots
    width: float = 2
    dash: str = ""  # a stroke-dasharray, for a reference line


@dataclass(frozen=True)
class Axis:
    ticks: list[tuple[float, str]]  # (position, label), in order
    low: float
    high: float
    title: str = ""


def _n(value: float) -> str:
    """A coordinate: at most one decimal, no trailing zero."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _widened(axis: Axis, values: list[float]) -> Axis:
    """The y axis stretched by whole steps of its ticks when a value lies outside it.

    By at most as many steps as it has ticks, each way: a value further out (none a clinical field's
    check constraints admit today) is drawn at the edge, and its dot's title still gives the value.
    """
    if not values or len(axis.ticks) < 2:
        return axis
    step = axis.ticks[1][0] - axis.ticks[0][0]
    most = len(axis.ticks)
    low, high = axis.low, axis.high
    if min(values) < low:
        low = low - min(most, ceil((low - min(values)) / step)) * step
    if max(values) > high:
        high = high + min(most, ceil((max(values) - high) / step)) * step
    if (low, high) == (axis.low, axis.high):
        return axis
    first, last = axis.ticks[0][0], axis.ticks[-1][0]
    below = [(first - step * k, _n(first - step * k)) for k in range(floor((first - low) / step), 0, -1)]
    above = [(last + step * k, _n(last + step * k)) for k in range(1, floor((high - last) / step) + 1)]
    return Axis(ticks=[*below, *axis.ticks, *above], low=low, high=high, title=axis.title)


def line_chart(
    *,
    name: str,
    title: str,
    description: str,
    series: list[Series],
    x: Axis,
    y: Axis,
    width: int,
    height: int,
    nonce: str = "",
    heading: str = "",
    legend_columns: int = 3,
) -> SafeString:
    """An XY line chart as one <svg> element (see the module's promises)."""
    y = _widened(y, [point.y for serie in series for point in serie.points])
    longest_x_label = max((len(label) for _, label in x.ticks), default=0)
    top = 14 + (30 if heading else 0)
    left = 52 + (24 if y.title else 0)
    right = width - max(24, int(longest_x_label * 4.5) + 8)
    legend_rows = ceil(len(series) / legend_columns) if series else 0
    bottom = height - 44 - legend_rows * 22
    x_span = (x.high - x.low) or 1
    y_span = (y.high - y.low) or 1

    def px(value: float) -> float:
        return left + (value - x.low) / x_span * (right - left)

    def py(value: float) -> float:
        return bottom - (min(max(value, y.low), y.high) - y.low) / y_span * (bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="clinic-chart" role="img" '
        f'aria-label="{escape(title)}"'
        + (f' aria-describedby="{name}-desc"' if description else "")
        + ' focusable="false">',
        f"<title>{escape(title)}</title>",
    ]
    if description:
        parts.append(f'<desc id="{name}-desc">{escape(description)}</desc>')
    nonce_attr = f' nonce="{escape(nonce)}"' if nonce else ""
    parts.append(
        f'<defs><style type="text/css"{nonce_attr}>'
        f"text{{font-family:{FONT_FAMILY};font-size:13px;fill:{INK}}}"
        ".legend text{font-size:14px}.heading{font-size:16px}</style></defs>"
    )
    parts.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    if heading:
        parts.append(f'<text class="heading" x="{_n(width / 2)}" y="24" text-anchor="middle">{escape(heading)}</text>')
    # The y axis: a guide and a label at each tick.
    parts.append('<g class="axis y">')
    for value, label in y.ticks:
        at = _n(py(value))
        parts.append(f'<path d="M{_n(left)} {at}H{_n(right)}" stroke="{GUIDE}"/>')
        parts.append(f'<text x="{_n(left - 8)}" y="{_n(py(value) + 4)}" text-anchor="end">{escape(label)}</text>')
    if y.title:
        middle = _n((top + bottom) / 2)
        turned = f'transform="rotate(-90 18 {middle})"'
        parts.append(f'<text x="18" y="{middle}" text-anchor="middle" {turned}>{escape(y.title)}</text>')
    parts.append("</g>")
    # The x axis: its line, and a label under each tick.
    parts.append('<g class="axis x">')
    parts.append(f'<path d="M{_n(left)} {_n(bottom)}H{_n(right)}" stroke="{SUBTLE}"/>')
    for value, label in x.ticks:
        parts.append(f'<text x="{_n(px(value))}" y="{_n(bottom + 20)}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</g>")
    # The series: a line through the points, then a dot on each, which says what it is.
    for index, serie in enumerate(series):
        parts.append(f'<g class="series series-{index}">')
        if serie.line and len(serie.points) > 1:
            path = " ".join(f"{_n(px(p.x))},{_n(py(p.y))}" for p in serie.points)
            stroke = f'stroke="{serie.colour}" stroke-width="{_n(serie.width)}"'
            if serie.dash:
                stroke += f' stroke-dasharray="{serie.dash}"'
            parts.append(f'<polyline points="{path}" fill="none" {stroke}/>')
        if serie.dot:
            for p in serie.points:
                at = f'cx="{_n(px(p.x))}" cy="{_n(py(p.y))}" r="{_n(serie.dot)}"'
                parts.append(f'<circle class="dot" {at} fill="{serie.colour}"><title>{escape(p.note)}</title></circle>')
        parts.append("</g>")
    # The legend, under the x axis, `legend_columns` to a row.
    parts.append('<g class="legend">')
    column = (width - left) / legend_columns
    for index, serie in enumerate(series):
        row, col = divmod(index, legend_columns)
        lx, ly = left + col * column, bottom + 38 + row * 22
        parts.append(f'<rect x="{_n(lx)}" y="{_n(ly)}" width="14" height="14" fill="{serie.colour}"/>')
        parts.append(f'<text x="{_n(lx + 20)}" y="{_n(ly + 12)}">{escape(serie.label)}</text>')
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text and attribute from data is escaped above)
