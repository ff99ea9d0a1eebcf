"""Bundle: a page of search results (searchset, with paging links) and one patient's whole record (collection)."""

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from records.fhir import code_system, practitioner
from records.fhir.common import People, Resource, instant
from records.fhir.export import patient_resources

RESOURCE_TYPE = "Bundle"


def _entry(resource: Resource, base_url: str, **extra: Any) -> dict[str, Any]:
    return {"fullUrl": f"{base_url}{resource['resourceType']}/{resource['id']}", "resource": resource, **extra}


def searchset(
    *,
    resources: list[Resource],
    total: int,
    page: int,
    count: int,
    base_url: str,
    resource_type: str,
    query: list[tuple[str, str]],
) -> Resource:
    """One page of a search; `base_url` ends with /fhir/. Links: self, first, previous, next, last."""

    def link(relation: str, number: int) -> dict[str, str]:
        params = [(k, v) for k, v in query if k != "_count"] + [("_count", str(count)), ("_page", str(number))]
        return {"relation": relation, "url": f"{base_url}{resource_type}?{urlencode(params)}"}

    last = max(1, -(-total // count))
    links = [link("self", page), link("first", 1)]
    if page > 1:
        links.append(link("previous", min(page - 1, last)))
    if page < last:
        links.append(link("next", page + 1))
    links.append(link("last", last))
    return {
        "resourceType": RESOURCE_TYPE,
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(timezone.now())},
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [_entry(r, base_url, search={"mode": "match"}) for r in resources],
    }


def patient_collection(*, patient_id: int, base_url: str) -> Resource:
    """Everything recorded about one patient, with the practitioners it names and the local code systems.

    Not the audit log: who read the record is the clinic's accounting, not the record.
    """
    people = People()
    resources: list[Resource] = list(patient_resources(patient_id, people))
    resources += [practitioner.practitioner_resource(user) for user in practitioner.practitioners(patient_id)]
    resources += list(code_system.code_systems())
    now = timezone.now()
    return {
        "resourceType": RESOURCE_TYPE,
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(now)},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"},
        "type": "collection",
        "timestamp": instant(now),
        "entry": [_entry(r, base_url) for r in resources],
    }


def count_entries(bundle: Resource) -> int:
    entries: Iterable[Any] = bundle.get("entry", [])
    return sum(1 for _ in entries)
