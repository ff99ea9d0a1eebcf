"""MedicationRequest: each order as given, exactly as written; `reported` for a verbal or telephone order."""

from django.db.models import Count, Q, QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, ext_code, instant, prune, ref
from records.fhir.dosing import dose_as_written, dose_quantity
from records.models import AdministrationState, ExitKind, Order, ReceivedAs, SessionStatus

RESOURCE_TYPE = "MedicationRequest"
FINISHED = (SessionStatus.DISCHARGED, SessionStatus.SIGNED, SessionStatus.COSIGNED)


def orders() -> QuerySet[Order]:
    """Orders with their session, and how many administrations each has and how many are not stopped.

    Counted in the query rather than prefetched: prefetched rows point back at their
    order, and such cycles pile up between garbage collections in a long export.
    """
    return (
        Order.objects.select_related("session")
        .annotate(
            administrations_given=Count("administrations"),
            administrations_open=Count(
                "administrations", filter=~Q(administrations__state=AdministrationState.STOPPED)
            ),
        )
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
    given: int = getattr(order, "administrations_given", None) or order.administrations.count()
    still_open: int = getattr(order, "administrations_open", None) or (
        order.administrations.exclude(state=AdministrationState.STOPPED).count() if given else 0
    )
    if still_open:
        return "active"
    if session.exit_kind == ExitKind.STOPPED_EARLY:
        return "stopped"
    if not given and session.exit_kind in (ExitKind.CANCELLED, ExitKind.NO_SHOW, ExitKind.NOT_PROCEEDED):
        return "cancelled"
    if given or session.status in FINISHED:
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
