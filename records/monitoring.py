"""Monitoring to a protocol at the chair: which checkpoint is upcoming, due, overdue or done.

A protocol says when to look and what to measure, never how much to give: nothing here reads or
shows a dose. The states are computed, never stored, from the session's times (arrival, first
administration start, last stop, discharge), its valid readings and the protocol version the
session took at its first start (records.models.SessionProtocol); before that start, from the
clinic's current protocol for the session's planned route, as a preview.

A checkpoint is
- *done* when a reading not entered in error, measured inside its window, has every value it requires;
- *upcoming* before its window opens (or while the moment it counts from has not happened yet);
- *due* while its window is open;
- *overdue* once its window has closed without such a reading. It stays on the page and in the
  print, with the nurse's reason when she records one (records.actions.protocols.checkpoint_missed_reason).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from records.models.protocols import Anchor, Requirement
from records.models.vitals import CADSS6_ITEMS

if TYPE_CHECKING:
    from records.models import CheckpointMiss, ProtocolVersion, Session, VitalsReading

# What each requirement asks of a reading, stated once; in flowsheet order (records.models.vitals).
REQUIREMENT_FIELDS: dict[str, tuple[str, ...]] = {
    Requirement.BP: ("systolic", "diastolic"),
    Requirement.HEART_RATE: ("heart_rate",),
    Requirement.SPO2: ("spo2",),
    Requirement.RESPIRATORY_RATE: ("respiratory_rate",),
    Requirement.PAIN: ("pain",),
    Requirement.SEDATION: ("moaas",),
    Requirement.DISSOCIATION: CADSS6_ITEMS,
}
REQUIREMENT_SHORT = {
    Requirement.BP: "BP",
    Requirement.HEART_RATE: "HR",
    Requirement.SPO2: "SpO2",
    Requirement.RESPIRATORY_RATE: "RR",
    Requirement.PAIN: "Pain",
    Requirement.SEDATION: "MOAA/S",
    Requirement.DISSOCIATION: "CADSS-6",
}

UPCOMING, DUE, OVERDUE, DONE = "upcoming", "due", "overdue", "done"
STATE_LABELS = {UPCOMING: "Upcoming", DUE: "Due", OVERDUE: "Overdue", DONE: "Done"}
# A repeating checkpoint is listed up to this many times (a very long infusion stays readable).
MAX_REPEATS = 96


def requirement_met(reading: "VitalsReading", requirement: str) -> bool:
    if requirement == Requirement.DISSOCIATION:
        return reading.cadss6_total is not None
    return all(getattr(reading, name, None) is not None for name in REQUIREMENT_FIELDS[requirement])


def in_flowsheet_order(requires: Iterable[str]) -> list[str]:
    wanted = set(requires)
    return [r for r in REQUIREMENT_FIELDS if r in wanted]


def requirement_field_names(requires: Iterable[str]) -> list[str]:
    """The flowsheet fields a checkpoint asks for, in flowsheet order (the quick-entry row)."""
    return [name for r in in_flowsheet_order(requires) for name in REQUIREMENT_FIELDS[r]]


@dataclass(frozen=True)
class SessionTimes:
    """The moments a protocol counts from, as documented in the session."""

    arrived_at: datetime | None
    first_start: datetime | None
    last_stop: datetime | None  # once no administration runs or is paused
    running: bool
    discharged_at: datetime | None


@dataclass
class CheckpointState:
    key: str
    name: str
    anchor: str
    requires: list[str]
    due_at: datetime | None
    window_open: datetime | None
    window_close: datetime | None
    state: str
    reading: "VitalsReading | None" = None
    miss: "CheckpointMiss | None" = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def requires_text(self) -> str:
        return ", ".join(REQUIREMENT_SHORT[Requirement(r)] for r in in_flowsheet_order(self.requires))


@dataclass
class Monitoring:
    """A session's protocol checkpoints at `now`."""

    version: "ProtocolVersion"
    adopted: bool  # False: a preview of the protocol the session will take at its first start
    times: SessionTimes
    now: datetime
    checkpoints: list[CheckpointState] = field(default_factory=list)

    @property
    def next(self) -> CheckpointState | None:
        """The checkpoint to chart next: the earliest due, else the earliest upcoming with a time."""
        open_ = [c for c in self.checkpoints if c.state in (DUE, UPCOMING) and c.due_at is not None]
        return min(open_, key=lambda c: (c.state != DUE, c.due_at), default=None)

    @property
    def overdue(self) -> list[CheckpointState]:
        return [c for c in self.checkpoints if c.state == OVERDUE]

    @property
    def elapsed(self) -> timedelta | None:
        """Time since the first administration start."""
        return self.now - self.times.first_start if self.times.first_start else None

    @property
    def observation_until(self) -> datetime | None:
        if self.times.first_start is None:
            return None
        return self.times.first_start + timedelta(minutes=self.version.min_observation_minutes)


def _minutes(value: Any) -> timedelta:
    return timedelta(minutes=int(value))


def checkpoint_states(
    version: "ProtocolVersion",
    times: SessionTimes,
    readings: Sequence["VitalsReading"],
    now: datetime,
    misses: Iterable["CheckpointMiss"] = (),
) -> list[CheckpointState]:
    """Every checkpoint of `version` (repeats expanded) and its state at `now`. Pure: no queries."""
    valid = sorted((r for r in readings if r.entered_in_error_at is None), key=lambda r: r.measured_at)
    missed = {m.checkpoint_key: m for m in misses}
    states: list[CheckpointState] = []
    for index, cp in enumerate(version.checkpoints):
        for key, due, opens, closes in _occurrences(index, cp, times, version.min_observation_minutes, now):
            requires = list(cp["requires"])
            state = CheckpointState(
                key=key,
                name=cp["name"],
                anchor=cp["anchor"],
                requires=requires,
                due_at=due,
                window_open=opens,
                window_close=closes,
                state=UPCOMING,
                miss=missed.get(key),
            )
            if opens is not None:
                end = min(closes, now) if closes is not None else now
                state.reading = next(
                    (
                        r
                        for r in valid
                        if opens <= r.measured_at <= end and all(requirement_met(r, q) for q in requires)
                    ),
                    None,
                )
                if state.reading is not None:
                    state.state = DONE
                elif now < opens:
                    state.state = UPCOMING
                elif closes is None or now <= closes:
                    state.state = DUE
                else:
                    state.state = OVERDUE
            states.append(state)
    return sorted(states, key=lambda s: (s.due_at is None, s.due_at or now, s.key))


def _occurrences(index: int, cp: dict, times: SessionTimes, min_observation: int, now: datetime):
    """(key, due, window open, window close) of each time the checkpoint falls; None times while its anchor is ahead."""
    anchor = cp["anchor"]
    offset, start = _minutes(cp.get("offset") or 0), _minutes(cp.get("window_start") or 0)
    end = _minutes(cp["window_end"]) if cp.get("window_end") is not None else None
    key = str(index)
    if anchor == Anchor.ARRIVAL:
        if times.arrived_at is None:
            yield key, None, None, None
            return
        base = times.arrived_at
        # Before the first start: the window closes at the start unless the checkpoint says otherwise.
        closes = base + end if end is not None else times.first_start
        yield key, base + offset, base + start, closes
    elif anchor == Anchor.START:
        if times.first_start is None:
            yield key, None, None, None
            return
        base = times.first_start
        every = cp.get("every")
        if not every:
            yield key, base + offset, base + start, base + end if end is not None else None
            return
        step = _minutes(every)
        # Up to the stop; while it still runs, up to the first one whose window has not opened (so never done).
        for n in range(MAX_REPEATS):
            due = base + offset + n * step
            if not times.running and times.last_stop is not None and due > times.last_stop:
                return
            shift = n * step
            yield (
                f"{key}.{n + 1}",
                due,
                base + start + shift,
                base + end + shift if end is not None else due + step,
            )
            if times.running and base + start + shift > now:
                return
    elif anchor == Anchor.STOP:
        if times.running or times.last_stop is None:
            yield key, None, None, None
            return
        base = times.last_stop
        yield key, base + offset, base + start, base + end if end is not None else None
    else:  # before discharge: from the earliest the observation allows, until the discharge
        if times.first_start is None:
            yield key, None, None, None
            return
        earliest = times.first_start + _minutes(min_observation)
        if times.last_stop and times.last_stop > earliest:
            earliest = times.last_stop
        if times.running:
            yield key, None, None, None
            return
        yield key, earliest + offset, earliest + start, times.discharged_at


# Reading a session -------------------------------------------------------------------------------


def session_times(session: "Session") -> SessionTimes:
    """The session's protocol moments, from rows `prefetch_related` loaded when the caller did so."""
    administrations = list(session.administrations.all())
    starts = [a.started_at for a in administrations]
    running = any(a.stopped_at is None for a in administrations)
    stops = [a.stopped_at for a in administrations if a.stopped_at is not None]
    try:
        discharged_at = session.discharge.discharged_at
    except session.__class__.discharge.RelatedObjectDoesNotExist:
        discharged_at = None
    return SessionTimes(
        arrived_at=session.arrived_at,
        first_start=min(starts, default=None),
        last_stop=max(stops) if stops and not running else None,
        running=running,
        discharged_at=discharged_at,
    )


def current_versions() -> dict[str, "ProtocolVersion"]:
    """{route: the current version of the active protocol for it}: what a session starting now takes."""
    from records.models import ProtocolVersion

    latest: dict[int, ProtocolVersion] = {}
    for version in ProtocolVersion.objects.filter(protocol__active=True).select_related("protocol"):
        if version.protocol_id not in latest or version.number > latest[version.protocol_id].number:
            latest[version.protocol_id] = version
    by_route: dict[str, ProtocolVersion] = {}
    for version in sorted(latest.values(), key=lambda v: v.protocol_id):
        for route in version.routes:
            by_route.setdefault(route, version)
    return by_route


def adopted_version(session: "Session") -> "ProtocolVersion | None":
    try:
        return session.session_protocol.version
    except session.__class__.session_protocol.RelatedObjectDoesNotExist:
        return None


def session_monitoring(
    session: "Session", now: datetime, *, current: dict[str, "ProtocolVersion"] | None = None
) -> Monitoring | None:
    """The session's checkpoints at `now`, or None when no protocol applies (the clinic's interval then).

    Pass `current` (from `current_versions()`) when reading many sessions; with the session's
    readings, administrations, discharge, session_protocol__version and checkpoint_misses
    prefetched this makes no query.
    """
    version = adopted_version(session)
    adopted = version is not None
    if version is None:
        if session.signed_at is not None or session.status in ("cancelled", "no_show", "discharged"):
            return None
        version = (current if current is not None else current_versions()).get(session.planned_route)
        if version is None:
            return None
    times = session_times(session)
    monitoring = Monitoring(version=version, adopted=adopted, times=times, now=now)
    monitoring.checkpoints = checkpoint_states(
        version, times, list(session.readings.all()), now, session.checkpoint_misses.all()
    )
    return monitoring


def protocol_discharge_findings(session: "Session", now: datetime) -> list[str]:
    """Why the session's protocol does not allow a discharge at `now` yet: one message per unmet criterion.

    The minimum observation time since the first administration start, and the before-discharge
    checkpoint. Empty when both are met, or when the session took no protocol.
    """
    version = adopted_version(session)
    if version is None:
        return []
    times = session_times(session)
    findings = []
    if times.first_start is not None and version.min_observation_minutes:
        until = times.first_start + timedelta(minutes=version.min_observation_minutes)
        if now < until:
            left = until - now
            findings.append(
                f"Minimum observation of {version.min_observation_minutes} min since the first start "
                f"has not passed: {_clock(left)} to go (until {_local(until):%H:%M})."
            )
    states = checkpoint_states(version, times, list(session.readings.all()), now)
    for state in states:
        if state.anchor == Anchor.DISCHARGE and state.state != DONE:
            findings.append(
                f"The before-discharge checkpoint \u201c{state.name}\u201d is not done: chart a reading with "
                f"{state.requires_text}."
            )
    return findings


def _local(moment: datetime) -> datetime:
    from django.utils import timezone

    return timezone.localtime(moment)


def _clock(delta: timedelta) -> str:
    minutes = max(0, int((delta.total_seconds() + 59) // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


# The protocols a new clinic starts with, all editable (records.actions.protocols). Installed once, when
# no protocol exists yet, after `migrate` (records.apps); a frozen copy would only drift from this one.
DEFAULT_PROTOCOLS: list[dict[str, Any]] = [
    {
        "name": "IV ketamine infusion",
        "routes": ["iv_infusion"],
        "min_observation_minutes": 60,
        "checkpoints": [
            {
                "name": "Before the start",
                "anchor": "arrival",
                "offset": 0,
                "window_start": 0,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "pain"],
            },
            {
                "name": "Every 15 min while running",
                "anchor": "start",
                "offset": 15,
                "window_start": 10,
                "window_end": 20,
                "every": 15,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "sedation"],
            },
            {
                "name": "15 min after the stop",
                "anchor": "stop",
                "offset": 15,
                "window_start": 10,
                "window_end": 20,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "sedation", "dissociation"],
            },
            {
                "name": "30 min after the stop",
                "anchor": "stop",
                "offset": 30,
                "window_start": 25,
                "window_end": 35,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "sedation", "dissociation"],
            },
            {
                "name": "Before discharge",
                "anchor": "discharge",
                "offset": 0,
                "window_start": -15,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "pain", "sedation", "dissociation"],
            },
        ],
    },
    {
        "name": "Intranasal esketamine",
        "routes": ["intranasal"],
        "min_observation_minutes": 120,
        "checkpoints": [
            {
                "name": "Before the first device",
                "anchor": "arrival",
                "offset": 0,
                "window_start": 0,
                "window_end": None,
                "every": None,
                "requires": ["bp", "spo2"],
            },
            {
                "name": "40 min after the first device",
                "anchor": "start",
                "offset": 40,
                "window_start": 35,
                "window_end": 50,
                "every": None,
                "requires": ["bp", "spo2", "sedation", "dissociation"],
            },
            {
                "name": "Before discharge",
                "anchor": "discharge",
                "offset": 0,
                "window_start": -15,
                "window_end": None,
                "every": None,
                "requires": ["bp", "spo2", "sedation", "dissociation"],
            },
        ],
    },
    {
        "name": "IM ketamine injection",
        "routes": ["im_injection"],
        "min_observation_minutes": 60,
        "checkpoints": [
            {
                "name": "Before the injection",
                "anchor": "arrival",
                "offset": 0,
                "window_start": 0,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "pain"],
            },
            {
                "name": "15 min after the injection",
                "anchor": "start",
                "offset": 15,
                "window_start": 10,
                "window_end": 20,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "sedation"],
            },
            {
                "name": "30 min after the injection",
                "anchor": "start",
                "offset": 30,
                "window_start": 25,
                "window_end": 35,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "respiratory_rate", "sedation", "dissociation"],
            },
            {
                "name": "Before discharge",
                "anchor": "discharge",
                "offset": 0,
                "window_start": -15,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "pain", "sedation", "dissociation"],
            },
        ],
    },
    {
        "name": "Oral ketamine troche",
        "routes": ["oral_troche"],
        "min_observation_minutes": 60,
        "checkpoints": [
            {
                "name": "Before the troche",
                "anchor": "arrival",
                "offset": 0,
                "window_start": 0,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "pain"],
            },
            {
                "name": "30 min after the troche",
                "anchor": "start",
                "offset": 30,
                "window_start": 25,
                "window_end": 40,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "sedation"],
            },
            {
                "name": "Before discharge",
                "anchor": "discharge",
                "offset": 0,
                "window_start": -15,
                "window_end": None,
                "every": None,
                "requires": ["bp", "heart_rate", "spo2", "pain", "sedation", "dissociation"],
            },
        ],
    },
]
