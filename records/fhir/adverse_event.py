"""AdverseEvent: each side effect noted in a session, its severity, what was done and when it resolved."""

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, instant, prune, ref
from records.models import SideEffect

RESOURCE_TYPE = "AdverseEvent"


def side_effects() -> QuerySet[SideEffect]:
    return SideEffect.objects.select_related("session").order_by("pk")


def adverse_event_resource(effect: SideEffect, people: People) -> Resource:
    session = effect.session
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(effect.pk),
            "extension": [
                {"url": codes.EXT_ACTION_TAKEN, "valueString": effect.action_taken},
                {"url": codes.EXT_RESOLVED_AT, "valueDateTime": instant(effect.resolved_at)}
                if effect.resolved_at
                else None,
            ],
            "actuality": "actual",
            "event": {"coding": [codes.local_coding("side-effect", effect.kind)], "text": effect.label},
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "date": instant(effect.onset_at),
            "recordedDate": instant(effect.recorded_at),
            "severity": {"coding": [codes.coding(codes.ADVERSE_EVENT_SEVERITY, effect.severity)]},
            "outcome": {
                "coding": [codes.coding(codes.ADVERSE_EVENT_OUTCOME, "resolved" if effect.resolved_at else "ongoing")]
            },
            "recorder": people.ref(effect.recorded_by_id),
        }
    )
