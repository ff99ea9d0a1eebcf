"""The esketamine REMS Patient Monitoring Form: which sessions need one, and what it shows from the chart.

An esketamine session is one with an order for esketamine by the intranasal route (the medication
as the nurse documented it, matched without regard to case). The form is due within 7 calendar days
of the session (the clinic's calendar day of its scheduled time, plus 7).

What the form shows from the chart is read from the documented times and readings, never stored twice:

- total monitoring minutes: from the first administration's start to the discharge time, whole
  minutes, both taken to the minute (a time difference, not a dose);
- blood pressure before the first administration: the last reading with a blood pressure, not
  entered in error, measured at or before the first start;
- at about 40 minutes: of the readings with a blood pressure measured 25 to 55 minutes after the
  first start's minute, the one closest to 40 minutes (the earlier one on a tie);
- before completion: the last reading with a blood pressure, other than the one before the dose,
  measured from the first start's minute to the discharge's minute (or the last such reading while
  the session is not yet discharged).
  Each is shown with its time, so the reader sees which reading was taken.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from records.models import Route, Session, VitalsReading

ESKETAMINE = "esketamine"
DUE_WITHIN_DAYS = 7
FORTY_MINUTES = timedelta(minutes=40)
FORTY_MINUTE_WINDOW = (timedelta(minutes=25), timedelta(minutes=55))


def esketamine_sessions(queryset: QuerySet[Session] | None = None) -> QuerySet[Session]:
    """Sessions with an intranasal esketamine order."""
    queryset = Session.objects.all() if queryset is None else queryset
    return queryset.filter(Q(orders__route=Route.INTRANASAL) & Q(orders__medication__icontains=ESKETAMINE)).distinct()


def is_esketamine(session: Session) -> bool:
    """Whether the session has an intranasal esketamine order (from the prefetched orders when loaded)."""
    return any(o.route == Route.INTRANASAL and ESKETAMINE in o.medication.lower() for o in session.orders.all())


def due_on(session: Session) -> date:
    return timezone.localtime(session.scheduled_at).date() + timedelta(days=DUE_WITHIN_DAYS)


@dataclass(frozen=True)
class ChartedValues:
    """What the form shows from the chart."""

    first_start: datetime | None
    discharged_at: datetime | None
    bp_before: VitalsReading | None
    bp_at_40: VitalsReading | None
    bp_before_completion: VitalsReading | None

    @property
    def monitoring_minutes(self) -> int | None:
        """Whole minutes from the first administration's start to the discharge time, both to the minute
        (the discharge time is entered to the minute; the start is stamped to the second)."""
        if self.first_start is None or self.discharged_at is None:
            return None
        return max(0, int((_minute(self.discharged_at) - _minute(self.first_start)).total_seconds() // 60))


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def charted_values(session: Session) -> ChartedValues:
    starts = [a.started_at for a in session.administrations.all()]
    first = min(starts, default=None)
    discharge = getattr(session, "discharge", None)
    discharged_at = discharge.discharged_at if discharge is not None else None
    with_bp = sorted(
        (r for r in session.readings.all() if not r.in_error and r.systolic is not None),
        key=lambda r: (r.measured_at, r.pk),
    )
    if first is None:
        return ChartedValues(None, discharged_at, None, None, None)
    before = [r for r in with_bp if r.measured_at <= first]
    bp_before = before[-1] if before else None
    start = _minute(first)
    low, high = start + FORTY_MINUTE_WINDOW[0], start + FORTY_MINUTE_WINDOW[1]
    near_40 = [r for r in with_bp if low <= r.measured_at <= high]
    at_40 = min(near_40, key=lambda r: (abs(r.measured_at - (start + FORTY_MINUTES)), r.measured_at), default=None)
    end = _minute(discharged_at) + timedelta(minutes=1) if discharged_at is not None else None
    after = [
        r for r in with_bp if r is not bp_before and r.measured_at >= start and (end is None or r.measured_at < end)
    ]
    return ChartedValues(
        first_start=first,
        discharged_at=discharged_at,
        bp_before=bp_before,
        bp_at_40=at_40,
        bp_before_completion=after[-1] if after else None,
    )
