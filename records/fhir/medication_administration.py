"""MedicationAdministration: each administration, with its pauses, the lot and the amount as documented."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, instant, prune, ref
from records.fhir.dosing import dose_as_written, dose_quantity
from records.fhir.medication_request import route_concept
from records.models import Administration, AdministrationEvent, AdministrationEventKind, AdministrationState

RESOURCE_TYPE = "MedicationAdministration"


def administrations() -> QuerySet[Administration]:
    """Administrations with their order and session; their events come from `events_by_administration`."""
    return Administration.objects.select_related("order", "session").order_by("pk")


def events_by_administration(administration_ids: Iterable[int]) -> dict[int, list[AdministrationEvent]]:
    """The start, pauses, resumes and stop of each administration, in order: one query for a batch.

    Not prefetch_related: prefetched events point back at their administration, and
    such cycles pile up between garbage collections in a long export.
    """
    events: dict[int, list[AdministrationEvent]] = defaultdict(list)
    for event in AdministrationEvent.objects.filter(administration_id__in=list(administration_ids)).order_by(
        "occurred_at", "id"
    ):
        events[event.administration_id].append(event)
    return events


def administration_status(administration: Administration, events: list[AdministrationEvent]) -> str:
    if administration.state == AdministrationState.RUNNING:
        return "in-progress"
    if administration.state == AdministrationState.PAUSED:
        return "on-hold"
    # A stop with a reason is a stop before the end (the session was stopped early).
    early = any(e.kind == AdministrationEventKind.STOP and e.reason for e in events)
    return "stopped" if early else "completed"


def _note(event: AdministrationEvent, people: People) -> dict[str, object]:
    text = event.get_kind_display()
    return {
        "authorReference": people.ref(event.recorded_by_id),
        "time": instant(event.occurred_at),
        "text": f"{text}: {event.reason}" if event.reason else text,
    }


def medication_administration_resource(
    administration: Administration, people: People, events: list[AdministrationEvent] | None = None
) -> Resource:
    order, session = administration.order, administration.session
    if events is None:
        events = events_by_administration([administration.pk])[administration.pk]
    amount_text = f"{administration.amount_given_value} {administration.amount_given_unit}".strip()
    performers = [{"actor": people.ref(administration.started_by_id)}]
    if administration.stopped_by_id and administration.stopped_by_id != administration.started_by_id:
        performers.append({"actor": people.ref(administration.stopped_by_id)})
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(administration.pk),
            "extension": [{"url": codes.EXT_LOT_NUMBER, "valueString": administration.lot_number}],
            "status": administration_status(administration, events),
            "medicationCodeableConcept": {"text": order.medication},
            "subject": ref("Patient", session.patient_id),
            "context": ref("Encounter", session.pk),
            "effectivePeriod": {
                "start": instant(administration.started_at),
                "end": instant(administration.stopped_at) if administration.stopped_at else None,
            },
            "performer": performers,
            "request": ref("MedicationRequest", order.pk),
            "note": [{"text": f"Lot number: {administration.lot_number}"}, *(_note(e, people) for e in events)],
            "dosage": {
                "extension": [dose_as_written(administration.amount_given_value, administration.amount_given_unit)],
                # The amount given as the nurse documented it; empty until the administration is stopped.
                "text": f"Amount given: {amount_text}" if amount_text else None,
                "site": {"text": administration.site},
                "route": route_concept(order.route),
                "dose": dose_quantity(administration.amount_given_value, administration.amount_given_unit),
            },
        }
    )
