"""CapabilityStatement: what the read API supports, served at /fhir/metadata."""

from django.utils import timezone

from records.fhir.common import Resource, instant
from records.fhir.export import FHIR_VERSION
from records.fhir.selectors import RESOURCE_SOURCES

SEARCH_PARAMS: dict[str, list[tuple[str, str, str]]] = {
    "Patient": [
        ("_id", "token", "The patient's id."),
        ("identifier", "token", "The medical record number: value, or system|value."),
        ("name", "string", "Family or given name starting with the text, any case; name:exact for equality."),
        ("birthdate", "date", "Date of birth; prefixes eq, gt, ge, lt, le."),
    ],
    "Encounter": [
        ("patient", "reference", "Required: the patient (id or Patient/id)."),
        ("date", "date", "The session's scheduled time; prefixes eq, gt, ge, lt, le."),
    ],
    "Observation": [
        ("patient", "reference", "Required: the patient (id or Patient/id)."),
        ("category", "token", "vital-signs or survey (comma-separated: any of)."),
        ("code", "token", "LOINC or local code, or system|code (comma-separated: any of)."),
        ("date", "date", "The effective time; prefixes eq, gt, ge, lt, le."),
    ],
    "MedicationAdministration": [("patient", "reference", "Required: the patient (id or Patient/id).")],
}

SECURITY = (
    "Personal API tokens, issued by the clinic's admin for one account: send Authorization: Bearer <token>. "
    "The account's role decides what may be read, as on the pages (admins read the audit log, not clinical "
    "records). Every read and search is written to the audit log. Read-only: GET only. Rate-limited per token."
)


def capability_statement(base_url: str) -> Resource:
    resources = []
    for resource_type in RESOURCE_SOURCES:
        interactions = [{"code": "read"}]
        entry: Resource = {"type": resource_type, "interaction": interactions}
        if resource_type in SEARCH_PARAMS:
            interactions.append({"code": "search-type"})
            entry["searchParam"] = [
                {"name": name, "type": kind, "documentation": text} for name, kind, text in SEARCH_PARAMS[resource_type]
            ]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "clinic-records",
        "status": "active",
        "date": instant(timezone.now()),
        "kind": "instance",
        "software": {"name": "Clinic records"},
        "implementation": {"description": "Clinic records FHIR read API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Search results are paged with _count and the Bundle's links (_page).",
                "security": {"cors": False, "description": SECURITY},
                "resource": resources,
            }
        ],
    }
