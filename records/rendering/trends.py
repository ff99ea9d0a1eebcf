"""Trend charts across a patient's course: server-rendered SVG that prints and needs no script."""

from datetime import date

from django.utils.safestring import SafeString

from records.rendering.svg import Axis, Point, Series, line_chart

# Okabe-Ito, colour-blind safe, as the session chart.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")


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


def _date_labels(days: list[date], most: int = 6) -> list[int]:
    """At most `most` evenly spread x-axis labels (as day numbers) between the first and last day."""
    first, last = days[0].toordinal(), days[-1].toordinal()
    if first == last:
        return [first]
    step = max(1, (last - first) // (most - 1))
    return [*list(range(first, last, step))[: most - 1], last]


def _per_day_chart(
    *,
    name: str,
    heading: str,
    title: str,
    description: str,
    y_title: str,
    y_labels: list[int],
    days: list[date],
    series: list[Series],
    nonce: str,
) -> SafeString:
    """A trend over the days of a course: x is the day number, so the spacing stays true to time."""
    ticks = _date_labels(days)
    first, last = days[0].toordinal(), days[-1].toordinal()
    x = Axis(ticks=[(tick, date.fromordinal(tick).isoformat()) for tick in ticks], low=first - 1, high=last + 1)
    y = Axis(ticks=[(v, str(v)) for v in y_labels], low=y_labels[0], high=y_labels[-1], title=y_title)
    return line_chart(
        name=name,
        title=title,
        description=description,
        heading=heading,
        series=series,
        x=x,
        y=y,
        width=760,
        height=300,
        nonce=nonce,
    )


def _points(label: str, values: list[tuple[date, int]]) -> list[Point]:
    return [Point(day.toordinal(), value, f"{label}: {value} on {day.isoformat()}") for day, value in values]


def headache_days_chart(points: list[tuple[date, int]], baseline: int | None, *, nonce: str = "") -> SafeString | None:
    """Headache days in the last 30 days, as reported over time, against the intake baseline."""
    points, left_out = bounded(points)
    if not points:
        return None
    days = [day for day, _ in points]
    series = [Series("Reported headache days", COLOURS[0], _points("Reported headache days", points))]
    if baseline is not None:
        ends = [(days[0], baseline), (days[-1], baseline)]
        series.append(
            Series("Baseline at intake", COLOURS[1], _points("Baseline at intake", ends), dot=0, width=3, dash="9,5")
        )
    return _per_day_chart(
        name="headache-trend",
        heading="Headache days per 30 days",
        title="Headache days per 30 days against the baseline at intake",
        description=f"{len(points)} reports from {days[0]} to {days[-1]}; the table gives every value."
        + _left_out(left_out),
        y_title="days",
        y_labels=[0, 5, 10, 15, 20, 25, 30],
        days=days,
        series=series,
        nonce=nonce,
    )


def pain_chart(points: list[tuple[date, int | None, int | None]], *, nonce: str = "") -> SafeString | None:
    """Pain (0-10) before and after each session, from the session's own vitals."""
    points, left_out = bounded([p for p in points if p[1] is not None or p[2] is not None])
    if not points:
        return None
    before = [(day, value) for day, value, _ in points if value is not None]
    after = [(day, value) for day, _, value in points if value is not None]
    return _per_day_chart(
        name="pain-trend",
        heading="Pain before and after each session",
        title="Pain before and after each session",
        description=f"{len(points)} sessions; pain as charted in the pre- and post-session vitals."
        + _left_out(left_out),
        y_title="pain 0-10",
        y_labels=list(range(0, 11, 2)),
        days=[day for day, _, _ in points],
        series=[
            Series("Before", COLOURS[0], _points("Pain before", before)),
            Series("After", COLOURS[1], _points("Pain after", after)),
        ],
        nonce=nonce,
    )


def bp_chart(points: list[tuple[date, int, int]], *, nonce: str = "") -> SafeString | None:
    """The blood pressure taken at each session's screening, before any administration."""
    points, left_out = bounded(points)
    if not points:
        return None
    return _per_day_chart(
        name="bp-trend",
        heading="Pre-session blood pressure",
        title="Pre-session blood pressure per session",
        description=f"{len(points)} sessions; the screening blood pressure of each." + _left_out(left_out),
        y_title="mmHg",
        y_labels=list(range(40, 221, 20)),
        days=[day for day, _, _ in points],
        series=[
            Series("Systolic", COLOURS[0], _points("Systolic", [(day, value) for day, value, _ in points])),
            Series("Diastolic", COLOURS[1], _points("Diastolic", [(day, value) for day, _, value in points])),
        ],
        nonce=nonce,
    )
