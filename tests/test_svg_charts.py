"""The SVG chart writer (records.rendering.svg): well-formed, safe and true to the values, whatever the text."""

import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from records.rendering.svg import Axis, Point, Series, line_chart

SVG = "{http://www.w3.org/2000/svg}"
# What the writer may emit: nothing that runs, loads or styles from outside.
ELEMENTS = {
    f"{SVG}{name}"
    for name in ("svg", "title", "desc", "defs", "style", "rect", "text", "g", "path", "polyline", "circle")
}
# XML 1.0 cannot carry most control characters at all; a record's text never holds them.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def chart(*, title="T", description="D", label="L", note="N", points=((0, 1), (5, 2)), y_high=10, nonce=""):
    return line_chart(
        name="test-chart",
        title=title,
        description=description,
        series=[Series(label, "#0072B2", [Point(x, y, note) for x, y in points])],
        x=Axis(ticks=[(0, "10:00"), (5, "10:05")], low=0, high=5),
        y=Axis(ticks=[(v, str(v)) for v in range(0, y_high + 1, 5)], low=0, high=y_high),
        width=600,
        height=300,
        nonce=nonce,
    )


@settings(max_examples=60, deadline=None)
@given(title=TEXT, description=TEXT, label=TEXT, note=TEXT, nonce=st.from_regex(r"[A-Za-z0-9_-]{0,24}", fullmatch=True))
def test_any_text_stays_text(title, description, label, note, nonce):
    svg = str(chart(title=title, description=description, label=label, note=note, nonce=nonce))
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    assert {element.tag for element in root.iter()} <= ELEMENTS
    assert all(
        "style" not in element.attrib and not any(a.startswith("on") for a in element.attrib) for element in root.iter()
    )
    assert root.get("aria-label") == title and root.get("role") == "img"
    assert (root.find(f"{SVG}title").text or "") == title
    desc = root.find(f"{SVG}desc")
    assert ("" if desc is None else desc.text or "") == description
    assert label in [element.text or "" for element in root.iter(f"{SVG}text")]
    notes = [element.text or "" for element in root.iter(f"{SVG}title")][1:]
    assert notes == [note, note]
    assert (root.find(f"{SVG}defs/{SVG}style").get("nonce") or "") == nonce


def test_ids_come_from_the_name_only():
    svg = str(chart())
    assert re.findall(r'\sid="([^"]+)"', svg) == ["test-chart-desc"]
    assert 'aria-describedby="test-chart-desc"' in svg


def test_a_value_above_the_axis_widens_it_and_is_drawn_inside():
    svg = str(chart(points=((0, 1), (5, 23)), y_high=10))
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    labels = [element.text for element in root.iter(f"{SVG}text")]
    assert "25" in labels and "20" in labels  # whole steps of 5 up to the value
    top_guide = min(float(re.match(r"M[\d.]+ ([\d.]+)H", p.get("d")).group(1)) for p in root.iter(f"{SVG}path"))
    highest_dot = min(float(c.get("cy")) for c in root.iter(f"{SVG}circle"))
    assert top_guide <= highest_dot


def test_points_sit_where_their_values_say():
    root = ET.fromstring(str(chart(points=((0, 0), (5, 10)), y_high=10)))  # noqa: S314 (our own output)
    (first, last) = [(float(c.get("cx")), float(c.get("cy"))) for c in root.iter(f"{SVG}circle")]
    guides = {p.get("d") for p in root.iter(f"{SVG}path")}
    assert f"M{first[0]:g} {first[1]:g}H{last[0]:g}" in guides  # 0 sits on the lowest guide, at the first tick
    assert any(d.startswith(f"M{first[0]:g} {last[1]:g}H") for d in guides)  # 10 on the highest
    ticks = {
        element.text: float(element.get("x")) for element in root.iter(f"{SVG}text") if ":" in (element.text or "")
    }
    assert (ticks["10:00"], ticks["10:05"]) == (first[0], last[0])


def test_a_value_far_outside_the_axis_keeps_the_chart_bounded_and_says_its_value():
    svg = str(chart(points=((0, 1), (5, 10**9)), note="Systolic: 1000000000 at 10:05", y_high=10))
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    labels = [element.text for element in root.iter(f"{SVG}text") if (element.text or "").isdigit()]
    assert labels == ["0", "5", "10", "15", "20", "25"]  # widened by as many steps as it had ticks, no more
    top_guide = min(float(re.match(r"M[\d.]+ ([\d.]+)H", p.get("d")).group(1)) for p in root.iter(f"{SVG}path"))
    assert min(float(c.get("cy")) for c in root.iter(f"{SVG}circle")) == top_guide  # drawn at the edge
    assert "Systolic: 1000000000 at 10:05" in [element.text for element in root.iter(f"{SVG}title")]
