"""The FHIR Bulk Data export: one NDJSON file per resource type and a manifest, streamed in constant memory.

`fhir_export(actor, options, output_dir)` is a plain function, so that the
`export_fhir` command, the admin's export page and (later) a task queue all run the
same code. Rows are read in chunks (`iterator(chunk_size)`, prefetching per chunk)
and each resource is written as soon as it is built: memory does not grow with the
number of records, only with the number of accounts (names for references).

On PostgreSQL the whole export reads one snapshot (a REPEATABLE READ, READ ONLY
transaction), so the files agree with each other and with the counts in the
manifest even while the clinic goes on charting. On SQLite a transaction would hold
the database's write lock for the whole export; there the files are read without
one, and a record written during the export may or may not be in it.
"""

import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.actions.fhir import fhir_export_record
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
from records.fhir.common import People, Resource, to_json
from records.models import Patient
from records.permissions import can

CHUNK = 500
FHIR_VERSION = "4.0.1"
EXPORT_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{8}$")

# The resource types of an export, in the order of the manifest.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "Encounter",
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "AdverseEvent",
    "QuestionnaireResponse",
    "Provenance",
    "DocumentReference",
    "AuditEvent",
    "CodeSystem",
)


@dataclass(frozen=True)
class ExportOptions:
    """What to export: the whole clinic, or one patient (`patient_mrn`); everything, or since a day.

    `since`: the sessions scheduled on or after that day (clinic time zone) and
    everything charted in them, the outcomes reported and intake assessments saved
    since, the audit events since, and the patients these concern or whose
    demographics changed since. The local code systems always; practitioners: all of
    the clinic's clinicians, or for one patient those named in the patient's records.
    `audit`: include the audit log (AuditEvent.ndjson).
    """

    patient_mrn: str = ""
    since: date | None = None
    audit: bool = True

    def describe(self) -> str:
        parts = [f"patient {self.patient_mrn}" if self.patient_mrn else "whole clinic"]
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if not self.audit:
            parts.append("without the audit log")
        return ", ".join(parts)


@dataclass
class ExportResult:
    output_dir: Path
    transaction_time: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def manifest_path(self) -> Path:
        return self.output_dir / "manifest.json"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Scope:
    """Filters every source by the export's options. Empty: the whole clinic."""

    patient_id: int | None = None
    since: datetime | None = None
    since_day: date | None = None

    def filter(self, queryset: QuerySet[Any], *, patient: str, since: str | None, since_day: bool = False) -> Any:
        if self.patient_id is not None:
            queryset = queryset.filter(**{patient: self.patient_id})
        if self.since is not None and since is not None:
            queryset = queryset.filter(**{f"{since}__gte": self.since_day if since_day else self.since})
        return queryset


def _rows(queryset: QuerySet[Any]) -> Iterator[Any]:
    return queryset.iterator(chunk_size=CHUNK)


def _chunks(queryset: QuerySet[Any]) -> Iterator[list[Any]]:
    """The rows in lists of CHUNK, for the sources that read related rows one batch at a time."""
    batch: list[Any] = []
    for row in _rows(queryset):
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _patients(scope: Scope, people: People) -> Iterator[Resource]:
    patients = patient.patients()
    if scope.patient_id is not None:
        patients = patients.filter(pk=scope.patient_id)
    if scope.since is not None:
        changed = (
            Q(updated_at__gte=scope.since)
            | Q(sessions__scheduled_at__gte=scope.since)
            | Q(outcome_reports__reported_on__gte=scope.since_day)
        )
        patients = patients.filter(pk__in=Patient.objects.filter(changed).values("pk"))
    for row in _rows(patients):
        yield patient.patient_resource(row)


def _practitioners(scope: Scope, people: People) -> Iterator[Resource]:
    for user in _rows(practitioner.practitioners(scope.patient_id)):
        yield practitioner.practitioner_resource(user)


def _encounters(scope: Scope, people: People) -> Iterator[Resource]:
    sessions = scope.filter(encounter.sessions(), patient="patient_id", since="scheduled_at")
    for session in _rows(sessions):
        yield encounter.encounter_resource(session, people)


def _observations(scope: Scope, people: People) -> Iterator[Resource]:
    readings = scope.filter(observation.readings(), patient="session__patient_id", since="session__scheduled_at")
    for reading in _rows(readings):
        yield from observation.vitals_observations(reading, people)
    reports = scope.filter(observation.outcome_reports(), patient="patient_id", since="reported_on", since_day=True)
    for report in _rows(reports):
        yield from observation.outcome_observations(report, people)


def _medication_requests(scope: Scope, people: People) -> Iterator[Resource]:
    orders = scope.filter(medication_request.orders(), patient="session__patient_id", since="session__scheduled_at")
    for order in _rows(orders):
        yield medication_request.medication_request_resource(order, people)


def _medication_administrations(scope: Scope, people: People) -> Iterator[Resource]:
    ma = medication_administration
    rows = scope.filter(ma.administrations(), patient="session__patient_id", since="session__scheduled_at")
    for chunk in _chunks(rows):
        events = ma.events_by_administration(row.pk for row in chunk)
        for row in chunk:
            yield ma.medication_administration_resource(row, people, events[row.pk])


def _adverse_events(scope: Scope, people: People) -> Iterator[Resource]:
    rows = scope.filter(adverse_event.side_effects(), patient="session__patient_id", since="session__scheduled_at")
    for row in _rows(rows):
        yield adverse_event.adverse_event_resource(row, people)


def _questionnaire_responses(scope: Scope, people: People) -> Iterator[Resource]:
    qr = questionnaire_response
    screenings = scope.filter(qr.screenings(), patient="session__patient_id", since="session__scheduled_at")
    for screening in _rows(screenings):
        yield qr.screening_response(screening, people)
    reports = scope.filter(observation.outcome_reports(), patient="patient_id", since="reported_on", since_day=True)
    for report in _rows(reports):
        yield qr.outcome_response(report, people)
    for intake in _rows(scope.filter(qr.intakes(), patient="patient_id", since="updated_at")):
        yield qr.intake_response(intake, people)


def _provenances(scope: Scope, people: People) -> Iterator[Resource]:
    sessions = scope.filter(provenance.signed_sessions(), patient="patient_id", since="scheduled_at")
    for session in _rows(sessions):
        yield from provenance.session_signatures(session, people)
    orders = scope.filter(provenance.cosigned_orders(), patient="session__patient_id", since="session__scheduled_at")
    for order in _rows(orders):
        yield provenance.order_cosignature(order, people)
    addenda = scope.filter(provenance.addenda(), patient="session__patient_id", since="session__scheduled_at")
    for addendum in _rows(addenda):
        yield provenance.addendum_provenance(addendum, people)


def _document_references(scope: Scope, people: People) -> Iterator[Resource]:
    addenda = scope.filter(document_reference.addenda(), patient="session__patient_id", since="session__scheduled_at")
    for addendum in _rows(addenda):
        yield document_reference.addendum_document(addendum, people)


def _audit_events(scope: Scope, people: People) -> Iterator[Resource]:
    for event in _rows(scope.filter(audit_event.audit_events(), patient="patient_id", since="occurred_at")):
        yield audit_event.audit_event_resource(event)


def _code_systems(scope: Scope, people: People) -> Iterator[Resource]:
    yield from code_system.code_systems()


SOURCES: dict[str, Callable[[Scope, People], Iterator[Resource]]] = {
    "Patient": _patients,
    "Practitioner": _practitioners,
    "Encounter": _encounters,
    "Observation": _observations,
    "MedicationRequest": _medication_requests,
    "MedicationAdministration": _medication_administrations,
    "AdverseEvent": _adverse_events,
    "QuestionnaireResponse": _questionnaire_responses,
    "Provenance": _provenances,
    "DocumentReference": _document_references,
    "AuditEvent": _audit_events,
    "CodeSystem": _code_systems,
}


def patient_resources(patient_id: int, people: People | None = None) -> Iterator[Resource]:
    """Everything recorded about one patient (not the audit log), in resource-type order; for the patient's Bundle."""
    people = people or People()
    scope = Scope(patient_id=patient_id)
    for resource_type in RESOURCE_TYPES:
        if resource_type in ("Practitioner", "AuditEvent", "CodeSystem"):
            continue
        yield from SOURCES[resource_type](scope, people)


@contextmanager
def read_snapshot() -> Iterator[None]:
    """One consistent snapshot for the whole export on PostgreSQL (see the module's docstring)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _may_export(actor: Actor) -> None:
    if actor.is_system:
        return
    if can(actor.user, "export_fhir"):
        return
    raise ActionRefused("Only an admin may export the clinic's records.")


def _write(path: Path, resources: Iterable[Resource]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for resource in resources:
            out.write(to_json(resource))
            out.write("\n")
            count += 1
    if count == 0:
        path.unlink()
    return count


def fhir_export(actor: Actor, options: ExportOptions, output_dir: Path, *, request_url: str = "") -> ExportResult:
    """Write the export into `output_dir` (created; must not hold an export already) and audit it.

    Admins (export_fhir), or a command run on the server (a system actor). The
    export is recorded as a disclosure (kind `export`) once its files are written,
    with the counts per resource type and, for one patient, that patient.
    """
    _may_export(actor)
    target: Patient | None = None
    if options.patient_mrn:
        target = Patient.objects.filter(mrn=options.patient_mrn).first()
        if target is None:
            raise ActionRefused(f"No patient has the MRN {options.patient_mrn}.")
    since = datetime.combine(options.since, time.min, tzinfo=timezone.get_current_timezone()) if options.since else None
    scope = Scope(patient_id=target.pk if target else None, since=since, since_day=options.since)
    output_dir.mkdir(parents=True, exist_ok=True)
    if (output_dir / "manifest.json").exists():
        raise ActionRefused(f"{output_dir} already holds an export; choose an empty directory.")
    result = ExportResult(output_dir=output_dir, transaction_time=timezone.now())
    people = People()
    with read_snapshot():
        for resource_type in RESOURCE_TYPES:
            if resource_type == "AuditEvent" and not options.audit:
                continue
            count = _write(output_dir / f"{resource_type}.ndjson", SOURCES[resource_type](scope, people))
            if count:
                result.counts[resource_type] = count
    manifest = {
        "transactionTime": result.transaction_time.isoformat(),
        "request": request_url or f"export_fhir ({options.describe()})",
        "requiresAccessToken": False,
        "output": [
            {"type": resource_type, "url": f"{resource_type}.ndjson", "count": count}
            for resource_type, count in result.counts.items()
        ],
        "error": [],
        "extension": {
            "fhirVersion": FHIR_VERSION,
            "patient": options.patient_mrn or None,
            "since": options.since.isoformat() if options.since else None,
            "auditLog": options.audit,
        },
    }
    result.manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    fhir_export_record(
        actor=actor,
        patient=target,
        description=f"FHIR bulk export ({options.describe()}) to {output_dir.name}",
        counts=result.counts,
    )
    return result


def export_zip(output_dir: Path) -> Path:
    """A zip of the export's files (NDJSON and manifest) beside its directory; written file by file."""
    archive = output_dir.with_suffix(".zip")
    partial = output_dir.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(output_dir.iterdir()):
            zipped.write(path, arcname=f"{output_dir.name}/{path.name}")
    partial.replace(archive)
    return archive
