"""AuditEvent: the audit log, shaped after IHE Basic Audit Log Patterns.

Read, query, create and update events, with the patient as an entity.

Each event keeps the product's own kind (a local subtype), its position in the hash
chain and its hashes, so that a receiver can re-check the chain's links.
"""

import json

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import Resource, instant, prune, ref
from records.models import AuditAction, AuditEvent

RESOURCE_TYPE = "AuditEvent"
AUDIT_KINDS = codes.local("CodeSystem", "audit-action")
RECORD_IDENTIFIER = codes.local("identifier", "record")

A = AuditAction
READ = {A.VIEW}
QUERY = {A.SEARCH}
CREATE = {A.CREATE, A.SCREEN, A.ADDENDUM, A.ADMINISTRATION_START, A.DISCHARGE, A.MFA_ENROL, A.API_TOKEN_ISSUE}
AUTHENTICATION: dict[str, str] = {
    A.LOGIN: "110122",
    A.MFA_VERIFY: "110122",
    A.REAUTH: "110122",
    A.LOGIN_FAILED: "110122",
    A.MFA_FAILED: "110122",
    A.REAUTH_FAILED: "110122",
    A.LOCKOUT: "110122",
    A.LOGOUT: "110123",
    A.TIMEOUT: "110123",
}
EXPORTS = {A.PRINT, A.EXPORT, A.DISCLOSURE}
FAILURES = {A.LOGIN_FAILED, A.MFA_FAILED, A.REAUTH_FAILED, A.LOCKOUT, A.ACCESS_DENIED}


def audit_events() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("seq")


def _type_and_action(kind: str) -> tuple[dict[str, str], list[dict[str, str]], str]:
    """(type, standard subtypes, action code) of one kind of event."""
    if kind in AUTHENTICATION:
        login = AUTHENTICATION[kind] == "110122"
        return (
            codes.coding(codes.DICOM, "110114", "User Authentication"),
            [codes.coding(codes.DICOM, AUTHENTICATION[kind], "Login" if login else "Logout")],
            "E",
        )
    if kind in EXPORTS:
        return codes.coding(codes.DICOM, "110106", "Export"), [], "R"
    rest = codes.coding(codes.AUDIT_EVENT_TYPE, "rest", "Restful Operation")
    if kind in READ:
        return rest, [codes.coding(codes.RESTFUL_INTERACTION, "read", "read")], "R"
    if kind in QUERY:
        return rest, [codes.coding(codes.RESTFUL_INTERACTION, "search-type", "search type")], "E"
    if kind in CREATE:
        return rest, [codes.coding(codes.RESTFUL_INTERACTION, "create", "create")], "C"
    if kind == A.ACCESS_DENIED or kind == A.VERIFY:
        return rest, [], "E"
    return rest, [codes.coding(codes.RESTFUL_INTERACTION, "update", "update")], "U"


def _detail(name: str, value: str) -> dict[str, str] | None:
    return {"type": name, "valueString": value} if value else None


def audit_event_resource(event: AuditEvent) -> Resource:
    event_type, subtypes, action = _type_and_action(event.action)
    try:
        kind_label = str(AuditAction(event.action).label)
    except ValueError:
        kind_label = event.action
    who = {
        "identifier": {"system": codes.USERNAME_SYSTEM, "value": event.actor_username}
        if event.actor_username
        else None,
        "display": event.actor_username or "(no account)",
    }
    record = f"{event.record_type}/{event.record_id}" if event.record_type else ""
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(event.pk),
            "type": event_type,
            "subtype": [*subtypes, codes.coding(AUDIT_KINDS, event.action, kind_label)],
            "action": action,
            "recorded": instant(event.occurred_at),
            "outcome": "4" if event.action in FAILURES else "0",
            "agent": [
                {
                    "type": {"coding": [codes.coding(codes.SECURITY_ROLE_TYPE, "humanuser", "human user")]}
                    if event.actor_id
                    else None,
                    "role": [{"text": event.actor_role}] if event.actor_role else [],
                    "who": who,
                    "requestor": True,
                    "network": {"address": event.ip_address, "type": "2"} if event.ip_address else None,
                }
            ],
            "source": {
                "observer": {"display": "Clinic records"},
                "type": [codes.coding(codes.SECURITY_SOURCE_TYPE, "4", "Application Server")],
            },
            "entity": [
                {
                    "what": ref("Patient", event.patient_id),
                    "type": codes.coding(codes.AUDIT_ENTITY_TYPE, "1", "Person"),
                    "role": codes.coding(codes.OBJECT_ROLE, "1", "Patient"),
                }
                if event.patient_id
                else None,
                {
                    "what": {"identifier": {"system": RECORD_IDENTIFIER, "value": record}} if record else None,
                    "type": codes.coding(codes.AUDIT_ENTITY_TYPE, "2", "System Object"),
                    "detail": [
                        _detail("changes", json.dumps(event.changes, sort_keys=True) if event.changes else ""),
                        _detail("reason", event.reason),
                        _detail("user-agent", event.user_agent),
                        _detail("seq", str(event.seq)),
                        _detail("prev-hash", event.prev_hash),
                        _detail("entry-hash", event.entry_hash),
                    ],
                },
            ],
        }
    )
