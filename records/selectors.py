"""Reads, already scoped to what the user may see."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypedDict, cast

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, Max, Min, Model, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.db.models.functions import Left
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from records.models import (
    DISCLOSURE_ACTIONS,
    Administration,
    AdministrationEvent,
    AuditAction,
    AuditEvent,
    AuditVerification,
    CheckpointMiss,
    IntakeAssessment,
    IntakeRevision,
    Order,
    OutcomeReport,
    Patient,
    Screening,
    Session,
    User,
    VitalsReading,
)
from records.permissions import can, require

# Who is reading: the request's user (an anonymous one is refused by `require`).
Reader = User | AnonymousUser

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHANGE_ACTIONS = (AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DEACTIVATE, AuditAction.REACTIVATE)
ACCOUNT_CHANGE_ACTIONS = (*CHANGE_ACTIONS, AuditAction.ROLE_CHANGE, AuditAction.PASSWORD_CHANGE)


def patient_get(*, user: Reader, pk: int) -> Patient:
    """One patient, for someone whose role may read patients (404 if there is none)."""
    require(user, "view_patient")
    return get_object_or_404(Patient, pk=pk)


def patients_search(*, user: Reader, query: str = "", include_inactive: bool = False) -> QuerySet[Patient]:
    """Patients matching an MRN, a name (every word must match) or an ISO date of birth."""
    require(user, "view_patient")
    patients = Patient.objects.all()
    if not include_inactive:
        patients = patients.filter(is_active=True)
    query = " ".join(query.split())
    if not query:
        return patients
    if ISO_DATE.match(query):
        try:
            return patients.filter(date_of_birth=date.fromisoformat(query))
        except ValueError:
            return patients.none()
    condition = Q(mrn__iexact=query)
    words = Q()
    for word in query.replace(",", " ").split():
        words &= Q(family_name__icontains=word) | Q(given_name__icontains=word) | Q(mrn__istartswith=word)
    return patients.filter(condition | words)


# Report columns an auditor may sort on, and the fields each sorts by. The
# chain position (unique) breaks ties, so a page never shifts between requests.
# The details (a free-text reason of any length) sort by their first DETAILS_SORT_CHARS
# characters, the part an index can hold (audit_details_sort_idx); reasons that share them
# keep the chain's order.
DETAILS_SORT_CHARS = 200
AUDIT_SORTS: dict[str, tuple[str | Left, ...]] = {
    "seq": (),
    "when": ("occurred_at",),
    "user": ("actor_username",),
    "role": ("actor_role",),
    "action": ("action",),
    # By MRN, each patient's events in time order; events about no patient after them (in either direction).
    # (PatientSortedEvents reads the same order in two parts, from these columns.)
    "patient": ("patient__mrn", "occurred_at"),
    "record": ("record_type", "record_id"),
    "details": (Left("reason", DETAILS_SORT_CHARS),),
    "from": ("ip_address",),
}
AUDIT_DEFAULT_SORT = "-when"
# A pseudo-action for the accounting of disclosures: every print, export or disclosure.
DISCLOSURES = "disclosures"


def audit_ordering(sort: str) -> list[OrderBy]:
    """ORDER BY for a whitelisted sort key ("when", "-user" ...); unknown keys sort newest first."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in AUDIT_SORTS:
        descending, key = True, AUDIT_DEFAULT_SORT.lstrip("-")
    columns = [F(c) if isinstance(c, str) else c for c in (*AUDIT_SORTS[key], "seq")]
    if key == "patient":
        # The same on both databases (their defaults for NULL differ): events about no patient last.
        return [c.desc(nulls_last=True) if descending else c.asc(nulls_last=True) for c in columns]
    return [c.desc() if descending else c.asc() for c in columns]


class PatientSortedEvents:
    """The report's events sorted by patient, for a paginator: the same rows in the same order as
    `events.order_by(*audit_ordering("patient"))`, read as two queries an index can serve.

    One query sorting every event by its patient's MRN joins and sorts the whole log (seconds at a
    clinic-year). Here the events about a patient are read patient by patient in MRN order (the MRN's
    unique index, then each patient's events by an index on the patient: no sort of the log), and the
    events about no patient come after them in chain order.
    """

    ordered = True

    def __init__(self, events: QuerySet[AuditEvent], *, descending: bool) -> None:
        # Plain ASC/DESC: no column here is NULL, and DESC NULLS LAST would not read the MRN's index backwards.
        columns = [F(cast(str, column)) for column in (*AUDIT_SORTS["patient"], "seq")]
        self.about_patients = events.filter(patient__isnull=False).order_by(
            *(c.desc() if descending else c.asc() for c in columns)
        )
        seq = F("seq").desc() if descending else F("seq").asc()
        self.about_no_patient = events.filter(patient__isnull=True).order_by(seq)
        self.events = events

    def bounded_count(self, cap: int) -> int:
        """The number of events, counting no further than cap + 1 (one query, whatever the order)."""
        return self.events.order_by()[: cap + 1].count()

    def __getitem__(self, rows: slice) -> list[AuditEvent]:
        start, stop = rows.start or 0, rows.stop
        if stop is None or rows.step is not None:
            raise TypeError("PatientSortedEvents takes a slice with an end and no step")
        page = list(self.about_patients[start:stop])
        if len(page) == stop - start:
            return page
        # The page runs past the events about patients: count them only when it starts past them all.
        before = start + len(page) if page else self.about_patients.count()
        return page + list(self.about_no_patient[max(start - before, 0) : stop - before])


def audit_report_rows(events: QuerySet[AuditEvent], sort: str) -> "QuerySet[AuditEvent] | PatientSortedEvents":
    """What the report's pages are cut from: the events themselves, or, sorted by patient, the two-part
    reading of them that indexes serve (same rows, same order)."""
    if sort.lstrip("-") == "patient":
        return PatientSortedEvents(events, descending=sort.startswith("-"))
    return events


def audit_events(
    *,
    user: Reader,
    actor_id: int | None = None,
    role: str = "",
    patient_id: int | None = None,
    action: str = "",
    record_type: str = "",
    record_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = AUDIT_DEFAULT_SORT,
    before_seq: int | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events matching the report's filters, for someone whose role may read the audit log.

    Dates are days in the clinic's time zone, both ends included. `before_seq`
    bounds the report to the events written before a given one (the audit event of
    the viewing or export itself), so a page and its CSV describe the same moment.
    """
    if not can(user, "view_audit_log"):
        raise PermissionDenied("Only admins may read the audit log.")
    events = AuditEvent.objects.select_related("patient")
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if role:
        events = events.filter(actor_role="" if role == "none" else role)
    if patient_id:
        events = events.filter(patient_id=patient_id)
    if action == DISCLOSURES:
        events = events.filter(action__in=DISCLOSURE_ACTIONS)
    elif action:
        events = events.filter(action=action)
    if record_type:
        events = events.filter(record_type=record_type)
    if record_id:
        events = events.filter(record_id=record_id)
    zone = timezone.get_current_timezone()
    if date_from:
        events = events.filter(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to:
        events = events.filter(occurred_at__lt=datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone))
    if before_seq:
        events = events.filter(seq__lt=before_seq)
    return events.order_by(*audit_ordering(sort))


def audit_access_by_person(
    *,
    user: Reader,
    patient_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    before_seq: int | None = None,
) -> QuerySet[AuditEvent, Mapping[str, Any]]:
    """Who has touched one patient's records: per account and role, how often and when (one query)."""
    events = audit_events(user=user, patient_id=patient_id, date_from=date_from, date_to=date_to, before_seq=before_seq)
    return (
        events.order_by()
        .values("actor_id", "actor_username", "actor_role")
        .annotate(
            views=Count("id", filter=Q(action=AuditAction.VIEW)),
            changes=Count("id", filter=Q(action__in=CHANGE_ACTIONS)),
            disclosures=Count("id", filter=Q(action__in=DISCLOSURE_ACTIONS)),
            total=Count("id"),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .order_by("-last", "actor_username")
    )


def audit_account_changes(*, user: Reader, account_id: int) -> QuerySet[AuditEvent]:
    """Changes made to one account (creation, role changes, (de)activations, password), with who made them."""
    return audit_events(user=user, record_type="user", record_id=str(account_id)).filter(
        action__in=ACCOUNT_CHANGE_ACTIONS
    )


def audit_last_verification(*, user: Reader) -> AuditVerification | None:
    if not can(user, "view_audit_log"):
        raise PermissionDenied("Only admins may read the audit log.")
    return AuditVerification.objects.select_related("started_by").order_by("-finished_at", "-id").first()


def accounts_list(*, user: Reader) -> QuerySet[User]:
    """Every account, with `has_authenticator` (a confirmed TOTP device) in the same query."""
    require(user, "manage_accounts")
    has_device = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return (
        User.objects.prefetch_related("groups")
        .annotate(has_authenticator=Exists(has_device))
        .order_by("-is_active", "last_name", "first_name", "username")
    )


def account_get(*, user: Reader, pk: int) -> User:
    require(user, "manage_accounts")
    return get_object_or_404(User.objects.prefetch_related("groups"), pk=pk)


def intake_for_patient(*, user: Reader, patient: Patient) -> IntakeAssessment | None:
    """The patient's intake assessment with its authors, or None if none is recorded yet."""
    require(user, "view_intakeassessment")
    return IntakeAssessment.objects.select_related("assessed_by", "updated_by").filter(patient_id=patient.pk).first()


def intake_revisions(*, user: Reader, intake: IntakeAssessment) -> QuerySet[IntakeRevision]:
    """Every saved version of an intake assessment, newest first."""
    require(user, "view_intakeassessment")
    return IntakeRevision.objects.filter(intake_id=intake.pk).select_related("author").order_by("-version")


def outcome_reports(
    *, user: Reader, patient: Patient, reported_from: date | None = None, reported_to: date | None = None
) -> QuerySet[OutcomeReport]:
    """A patient's reported outcomes, oldest first (the order of a trend), reported within the days given if any."""
    require(user, "view_outcomereport")
    reports = OutcomeReport.objects.filter(patient_id=patient.pk)
    if reported_from is not None:
        reports = reports.filter(reported_on__gte=reported_from)
    if reported_to is not None:
        reports = reports.filter(reported_on__lte=reported_to)
    return reports.select_related("recorded_by", "session").order_by("reported_on", "recorded_at", "id")


# Sessions ----------------------------------------------------------------------


def _readings_queryset() -> QuerySet[VitalsReading]:
    return VitalsReading.objects.select_related("entered_by", "entered_in_error_by", "accepted_by").order_by(
        "measured_at", "id"
    )


def _administrations_queryset() -> QuerySet[Administration]:
    return Administration.objects.select_related("order", "started_by", "stopped_by").order_by("started_at", "id")


def _checkpoint_misses_queryset() -> QuerySet[CheckpointMiss]:
    return CheckpointMiss.objects.select_related("recorded_by")


def session_get(*, user: Reader, pk: int) -> Session:
    """One session with everything its page shows, in a constant number of queries."""
    require(user, "view_session")
    sessions = Session.objects.select_related(
        "patient",
        "primary_nurse",
        "supervising_physician",
        "signed_by",
        "cosigned_by",
        "discharge",
        "discharge__discharged_by",
        "session_protocol__version__protocol",
    ).prefetch_related(
        Prefetch("screenings", queryset=_screenings_queryset()),
        Prefetch("checkpoint_misses", queryset=_checkpoint_misses_queryset()),
        Prefetch("readings", queryset=_readings_queryset()),
        Prefetch("orders", queryset=_orders_queryset()),
        Prefetch("administrations", queryset=_administrations_queryset()),
        Prefetch("administration_events", queryset=_events_queryset()),
        "side_effects__recorded_by",
        "addenda",
        "discharge_overrides",
    )
    return get_object_or_404(sessions, pk=pk)


def session_for_vitals_answer(*, user: Reader, pk: int) -> Session:
    """One session with what a saved reading changes on its page (records.views.sessions.page,
    `vitals_answer_context`): the readings, the protocol's checkpoints and what the discharge criteria
    and the REMS form weigh; not the screening, the side effects, the addenda or the infusion's events."""
    require(user, "view_session")
    sessions = Session.objects.select_related(
        "patient", "discharge", "session_protocol__version__protocol"
    ).prefetch_related(
        Prefetch("checkpoint_misses", queryset=_checkpoint_misses_queryset()),
        Prefetch("readings", queryset=_readings_queryset()),
        "orders",
        Prefetch("administrations", queryset=_administrations_queryset()),
        "discharge_overrides",
    )
    return get_object_or_404(sessions, pk=pk)


def session_for_write(*, user: Reader, pk: int) -> Session:
    """One session as a charting view needs it before its action: the row alone, one query.

    The action locks and re-reads the row itself (records.actions.sessions.lock_session);
    the page's related rows are read once, after the action, for the answer.
    """
    require(user, "view_session")
    return get_object_or_404(Session.objects.select_related("patient"), pk=pk)


def _screenings_queryset() -> QuerySet[Screening]:
    """Every screening of a session, superseded ones too (Session.screening picks the current one)."""
    return Screening.objects.select_related(
        "bp_reading", "bp_reading__entered_in_error_by", "screened_by", "decided_by", "superseded_by"
    ).order_by("screened_at", "id")


def _orders_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("ordering_physician", "documented_by", "cosigned_by").order_by(
        "received_at", "id"
    )


def _events_queryset() -> QuerySet[AdministrationEvent]:
    return AdministrationEvent.objects.select_related("administration__order", "recorded_by").order_by(
        "occurred_at", "id"
    )


def sessions_for_day(*, user: Reader, day: date | None = None) -> QuerySet[Session]:
    """The day's sessions (clinic time zone) with the time of the last valid vitals reading."""
    require(user, "view_session")
    day = day or timezone.localdate()
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day, time.max, tzinfo=zone)
    return (
        Session.objects.filter(scheduled_at__range=(start, end))
        .select_related("patient", "primary_nurse", "supervising_physician")
        .annotate(last_vitals_at=Max("readings__measured_at", filter=Q(readings__entered_in_error_at__isnull=True)))
        .order_by("chair", "scheduled_at", "id")
    )


def board_sessions(*, user: Reader, day: date | None = None) -> QuerySet[Session]:
    """The day's sessions with what records.monitoring reads for their protocol checkpoints
    (three more queries, whatever the number of sessions)."""
    return (
        sessions_for_day(user=user, day=day)
        .select_related("discharge", "session_protocol__version__protocol")
        .prefetch_related(
            Prefetch("readings", queryset=VitalsReading.objects.filter(entered_in_error_at__isnull=True)),
            "administrations",
            "checkpoint_misses",
        )
    )


def sessions_of_patient(*, user: Reader, patient: Patient) -> QuerySet[Session]:
    require(user, "view_session")
    return Session.objects.filter(patient=patient).select_related("primary_nurse").order_by("-scheduled_at", "-id")


# Physician worklists -----------------------------------------------------------


def _mine_first[M: Model](
    queryset: QuerySet[M], field: str, user: Reader, *, everyone: bool, then: tuple[str, ...]
) -> QuerySet[M]:
    """The user's own items (and unassigned ones) first; only those unless `everyone`."""
    from django.db.models import Case, IntegerField, Value, When

    mine = Q(**{field: user.pk}) | Q(**{f"{field}__isnull": True})
    if not everyone:
        return queryset.filter(mine).order_by(*then)
    ranked = queryset.annotate(
        not_mine=Case(When(mine, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("not_mine", *then)
    return cast(QuerySet[M], ranked)  # the same model; the stubs lose it through annotate()


def held_screenings_worklist(*, user: Reader, everyone: bool = False) -> QuerySet[Screening]:
    """Held screenings waiting for a physician's decision, oldest first."""
    from records.models import ScreeningOutcome

    require(user, "decide_screening")
    held = Screening.objects.filter(
        outcome=ScreeningOutcome.HELD, decision="", superseded_at__isnull=True, session__signed_at__isnull=True
    )
    held = held.select_related("session__patient", "session__supervising_physician", "screened_by", "bp_reading")
    return _mine_first(held, "session__supervising_physician", user, everyone=everyone, then=("screened_at", "id"))


def orders_awaiting_cosign_worklist(*, user: Reader, everyone: bool = False) -> QuerySet[Order]:
    """Verbal and telephone orders not yet co-signed, the earliest deadline first."""
    from records.models import ReceivedAs

    require(user, "cosign_session")
    orders = Order.objects.filter(
        received_as__in=[ReceivedAs.VERBAL, ReceivedAs.TELEPHONE], cosigned_at__isnull=True
    ).select_related("session__patient", "ordering_physician", "documented_by")
    return _mine_first(orders, "ordering_physician", user, everyone=everyone, then=("cosign_due_at", "id"))


def sessions_awaiting_cosign_worklist(*, user: Reader, everyone: bool = False) -> QuerySet[Session]:
    """Sessions the nurse has signed that wait for a physician's review, oldest signature first."""
    from records import workflow

    require(user, "cosign_session")
    signed = Session.objects.filter(status__in=workflow.STEPS["cosign"].starts_from).select_related(
        "patient", "signed_by", "supervising_physician"
    )
    return _mine_first(signed, "supervising_physician", user, everyone=everyone, then=("signed_at", "id"))


# Patient history ---------------------------------------------------------------


def patient_history_sessions(
    *,
    user: Reader,
    patient: Patient,
    date_from: date | None = None,
    date_to: date | None = None,
    route: str = "",
    status: str = "",
) -> QuerySet[Session]:
    """A patient's sessions, newest first, filtered; prefetch what the timeline shows with `timeline_prefetch`."""
    require(user, "view_session")
    sessions = Session.objects.filter(patient_id=patient.pk)
    zone = timezone.get_current_timezone()
    if date_from:
        sessions = sessions.filter(scheduled_at__gte=datetime.combine(date_from, time.min, tzinfo=zone))
    if date_to:
        sessions = sessions.filter(scheduled_at__lte=datetime.combine(date_to, time.max, tzinfo=zone))
    if route:
        sessions = sessions.filter(planned_route=route)
    if status:
        sessions = sessions.filter(status=status)
    return sessions.select_related(
        "primary_nurse",
        "signed_by",
        "cosigned_by",
        "discharge__discharged_by",
    ).order_by("-scheduled_at", "-id")


def timeline_prefetch(sessions: Sequence[Session]) -> None:
    """Load, in a fixed number of queries, everything the history timeline shows of `sessions` (one page)."""
    from django.db.models import prefetch_related_objects

    if not sessions:
        return
    prefetch_related_objects(
        sessions,
        Prefetch("screenings", queryset=_screenings_queryset()),
        Prefetch("orders", queryset=_orders_queryset()),
        Prefetch(
            "administrations",
            queryset=Administration.objects.select_related("order", "started_by", "stopped_by").order_by(
                "started_at", "id"
            ),
        ),
        Prefetch("administration_events", queryset=_events_queryset()),
        "side_effects",
        "addenda",
        "discharge_overrides",
    )
    scales = scale_extremes([s.pk for s in sessions])
    for session in sessions:
        session.lowest_moaas, session.highest_cadss6 = scales.get(session.pk, (None, None))
        # From the prefetched screenings (the current one), and the discharge loaded by select_related:
        # no query here, and None rather than an exception when absent.
        session.screening_or_none = session.screening
        session.discharge_or_none = getattr(session, "discharge", None)


def scale_extremes(session_ids: Sequence[int]) -> dict[int, tuple[int | None, int | None]]:
    """{session id: (lowest MOAA/S, highest CADSS-6 total)} over readings not entered in error, in one query.

    The CADSS-6 total is the sum of the six items as entered (a reading without the scale adds nothing).
    """
    from records.models.vitals import CADSS6_ITEMS

    total = sum((F(f) for f in CADSS6_ITEMS[1:]), F(CADSS6_ITEMS[0]))
    rows = (
        VitalsReading.objects.filter(session_id__in=session_ids, entered_in_error_at__isnull=True)
        .values("session_id")
        .annotate(low=Min("moaas"), high=Max(total))
        .order_by()
    )
    return {row["session_id"]: (row["low"], row["high"]) for row in rows}


class Trends(TypedDict):
    """What the trend charts plot, one point per session: (day, value, value)."""

    pain: list[tuple[date, int | None, int | None]]  # pain before and after
    bp: list[tuple[date, int, int]]  # systolic and diastolic at screening


def session_trends(*, user: Reader, patient: Patient, session_ids: Sequence[int] | None = None) -> Trends:
    """Per session, across the whole course or the sessions given: pain before and after (from the vitals)
    and the screening BP.

    Two queries whatever the number of sessions and readings: only the values plotted are read.
    """
    from records.models import Phase, VitalsReading

    require(user, "view_session")
    of_patient = Q(session__patient_id=patient.pk)
    if session_ids is not None:
        of_patient &= Q(session_id__in=list(session_ids))
    pain: dict[int, dict[str, Any]] = {}
    readings = (
        VitalsReading.objects.filter(
            of_patient,
            pain__isnull=False,
            entered_in_error_at__isnull=True,
            phase__in=[Phase.PRE, Phase.POST],
        )
        .order_by("session__scheduled_at", "session_id", "measured_at", "id")
        .values_list("session_id", "session__scheduled_at", "phase", "pain")
    )
    for session_id, scheduled_at, phase, value in readings:
        entry = pain.setdefault(session_id, {"day": timezone.localtime(scheduled_at).date(), "pre": None, "post": None})
        if phase == Phase.PRE:
            if entry["pre"] is None:  # the first pain score before the session
                entry["pre"] = value
        else:
            entry["post"] = value  # the last pain score after it
    bp = [
        (timezone.localtime(scheduled_at).date(), systolic, diastolic)
        for scheduled_at, systolic, diastolic in Screening.objects.filter(
            of_patient, superseded_at__isnull=True, bp_reading__entered_in_error_at__isnull=True
        )
        .order_by("session__scheduled_at", "session_id")
        .values_list("session__scheduled_at", "bp_reading__systolic", "bp_reading__diastolic")
        if systolic is not None and diastolic is not None  # both or neither (a database constraint)
    ]
    return {"pain": [(e["day"], e["pre"], e["post"]) for e in pain.values()], "bp": bp}


@dataclass(frozen=True)
class TrendPeriod:
    """A run of consecutive sessions of a patient's course, counted back from the latest."""

    number: int  # 1: the latest sessions
    first: int  # the position of its latest session among the patient's sessions, 1 being the latest
    last: int  # the position of its earliest session
    latest_day: date
    earliest_day: date


@dataclass(frozen=True)
class TrendWindow:
    """The period of a patient's course the history's trends show, and every period there is to choose."""

    number: int
    sessions: int  # the patient's sessions in all
    periods: list[TrendPeriod]  # latest first; empty when the patient has no session
    session_ids: list[int]  # the sessions of this period
    # The outcome reports that go with the period: reported on or after `reported_from` and on or before
    # `reported_to`; None leaves that end open (the latest period reaches today, the earliest the first report).
    # Each report belongs to exactly one period.
    reported_from: date | None
    reported_to: date | None

    @property
    def current(self) -> TrendPeriod | None:
        return self.periods[self.number - 1] if self.periods else None

    @property
    def several_periods(self) -> bool:
        return len(self.periods) > 1

    @property
    def has_later(self) -> bool:
        return self.number > 1

    @property
    def has_earlier(self) -> bool:
        return self.number < len(self.periods)


def trend_window(*, user: Reader, patient: Patient, number: str | int | None, size: int) -> TrendWindow:
    """Period `number` of `size` sessions of the patient's course, counted back from the latest (1: the latest).

    A number that is not a period's gives the nearest one, as a page number does. Two queries whatever the
    number of sessions: the count, then the period's own sessions with the latest and earliest session of
    every period (which name the periods by their days).
    """
    from django.core.paginator import Paginator
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    require(user, "view_session")
    sessions = Session.objects.filter(patient_id=patient.pk)
    latest_first = [F("scheduled_at").desc(), F("id").desc()]
    page = Paginator(sessions.order_by(*latest_first).values_list("id", flat=True), size).get_page(number)
    total = page.paginator.count
    if not total:
        return TrendWindow(number=1, sessions=0, periods=[], session_ids=[], reported_from=None, reported_to=None)
    bounds = [(start, min(start + size - 1, total)) for start in range(1, total + 1, size)]
    own = range(page.start_index(), page.end_index() + 1)
    rows = (
        sessions.annotate(position=Window(RowNumber(), order_by=latest_first))
        .filter(position__in=sorted({*own, *(p for bound in bounds for p in bound)}))
        .values_list("position", "id", "scheduled_at")
    )
    found = {position: (pk, timezone.localtime(at).date()) for position, pk, at in rows}
    periods = [
        TrendPeriod(number=n, first=first, last=last, latest_day=found[first][1], earliest_day=found[last][1])
        for n, (first, last) in enumerate(bounds, start=1)
    ]
    current = periods[page.number - 1]
    later = periods[page.number - 2] if page.number > 1 else None
    return TrendWindow(
        number=page.number,
        sessions=total,
        periods=periods,
        session_ids=[found[position][0] for position in own],
        reported_from=current.earliest_day if page.number < len(periods) else None,
        reported_to=later.earliest_day - timedelta(days=1) if later else None,
    )
