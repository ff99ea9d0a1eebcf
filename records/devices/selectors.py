"""Reads of monitors and their readings, already scoped to what the user may see."""

import hashlib
from collections.abc import Iterable

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from records.models import DeviceReading, DeviceReadingState, Monitor, Session
from records.permissions import require
from records.selectors import Reader, sessions_for_day
from records.workflow import IN_CHAIR

# Decided readings a session's page lists under the pending ones (newest first).
RECENT_DECIDED = 20


def monitors_list(*, user: Reader) -> QuerySet[Monitor]:
    require(user, "view_monitor")
    return Monitor.objects.select_related("registered_by").order_by("chair", "device_id")


def monitor_get(*, user: Reader, pk: int) -> Monitor:
    require(user, "view_monitor")
    return get_object_or_404(Monitor, pk=pk)


def session_device_readings(*, user: Reader, session: Session) -> tuple[list[DeviceReading], list[DeviceReading]]:
    """(pending, recently decided) device readings of a session, in two queries."""
    require(user, "view_session")
    readings = DeviceReading.objects.filter(session=session).select_related("decided_by")
    pending = list(readings.filter(state=DeviceReadingState.PENDING).order_by("measured_at", "id"))
    decided = list(readings.exclude(state=DeviceReadingState.PENDING).order_by("-decided_at", "-id")[:RECENT_DECIDED])
    return pending, decided


def device_reading_of_session(*, user: Reader, session: Session, pk: int) -> DeviceReading:
    """A device reading offered to `session` (404 if it is not one of its)."""
    require(user, "view_session")
    return get_object_or_404(DeviceReading, pk=pk, session=session)


def unmatched_readings(*, user: Reader) -> QuerySet[DeviceReading]:
    """Readings waiting with no session: for a nurse to assign or dismiss."""
    require(user, "view_devicereading")
    return DeviceReading.objects.filter(state=DeviceReadingState.PENDING, session__isnull=True).order_by(
        "-measured_at", "-id"
    )


def unmatched_reading_get(*, user: Reader, pk: int) -> DeviceReading:
    require(user, "view_devicereading")
    return get_object_or_404(DeviceReading, pk=pk, state=DeviceReadingState.PENDING, session__isnull=True)


def sessions_in_chair(*, user: Reader) -> QuerySet[Session]:
    """Sessions between arrival and discharge: where an unmatched reading may be assigned."""
    require(user, "view_session")
    return Session.objects.filter(status__in=IN_CHAIR).select_related("patient").order_by("chair", "arrived_at", "id")


def board_pending(*, user: Reader) -> list[tuple[Session, list[DeviceReading]]]:
    """Today's sessions that have device readings awaiting acceptance, each with those readings."""
    sessions = {s.pk: s for s in sessions_for_day(user=user)}
    pending: dict[int, list[DeviceReading]] = {}
    for reading in DeviceReading.objects.filter(state=DeviceReadingState.PENDING, session_id__in=list(sessions)):
        if reading.session_id is not None:
            pending.setdefault(reading.session_id, []).append(reading)
    return [(sessions[pk], sorted(items, key=lambda r: (r.measured_at, r.pk))) for pk, items in pending.items()]


def unmatched_count(*, user: Reader) -> int:
    return unmatched_readings(user=user).count()


def version_of(readings: Iterable[DeviceReading], *extra: object) -> str:
    """A short digest of what a polled section shows, so an unchanged one need not be sent again."""
    text = "|".join([*(f"{r.pk}:{r.state}:{r.session_id}" for r in readings), *map(str, extra)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
