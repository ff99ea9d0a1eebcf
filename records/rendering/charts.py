"""The session's charts: its vitals, and its sedation and dissociation scores, on one time axis.

Both are inline SVG (records.rendering.svg), so they print and work without JavaScript.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.safestring import SafeString

from records.rendering.svg import Axis, Point, Series, line_chart

# Colour-blind-safe (Okabe-Ito) series colours, in series order.
SERIES = [
    ("systolic", "Systolic BP (mmHg)", "#0072B2"),
    ("diastolic", "Diastolic BP (mmHg)", "#56B4E9"),
    ("heart_rate", "Heart rate (/min)", "#D55E00"),
    ("spo2", "SpO2 (%)", "#009E73"),
    ("respiratory_rate", "Respiratory rate (/min)", "#CC79A7"),
]
EVENT_COLOUR = "#000000"


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


def _clock_axis(origin: datetime, ticks: list[int]) -> Axis:
    labels: list[tuple[float, str]] = [(tick, (origin + timedelta(minutes=tick)).strftime("%H:%M")) for tick in ticks]
    return Axis(ticks=labels, low=ticks[0], high=ticks[-1])


def _marks(events, origin: datetime, *, at: float, size: float) -> Series:
    """The administration's start, pauses, resumes and stop, as dots along the foot of a panel."""
    return Series(
        label="Start / pause / resume / stop",
        colour=EVENT_COLOUR,
        points=[
            Point(_minutes(e.occurred_at, origin), at, f"{e.get_kind_display()} at {_clock(e.occurred_at)}")
            for e in events
        ],
        line=False,
        dot=size,
    )


def _clock(value: datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}"


def _minutes(value: datetime, origin: datetime) -> float:
    return round((value - origin).total_seconds() / 60, 2)


def _series(readings, fields, origin: datetime) -> list[Series]:
    return [
        Series(
            label=label,
            colour=colour,
            points=[
                Point(
                    _minutes(r.measured_at, origin),
                    getattr(r, field),
                    f"{label}: {getattr(r, field)} at {_clock(r.measured_at)}",
                )
                for r in readings
                if getattr(r, field) is not None
            ],
        )
        for field, label, colour in fields
    ]


def scales_chart(readings, events, *, nonce: str = "") -> SafeString:
    """The second panel under the vitals chart: MOAA/S and CADSS-6 total on the vitals chart's time axis.

    `readings` and `events` are the ones given to `vitals_chart` (entered-in-error readings left out):
    the panel plots the same window, with the same ticks and width, so the two line up.
    """
    readings, events, _left_out, origin, ticks = _shared_axis(readings, events)
    moaas = [r.moaas for r in readings if r.moaas is not None]
    totals = [r.cadss6_total for r in readings if r.cadss6_total is not None]
    if moaas or totals:
        summary = (f"{len(moaas)} MOAA/S scores (lowest {min(moaas)})" if moaas else "No MOAA/S scores") + (
            f"; {len(totals)} CADSS-6 totals (highest {max(totals)})." if totals else "; no CADSS-6 totals."
        )
        summary += " The table gives every value."
    else:
        summary = "No sedation or dissociation scores yet."
    return line_chart(
        name="scales-chart",
        title="Sedation and dissociation over time",
        description=summary,
        series=[*_series(readings, SCALE_SERIES, origin), _marks(events, origin, at=0, size=6)],
        x=_clock_axis(origin, ticks),
        y=Axis(ticks=[(v, str(v)) for v in range(0, 25, 4)], low=0, high=24),
        width=960,
        height=240,
        nonce=nonce,
    )


def vitals_chart(readings, events, *, nonce: str = "") -> SafeString:
    """The session's vitals over time with administration start, pauses and stop marked.

    `readings` excludes readings entered in error. `events` are AdministrationEvents.
    Marks are a separate series plotted at the foot of the chart; the x axis is
    minutes from the first time shown, labelled with the clinic's clock time.
    """
    readings, events, left_out, origin, ticks = _shared_axis(readings, events)
    times = [r.measured_at for r in readings] + [e.occurred_at for e in events]
    if times:
        first, last = min(times), max(times)
        summary = (
            f"{len(readings)} readings from {_clock(first)} to {_clock(last)}; "
            f"{len(events)} administration marks. The table gives every value."
        )
        if left_out:
            summary += f" {left_out} earlier readings or marks are in the table only."
    else:
        summary = "No readings yet."
    return line_chart(
        name="vitals-chart",
        title="Vitals over time",
        description=summary,
        series=[*_series(readings, SERIES, origin), _marks(events, origin, at=8, size=7)],
        x=_clock_axis(origin, ticks),
        y=Axis(ticks=[(v, str(v)) for v in range(0, 221, 20)], low=0, high=220),
        width=960,
        height=420,
        nonce=nonce,
    )
