"""MedicationRequest: each order as given, exactly as written; `reported` for a verbal or telephone order."""

from django.db.models import Prefetch, QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, ext_code, instant, prune, ref
from records.fhir.dosing import dose_as_written, dose_quantity
from records.models import Administration, AdministrationState, ExitKind, Order, ReceivedAs, SessionStatus

RESOURCE_TYPE = "MedicationRequest"
FINISHED = (SessionStatus.DISCHARGED, SessionStatus.SIGNED, SessionStatus.COSIGNED)


def orders() -> QuerySet[Order]:
    return (
        Order.objects.select_related("session")
        .prefetch_related(Prefetch("administrations", queryset=Administration.objects.only("pk", "order_id", "state")))
        .order_by("pk")
    )


def route_concept(route: str) -> dict[str, object]:
    coding = codes.local_coding("route", route)
    return {"coding": [coding], "text": coding.get("display", route)}


def order_status(order: Order) -> str:
    """Where the order stands, from what was recorded about it (never from its dose).

    Being given: active. Every administration stopped, or the session over: completed;
    stopped, when the session was stopped early. The session cancelled (no-show,
    not proceeded) before anything was given: cancelled.
    """
    session = order.session
    states = [a.state for a in order.administrations.all()]
    if any(state != AdministrationState.STOPPED for state in states):
        return "active"
    if session.exit_kind == ExitKind.STOPPED_EARLY:
        return "stopped"
    if not states and session.exit_kind in (ExitKind.CANCELLED, ExitKind.NO_SHOW, ExitKind.NOT_PROCEEDED):
        return "cancelled"
    if states or session.status in FINISHED:
        return "completed"
    return "active"


def medication_request_resource(order: Order, people: People) -> Resource:
    session = order.session
    requester = people.ref(order.ordering_physician_id) or {"display": order.outside_prescriber}
    verbal = order.received_as in (ReceivedAs.VERBAL, ReceivedAs.TELEPHONE)
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(order.pk),
            "extension": [
                ext_code(codes.EXT_RECEIVED_AS, "order-received-as", order.received_as),
                {"url": codes.EXT_READ_BACK, "valueBoolean": order.read_back_confirmed} if verbal else None,
                {"url": codes.EXT_COSIGN_DUE, "valueDateTime": instant(order.cosign_due_at)}
                if order.cosign_due_at
                else None,
            ],
            "status": order_status(order),
            "intent": "order",
            "reportedBoolean": verbal,
            "medicationCodeableConcept": {"text": order.medication},
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "authoredOn": instant(order.received_at),
            "requester": requester,
            "recorder": people.ref(order.documented_by_id),
            "dosageInstruction": [
                {
                    "extension": [
                        dose_as_written(order.dose_value, order.dose_unit),
                        {"url": codes.EXT_RATE_AS_WRITTEN, "valueString": order.rate_text} if order.rate_text else None,
                    ],
                    "text": order.order_text,
                    "route": route_concept(order.route),
                    "doseAndRate": [{"doseQuantity": dose_quantity(order.dose_value, order.dose_unit)}],
                }
            ],
        }
    )
