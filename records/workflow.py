"""A session's lifecycle: its states, and which step may happen in which state.

    scheduled -> arrived -> screening -> cleared -------------------> in progress -> recovery -> discharged
                                      -> held -> cleared (proceed)   (first start)  (last stop)
                                              -> cancelled (do not proceed)
                 cleared or held -> screening again (rescreen: the screening's own BP struck as entered in error)
    side exits: cancelled or no-show before the start, but not while held (the hold belongs to the
    patient: only a physician's decision ends it); stopped early after it (then discharged)
    discharged, cancelled or no-show -> signed by the nurse (locked) -> co-signed by a physician

`STEPS` is the one table of what may happen to a session: for every step, the states it
may start from, the states it leads to (none when the status stays as it is, as when
charting vitals) and what a person is told when it is refused. The actions ask it before
they change anything (`require_step`, and `records.actions.sessions.transition` for every
status change); the views ask it what a page offers (`available_steps`); templates only
read those answers.

Signed and co-signed sessions are the source of no step but `cosign`, so the table by
itself keeps charting off a locked chart; the actions also refuse a signed session first
(`open_session_for_charting`) and the database refuses any change to its rows.

Pausing, resuming and stopping an administration depend on the administration's own
state (running, paused, stopped), checked in records.actions.medications; stopping it may
then move the session (`stop`, `stop_early`).
"""

from dataclasses import dataclass, field

from records.actions.context import ActionRefused
from records.models.sessions import SessionStatus
from records.models.vitals import Phase

S = SessionStatus

# Groups of states -----------------------------------------------------------------------------

# Nothing has been administered yet.
BEFORE_START = (S.SCHEDULED, S.ARRIVED, S.SCREENING, S.HELD, S.CLEARED)
# A nurse may cancel: before the start, and not while a screening is held (rule R3 in records.rules:
# the hold belongs to the patient until a physician decides; "do not proceed" ends the session).
CANCELLABLE = (S.SCHEDULED, S.ARRIVED, S.SCREENING, S.CLEARED)
# The screening's own blood pressure struck as entered in error sends the session back to screening.
RESCREENABLE = (S.CLEARED, S.HELD)
# The patient is in the chair: vitals may be charted.
IN_CHAIR = (S.ARRIVED, S.SCREENING, S.HELD, S.CLEARED, S.IN_PROGRESS, S.RECOVERY, S.STOPPED_EARLY)
# An order as given may be documented (before the screening too: it is only written down).
ORDER_STATES = (S.ARRIVED, S.SCREENING, S.HELD, S.CLEARED, S.IN_PROGRESS, S.RECOVERY)
# An order may be started; the screening must also allow it (records.actions.medications).
ADMINISTRATION_STATES = (S.CLEARED, S.IN_PROGRESS, S.RECOVERY)
# Something has been given: vitals are due at the clinic's interval.
MONITORED = (S.IN_PROGRESS, S.RECOVERY, S.STOPPED_EARLY)
SIDE_EFFECT_STATES = (S.CLEARED, *MONITORED)
DISCHARGEABLE = (S.RECOVERY, S.STOPPED_EARLY)
# The nurse may sign: the session has ended one way or another.
SIGNABLE = (S.DISCHARGED, S.CANCELLED, S.NO_SHOW)
# Ended before anything was given.
ENDED_BEFORE_START = (S.CANCELLED, S.NO_SHOW)

# Today's board: every state is in exactly one column.
BOARD_COLUMNS = (
    ("Waiting", (S.SCHEDULED, S.ARRIVED)),
    ("Screening", (S.SCREENING, S.HELD, S.CLEARED)),
    ("In chair", MONITORED),
    ("Done", (S.DISCHARGED, S.SIGNED, S.COSIGNED, *ENDED_BEFORE_START)),
)


# Steps ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing that may happen to a session.

    `refused` is said when the session is in no state of `starts_from`; `{status}` in it
    becomes the current status, `{session}` the session. `refused_in` gives a more precise
    message for particular states.
    """

    starts_from: tuple[SessionStatus, ...]
    leads_to: tuple[SessionStatus, ...]
    refused: str
    refused_in: dict[SessionStatus, str] = field(default_factory=dict)


STEPS: dict[str, Step] = {
    # Before the start.
    "arrive": Step((S.SCHEDULED,), (S.ARRIVED,), "Cannot arrive: the session is {status}, not scheduled."),
    "begin_screening": Step(
        (S.ARRIVED,),
        (S.SCREENING,),
        "Cannot begin screening: the session is {status}; the patient must be checked in first.",
    ),
    # Cleared only if every answer is negative and the BP is below the clinic's threshold.
    "screen": Step((S.SCREENING,), (S.CLEARED, S.HELD), "Cannot screen: the session is {status}."),
    "decide_proceed": Step((S.HELD,), (S.CLEARED,), "Cannot decide: this screening is not held for physician review."),
    "decide_do_not_proceed": Step(
        (S.HELD,), (S.CANCELLED,), "Cannot decide: this screening is not held for physician review."
    ),
    "cancel": Step(
        CANCELLABLE,
        (S.CANCELLED,),
        "Cannot cancel: the session is {status}; after the start, stop the administration early instead.",
        refused_in={
            S.HELD: "Cannot cancel: the screening is held for a physician's decision. The hold belongs to the "
            "patient: a physician decides to proceed, or not to proceed, which ends the session.",
        },
    ),
    # Rule R3: striking the screening's own BP reading as entered in error reopens the screening
    # (records.actions.vitals); the old screening is kept, marked superseded.
    "rescreen": Step(
        RESCREENABLE,
        (S.SCREENING,),
        "Cannot screen again: the session is {status}.",
    ),
    # Checked after `cancel`, whose message covers the states after the start.
    "no_show": Step((S.SCHEDULED,), (S.NO_SHOW,), "Cannot record a no-show: the patient has arrived."),
    # Charting: the status stays as it is.
    "chart_vitals": Step(
        IN_CHAIR,
        (),
        "Cannot chart vitals: the session is {status}; vitals are charted from arrival to discharge.",
    ),
    "document_order": Step(ORDER_STATES, (), "Cannot document an order: the session is {status}."),
    "record_side_effect": Step(SIDE_EFFECT_STATES, (), "Cannot record a side effect: the session is {status}."),
    "administer": Step(ADMINISTRATION_STATES, (), "Cannot start: the session is {status}."),
    # Administration: the first start puts the session in progress; stopping the last
    # administration puts it in recovery; a stop with a reason ends it early.
    "start": Step((S.CLEARED,), (S.IN_PROGRESS,), "Cannot start: the session is {status}."),
    "stop": Step((S.IN_PROGRESS,), (S.RECOVERY,), "Cannot stop: the session is {status}."),
    "stop_early": Step((S.IN_PROGRESS, S.RECOVERY), (S.STOPPED_EARLY,), "Cannot stop early: the session is {status}."),
    "discharge": Step(
        DISCHARGEABLE,
        (S.DISCHARGED,),
        "Cannot discharge: the session is {status}; discharge follows the end of the administration.",
    ),
    # Signatures.
    "sign": Step(
        SIGNABLE,
        (S.SIGNED,),
        "Cannot sign: the session is {status}; sign after discharge (or after a cancellation or no-show).",
    ),
    "cosign": Step(
        (S.SIGNED,),
        (S.COSIGNED,),
        "Cannot co-sign: the nurse has not signed this session yet.",
        refused_in={S.COSIGNED: "Cannot co-sign: already co-signed by {session.cosigned_name}."},
    ),
}


def _step(name: str) -> Step:
    try:
        return STEPS[name]
    except KeyError:
        raise KeyError(f"Not a session step: {name!r}") from None


def allowed(session, step: str) -> bool:
    """Whether the session's current status lets `step` happen."""
    return session.status in _step(step).starts_from


def refusal(session, step: str) -> str:
    """What a person is told when `step` is refused in the session's current status."""
    definition = _step(step)
    message = definition.refused_in.get(session.status, definition.refused)
    return message.format(status=session.get_status_display().lower(), session=session)


def require_step(session, step: str) -> None:
    """Refuse (ActionRefused, with the step's message) unless the session's status allows `step`."""
    if not allowed(session, step):
        raise ActionRefused(refusal(session, step))


def next_status(step: str, to: SessionStatus | None = None) -> SessionStatus:
    """The status `step` leads to; `to` chooses between several (the screening: cleared or held)."""
    targets = _step(step).leads_to
    if to is None and len(targets) == 1:
        return targets[0]
    if to not in targets:
        raise ValueError(f"Step {step!r} leads to {', '.join(targets) or 'no new status'}, not {to!r}.")
    return to


def available_steps(session) -> frozenset[str]:
    """Every step the session's current status allows (whoever may take it: roles are records.permissions')."""
    return frozenset(name for name, step in STEPS.items() if session.status in step.starts_from)


def board_columns(sessions) -> list[tuple[str, list]]:
    """Today's sessions in the board's columns, in the order given."""
    return [(title, [s for s in sessions if s.status in states]) for title, states in BOARD_COLUMNS]


def monitored(session) -> bool:
    """Something has been given: vitals are due at the clinic's interval."""
    return session.status in MONITORED


def awaiting_decision(session) -> bool:
    """Held at the screening: a physician must decide before anything is given."""
    return allowed(session, "decide_proceed")


def vitals_phase(session) -> Phase:
    """The phase a reading charted now belongs to, as the vitals form first proposes it (the nurse may change it)."""
    if session.status in BEFORE_START:
        return Phase.PRE
    if session.status == S.IN_PROGRESS:
        return Phase.DURING
    return Phase.POST
