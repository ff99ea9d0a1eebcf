"""Clinical times belong to the visit: the rule, stated once.

Every time a clinician enters (a reading's measured-at, the screening's blood pressure,
an order's time received, an administration's start, pause, resume and stop, a side
effect's onset and resolution, the discharge, the arrival) is accepted only inside the
visit it belongs to:

- not before ARRIVAL_MARGIN ahead of the patient's arrival (a reading or an order taken as
  the patient comes in); before the arrival, not before the start of the scheduled day in
  the clinic's time zone;
- not after now (with records.vital_limits.CLOCK_SKEW_SECONDS for a device's clock), and not
  after the discharge once the patient is discharged;
- and not before what it follows: an administration's start not before its order was
  received; a pause, resume or stop not before the administration's previous event; a
  post-session reading not before the last stop; a discharge not before the last stop nor
  the arrival; a side effect's resolution not before its onset. A time typed to the minute
  is compared to the minute.

Every action that takes a clinical time calls `require_in_visit` (records/actions/); a time
outside is refused with a message naming the field and the accepted window in the clinic's
local time ("Measured at must be between 09:05 and 10:02 today"), never stored.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from records.models import Administration, Discharge, Session
from records.vital_limits import CLOCK_SKEW_SECONDS

# How long before the recorded arrival a clinical time may be (vitals at the door, an order phoned in).
ARRIVAL_MARGIN = timedelta(minutes=60)


@dataclass(frozen=True)
class Window:
    """The times a clinical entry of a visit may carry, both ends included."""

    earliest: datetime
    latest: datetime

    def __contains__(self, value: datetime) -> bool:
        return self.earliest <= value <= self.latest


def _to_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def discharged_at(session: Session) -> datetime | None:
    found: datetime | None = (
        Discharge.objects.filter(session_id=session.pk).values_list("discharged_at", flat=True).first()
    )
    return found


def last_stop(session: Session) -> datetime | None:
    """When the session's last stopped administration stopped (None before any stop)."""
    found: datetime | None = Administration.objects.filter(session_id=session.pk).aggregate(last=Max("stopped_at"))[
        "last"
    ]
    return found


def visit_window(session: Session) -> Window:
    """From shortly before the arrival (or the scheduled day) to now, or to the discharge once discharged."""
    if session.arrived_at is not None:
        earliest = _to_minute(session.arrived_at - ARRIVAL_MARGIN)
    else:
        day = timezone.localtime(session.scheduled_at).date()
        earliest = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    # To the minute, so the window reads as it is; never before now, as the skew allowance is a minute.
    latest = discharged_at(session) or _to_minute(timezone.now() + timedelta(seconds=CLOCK_SKEW_SECONDS))
    return Window(earliest, latest)


def _clock(value: datetime, today: date) -> str:
    local = timezone.localtime(value)
    shown = f"{local:%H:%M:%S}" if local.second else f"{local:%H:%M}"
    return shown if local.date() == today else f"{local:%Y-%m-%d} {shown}"


def describe(window: Window) -> str:
    """'between 09:05 and 10:02 today', or with dates when a bound is on another day."""
    today = timezone.localdate()
    first, last = (timezone.localtime(end).date() == today for end in (window.earliest, window.latest))
    if first and last:
        return f"between {_clock(window.earliest, today)} and {_clock(window.latest, today)} today"
    earliest = _clock(window.earliest, today) + (" today" if first else "")
    latest = _clock(window.latest, today) + (" today" if last else "")
    return f"between {earliest} and {latest}"


def window_for(session: Session, *, after: Iterable[datetime | None] = ()) -> Window:
    """The visit's window, narrowed to start at the latest of the times in `after`."""
    visit = visit_window(session)
    earliest = max([visit.earliest, *(bound for bound in after if bound is not None)])
    return Window(earliest, visit.latest)


def require_in_visit(
    session: Session, *, field: str, label: str, value: datetime, after: Iterable[datetime | None] = ()
) -> None:
    """Refuse (ValidationError on `field`) a clinical time outside the visit, or before any time in `after`.

    A time typed to the minute (the forms' precision) is compared to the minute: a post-session
    reading at 10:03 follows a stop at 10:03:45. A time with seconds (the server's clock) is
    compared exactly.
    """
    window = window_for(session, after=after)
    if value == _to_minute(value):
        window = Window(_to_minute(window.earliest), window.latest)
    if value in window:
        return
    if window.earliest > window.latest:
        raise ValidationError(
            {field: f"{label} must be {describe(window)}, and that time has not come yet: check the session."}
        )
    raise ValidationError({field: f"{label} must be {describe(window)}."})
