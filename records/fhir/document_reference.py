"""DocumentReference: each addendum to a signed session, its text as written (the original is never changed)."""

import base64

from django.db.models import QuerySet

from records.fhir.common import People, Resource, instant, prune, ref
from records.models import Addendum

RESOURCE_TYPE = "DocumentReference"
ID_PREFIX = "addendum-"


def addenda() -> QuerySet[Addendum]:
    return Addendum.objects.select_related("session").order_by("pk")


def addendum_document(addendum: Addendum, people: People) -> Resource:
    author = people.ref(addendum.author_id)
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"{ID_PREFIX}{addendum.pk}",
            "status": "current",
            "docStatus": "final",
            "type": {"text": "Addendum"},
            "subject": ref("Patient", addendum.session.patient_id),
            "date": instant(addendum.written_at),
            "author": [{**author, "display": addendum.author_name}] if author else [],
            "description": addendum.reason,
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "data": base64.b64encode(addendum.text.encode("utf-8")).decode("ascii"),
                        "title": "Addendum",
                        "creation": instant(addendum.written_at),
                    }
                }
            ],
            "context": {"encounter": [ref("Encounter", addendum.session_id)]},
        }
    )
