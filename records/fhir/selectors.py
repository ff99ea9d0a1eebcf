"""Reads of the FHIR API, scoped to what the token's account may see.

A record needs the same permission as the pages that show it.

Which role holds which permission is decided in records.permissions, as for the
pages; this module only says which permission each kind of record needs. An admin's
token therefore reads the audit log and no clinical record, as on the pages.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from records.fhir import (
    adverse_event,
    audit_event,
    code_system,
    document_reference,
    encounter,
    medication_administration,
    medication_request,
    observation,
    patient,
    practitioner,
    provenance,
    questionnaire_response,
)
from records.fhir.common import People, Resource
from records.fhir.search import DateRange, Search, mrn_matches
from records.models import ApiToken, OutcomeReport, Patient, User, VitalsReading
from records.permissions import can

Reader = User | AnonymousUser

# The permission each kind of record needs (any one of them), as on the pages.
SOURCE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "patient": ("view_patient",),
    "session": ("view_session",),
    "vitals": ("view_session",),
    "order": ("view_session",),
    "administration": ("view_session",),
    "side_effect": ("view_session",),
    "screening": ("view_session",),
    "signature": ("view_session",),
    "addendum": ("view_session",),
    "outcome": ("view_outcomereport",),
    "intake": ("view_intakeassessment",),
    "audit": ("view_audit_log",),
    # The people named in records: whoever reads those records, the audit log or the accounts.
    "practitioner": ("view_session", "view_audit_log", "manage_accounts"),
    # The local code systems: only definitions, no one's data.
    "codesystem": (),
}

# The kinds of record each resource type is made from.
RESOURCE_SOURCES: dict[str, tuple[str, ...]] = {
    "Patient": ("patient",),
    "Practitioner": ("practitioner",),
    "Encounter": ("session",),
    "Observation": ("vitals", "outcome"),
    "MedicationRequest": ("order",),
    "MedicationAdministration": ("administration",),
    "AdverseEvent": ("side_effect",),
    "QuestionnaireResponse": ("screening", "outcome", "intake"),
    "Provenance": ("signature", "addendum"),
    "DocumentReference": ("addendum",),
    "AuditEvent": ("audit",),
    "CodeSystem": ("codesystem",),
}
SEARCHABLE = ("Patient", "Encounter", "Observation", "MedicationAdministration")


ID_DIGITS = re.compile(r"^[1-9][0-9]{0,17}$")


class NotFound(Exception):
    """No resource of that type has that id (or its id is not one this server gives out)."""


@dataclass
class ReadResult:
    resource: Resource
    patient_id: int | None
    record: Model | None


@dataclass
class SearchPage:
    resources: list[Resource]
    total: int
    patient_id: int | None


def may_read_source(user: Reader, source: str) -> bool:
    needed = SOURCE_PERMISSIONS[source]
    return not needed or any(can(user, permission) for permission in needed)


def require_source(user: Reader, source: str) -> None:
    if not may_read_source(user, source):
        raise PermissionDenied("Your role does not give access to these records.")


def require_resource_type(user: Reader, resource_type: str) -> None:
    """Refuse a resource type none of whose records the role may read (403 before any query)."""
    if not any(may_read_source(user, source) for source in RESOURCE_SOURCES[resource_type]):
        raise PermissionDenied(f"Your role does not give access to {resource_type} resources.")


def _pk(resource_id: str) -> int:
    if not ID_DIGITS.match(resource_id):
        raise NotFound
    return int(resource_id)


def _one[M: Model](queryset: QuerySet[M], pk: int) -> M:
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound
    return row


# Reads by id ---------------------------------------------------------------------

Reading = Callable[[Reader, str, People], ReadResult]


def _read_patient(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "patient")
    row = _one(patient.patients(), _pk(resource_id))
    return ReadResult(patient.patient_resource(row), row.pk, row)


def _read_practitioner(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "practitioner")
    row = _one(practitioner.practitioners(), _pk(resource_id))
    return ReadResult(practitioner.practitioner_resource(row), None, row)


def _read_encounter(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "session")
    row = _one(encounter.sessions(), _pk(resource_id))
    return ReadResult(encounter.encounter_resource(row, people), row.patient_id, row)


def _read_observation(user: Reader, resource_id: str, people: People) -> ReadResult:
    parsed = observation.parse_id(resource_id)
    if parsed is None:
        raise NotFound
    require_source(user, parsed.source)
    if parsed.source == "vitals":
        reading = _one(observation.readings(), parsed.pk)
        if parsed.key not in observation.vitals_keys(reading):
            raise NotFound
        resource = observation.vitals_observation(reading, parsed.key, people)
        return ReadResult(resource, reading.session.patient_id, reading)
    report = _one(observation.outcome_reports(), parsed.pk)
    if parsed.key not in observation.outcome_keys(report):
        raise NotFound
    return ReadResult(observation.outcome_observation(report, parsed.key, people), report.patient_id, report)


def _read_medication_request(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "order")
    row = _one(medication_request.orders(), _pk(resource_id))
    return ReadResult(medication_request.medication_request_resource(row, people), row.session.patient_id, row)


def _read_medication_administration(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "administration")
    row = _one(medication_administration.administrations(), _pk(resource_id))
    resource = medication_administration.medication_administration_resource(row, people)
    return ReadResult(resource, row.session.patient_id, row)


def _read_adverse_event(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "side_effect")
    row = _one(adverse_event.side_effects(), _pk(resource_id))
    return ReadResult(adverse_event.adverse_event_resource(row, people), row.session.patient_id, row)


def _read_questionnaire_response(user: Reader, resource_id: str, people: People) -> ReadResult:
    qr = questionnaire_response
    parsed = qr.parse_id(resource_id)
    if parsed is None:
        raise NotFound
    require_source(user, parsed.source)
    if parsed.source == "screening":
        screening = _one(qr.screenings(), parsed.pk)
        return ReadResult(qr.screening_response(screening, people), screening.session.patient_id, screening)
    if parsed.source == "outcome":
        report = _one(observation.outcome_reports(), parsed.pk)
        return ReadResult(qr.outcome_response(report, people), report.patient_id, report)
    intake = _one(qr.intakes(), parsed.pk)
    return ReadResult(qr.intake_response(intake, people), intake.patient_id, intake)


def _read_provenance(user: Reader, resource_id: str, people: People) -> ReadResult:
    parsed = provenance.parse_id(resource_id)
    if parsed is None:
        raise NotFound
    require_source(user, "addendum" if parsed.source == "addendum" else "signature")
    if parsed.source == "addendum":
        addendum = _one(provenance.addenda(), parsed.pk)
        return ReadResult(provenance.addendum_provenance(addendum, people), addendum.session.patient_id, addendum)
    if parsed.source == "order":
        order = _one(provenance.cosigned_orders(), parsed.pk)
        return ReadResult(provenance.order_cosignature(order, people), order.session.patient_id, order)
    session = _one(provenance.signed_sessions(), parsed.pk)
    wanted = f"session-{session.pk}-{parsed.kind}"
    match = next((r for r in provenance.session_signatures(session, people) if r["id"] == wanted), None)
    if match is None:
        raise NotFound
    return ReadResult(match, session.patient_id, session)


def _read_document_reference(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "addendum")
    if not resource_id.startswith(document_reference.ID_PREFIX):
        raise NotFound
    addendum = _one(document_reference.addenda(), _pk(resource_id.removeprefix(document_reference.ID_PREFIX)))
    return ReadResult(document_reference.addendum_document(addendum, people), addendum.session.patient_id, addendum)


def _read_audit_event(user: Reader, resource_id: str, people: People) -> ReadResult:
    require_source(user, "audit")
    event = _one(audit_event.audit_events(), _pk(resource_id))
    # Reading the log is not reading the patient's record: the read is recorded without the patient.
    return ReadResult(audit_event.audit_event_resource(event), None, event)


def _read_code_system(user: Reader, resource_id: str, people: People) -> ReadResult:
    resource = code_system.code_system_resource(resource_id)
    if resource is None:
        raise NotFound
    return ReadResult(resource, None, None)


READERS: dict[str, Reading] = {
    "Patient": _read_patient,
    "Practitioner": _read_practitioner,
    "Encounter": _read_encounter,
    "Observation": _read_observation,
    "MedicationRequest": _read_medication_request,
    "MedicationAdministration": _read_medication_administration,
    "AdverseEvent": _read_adverse_event,
    "QuestionnaireResponse": _read_questionnaire_response,
    "Provenance": _read_provenance,
    "DocumentReference": _read_document_reference,
    "AuditEvent": _read_audit_event,
    "CodeSystem": _read_code_system,
}


def fhir_read(*, user: Reader, resource_type: str, resource_id: str) -> ReadResult:
    """One resource by id, for a role that may read it (PermissionDenied) if it exists (NotFound)."""
    require_resource_type(user, resource_type)
    return READERS[resource_type](user, resource_id, People())


# Searches ------------------------------------------------------------------------


def _page[M: Model](queryset: QuerySet[M], search: Search) -> tuple[list[M], int]:
    total = queryset.count()
    start = (search.page - 1) * search.count
    return list(queryset[start : start + search.count]), total


def _search_patients(user: Reader, search: Search, people: People) -> SearchPage:
    require_source(user, "patient")
    rows = patient.patients()
    params = search.params
    if "_id" in params:
        rows = rows.filter(pk=params["_id"])
    if "identifier" in params:
        system, value = params["identifier"]
        rows = rows.filter(mrn__iexact=value) if mrn_matches(system) else rows.none()
    if "name" in params:
        text, exact = params["name"]
        if exact:
            rows = rows.filter(Q(family_name=text) | Q(given_name=text))
        else:
            rows = rows.filter(Q(family_name__istartswith=text) | Q(given_name__istartswith=text))
    for condition in params.get("birthdate", []):
        rows = rows.filter(**condition.day_lookups("date_of_birth"))
    page, total = _page(rows, search)
    only = page[0].pk if total == 1 and page else None
    return SearchPage([patient.patient_resource(row) for row in page], total, only)


def _search_encounters(user: Reader, search: Search, people: People) -> SearchPage:
    require_source(user, "session")
    patient_id: int = search.params["patient"]
    rows = encounter.sessions().filter(patient_id=patient_id).order_by("scheduled_at", "pk")
    for condition in search.params.get("date", []):
        rows = rows.filter(**condition.lookups("scheduled_at"))
    page, total = _page(rows, search)
    return SearchPage([encounter.encounter_resource(row, people) for row in page], total, patient_id)


def _search_administrations(user: Reader, search: Search, people: People) -> SearchPage:
    require_source(user, "administration")
    patient_id: int = search.params["patient"]
    rows = medication_administration.administrations().filter(session__patient_id=patient_id)
    page, total = _page(rows.order_by("started_at", "pk"), search)
    events = medication_administration.events_by_administration(row.pk for row in page)
    resources = [
        medication_administration.medication_administration_resource(row, people, events[row.pk]) for row in page
    ]
    return SearchPage(resources, total, patient_id)


def _code_matches(key: str, wanted: list[tuple[str | None, str]]) -> bool:
    _, key_codes = observation.KEY_CODES[key]
    return any(code == c and (system is None or system == s) for system, code in wanted for s, c in key_codes)


def _category_matches(key: str, wanted: list[tuple[str | None, str]]) -> bool:
    category, _ = observation.KEY_CODES[key]
    return any(code == category and system in (None, observation.codes.OBSERVATION_CATEGORY) for system, code in wanted)


def _search_observations(user: Reader, search: Search, people: People) -> SearchPage:
    """A patient's observations, oldest first: every measurement of the flowsheet and every reported total.

    The matching (reading, kind) pairs are listed from the few columns that say which
    values were entered and when; only the page's rows are then read in full.
    """
    require_source(user, "vitals")
    patient_id: int = search.params["patient"]
    categories = search.params.get("category")
    wanted_codes = search.params.get("code")
    dates: list[DateRange] = search.params.get("date", [])
    zone = timezone.get_current_timezone()

    def keep(key: str, moment: datetime | None) -> bool:
        if categories is not None and not _category_matches(key, categories):
            return False
        if wanted_codes is not None and not _code_matches(key, wanted_codes):
            return False
        return all(moment is not None and condition.matches(moment) for condition in dates)

    matches: list[tuple[datetime, int, int, int, str]] = []  # (when, source, pk, order, key)
    columns = ("pk", "measured_at", "systolic", *(v.field for v in observation.codes.VITALS))
    readings: QuerySet[VitalsReading] = VitalsReading.objects.filter(session__patient_id=patient_id).only(
        *columns, "pain", "sedation_rass", "dissociation"
    )
    for reading in readings.iterator(chunk_size=2000):
        for order, key in enumerate(observation.vitals_keys(reading)):
            if keep(key, reading.measured_at):
                matches.append((reading.measured_at, 0, reading.pk, order, key))
    if may_read_source(user, "outcome"):
        reports: QuerySet[OutcomeReport] = OutcomeReport.objects.filter(patient_id=patient_id)
        for report in reports.iterator(chunk_size=2000):
            for order, key in enumerate(observation.outcome_keys(report)):
                effective = {
                    "headache-days": report.reported_on,
                    "midas": report.midas_completed_on,
                    "hit6": report.hit6_completed_on,
                }[key]
                moment = datetime.combine(effective, time.min, tzinfo=zone) if effective else None
                if keep(key, moment):
                    matches.append((moment or datetime.min.replace(tzinfo=zone), 1, report.pk, order, key))
    matches.sort()
    start = (search.page - 1) * search.count
    page = matches[start : start + search.count]
    vitals_rows = observation.readings().in_bulk([pk for _, source, pk, _, _ in page if source == 0])
    report_rows = observation.outcome_reports().in_bulk([pk for _, source, pk, _, _ in page if source == 1])
    resources = [
        observation.vitals_observation(vitals_rows[pk], key, people)
        if source == 0
        else observation.outcome_observation(report_rows[pk], key, people)
        for _, source, pk, _, key in page
    ]
    return SearchPage(resources, len(matches), patient_id)


SEARCHES: dict[str, Callable[[Reader, Search, People], SearchPage]] = {
    "Patient": _search_patients,
    "Encounter": _search_encounters,
    "Observation": _search_observations,
    "MedicationAdministration": _search_administrations,
}


def fhir_search(*, user: Reader, resource_type: str, search: Search) -> SearchPage:
    """One page of a search, for a role that may read the resource type."""
    require_resource_type(user, resource_type)
    return SEARCHES[resource_type](user, search, People())


def patient_for_audit(patient_id: int | None) -> Patient | None:
    return Patient.objects.filter(pk=patient_id).first() if patient_id is not None else None


def fhir_patient_for_download(*, user: Reader, pk: int) -> Patient:
    """The patient whose whole record a physician downloads as a Bundle (404 if there is none)."""
    if not all(can(user, p) for p in ("download_fhir_record", "view_patient", "view_session")):
        raise PermissionDenied("Only a physician may download a patient's record as FHIR.")
    return get_object_or_404(Patient, pk=pk)


def api_tokens(*, user: Reader) -> QuerySet[ApiToken]:
    """Every token that still works, with its account, for the accounts page."""
    if not can(user, "manage_accounts"):
        raise PermissionDenied("Only an admin may manage accounts.")
    return (
        ApiToken.objects.filter(revoked_at__isnull=True)
        .select_related("account", "created_by")
        .order_by("account__username", "-created_at")
    )
