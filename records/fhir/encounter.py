"""Encounter: one per session (class ambulatory, period arrival to discharge, location the chair)."""

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, ext_code, instant, prune, ref
from records.models import Discharge, ExitKind, Session, SessionStatus

RESOURCE_TYPE = "Encounter"

# The session's state, as an Encounter status. A session that left the usual path
# (cancelled, no-show, not proceeded) stays `cancelled` after it is signed.
STATUS: dict[str, str] = {
    SessionStatus.SCHEDULED: "planned",
    SessionStatus.ARRIVED: "arrived",
    SessionStatus.SCREENING: "triaged",
    SessionStatus.HELD: "triaged",
    SessionStatus.CLEARED: "triaged",
    SessionStatus.IN_PROGRESS: "in-progress",
    SessionStatus.RECOVERY: "in-progress",
    SessionStatus.STOPPED_EARLY: "in-progress",
    SessionStatus.DISCHARGED: "finished",
    SessionStatus.SIGNED: "finished",
    SessionStatus.COSIGNED: "finished",
    SessionStatus.CANCELLED: "cancelled",
    SessionStatus.NO_SHOW: "cancelled",
}
NOT_HELD = (ExitKind.CANCELLED, ExitKind.NO_SHOW, ExitKind.NOT_PROCEEDED)
DISCHARGE_CRITERIA = (
    ("alert_and_oriented", "alert and oriented"),
    ("vitals_near_baseline", "vitals near baseline"),
    ("steady_walking", "walking steadily"),
    ("escort_present_not_driving", "escort present and not driving"),
)


def sessions() -> QuerySet[Session]:
    return Session.objects.select_related("discharge").order_by("pk")


def encounter_status(session: Session) -> str:
    if session.exit_kind in NOT_HELD:
        return "cancelled"
    return STATUS[session.status]


def _participant(code: str, display: str, reference: dict[str, str] | None) -> dict[str, object] | None:
    if reference is None:
        return None
    return {"type": [{"coding": [codes.coding(codes.V3_PARTICIPATION_TYPE, code, display)]}], "individual": reference}


def _discharge_text(discharge: Discharge) -> str:
    met = "; ".join(label for field, label in DISCHARGE_CRITERIA if getattr(discharge, field))
    text = f"Discharge criteria met: {met}."
    return f"{text} {discharge.note}" if discharge.note else text


def encounter_resource(session: Session, people: People) -> Resource:
    discharge: Discharge | None = getattr(session, "discharge", None)
    exit_extension = None
    if session.exit_kind:
        exit_extension = {
            "url": codes.EXT_EXIT,
            "extension": [
                {"url": "kind", "valueCoding": codes.local_coding("session-exit", session.exit_kind)},
                {"url": "reason", "valueString": session.exit_reason},
            ],
        }
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(session.pk),
            "extension": [
                ext_code(codes.EXT_PLANNED_ROUTE, "route", session.planned_route),
                {"url": codes.EXT_SCHEDULED_AT, "valueDateTime": instant(session.scheduled_at)},
                exit_extension,
            ],
            "status": encounter_status(session),
            "class": codes.coding(codes.V3_ACT_CODE, "AMB", "ambulatory"),
            "subject": ref("Patient", session.patient_id),
            "participant": [
                _participant("PPRF", "primary performer", people.ref(session.primary_nurse_id)),
                _participant("ATND", "attender", people.ref(session.supervising_physician_id)),
                _participant("DIS", "discharger", people.ref(discharge.discharged_by_id) if discharge else None),
            ],
            "period": {
                "start": instant(session.arrived_at) if session.arrived_at else None,
                "end": instant(discharge.discharged_at) if discharge else None,
            },
            "location": [{"location": {"display": session.chair}}],
            "hospitalization": {"dischargeDisposition": {"text": _discharge_text(discharge)}} if discharge else None,
        }
    )
