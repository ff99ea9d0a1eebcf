"""CodeSystem: the local code systems, declared in every export and readable at /fhir/CodeSystem/<id>."""

from collections.abc import Iterator

from records.fhir import codes
from records.fhir.audit_event import AUDIT_KINDS
from records.fhir.common import Resource
from records.models import AuditAction

RESOURCE_TYPE = "CodeSystem"


def _tables() -> dict[str, tuple[str, str, dict[str, str]]]:
    return {
        **codes.LOCAL_CODE_SYSTEMS,
        "audit-action": (AUDIT_KINDS, "Kinds of audit event", {str(k): str(v) for k, v in AuditAction.choices}),
    }


def code_system_ids() -> list[str]:
    return list(_tables())


def code_system_resource(system_id: str) -> Resource | None:
    table = _tables().get(system_id)
    if table is None:
        return None
    url, title, concepts = table
    return {
        "resourceType": RESOURCE_TYPE,
        "id": system_id,
        "url": url,
        "name": "".join(part.title() for part in system_id.split("-")),
        "title": title,
        "status": "active",
        "experimental": False,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": display} for code, display in concepts.items()],
    }


def code_systems() -> Iterator[Resource]:
    for system_id in code_system_ids():
        resource = code_system_resource(system_id)
        if resource is not None:
            yield resource
