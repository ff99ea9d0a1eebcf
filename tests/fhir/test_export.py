"""The FHIR bulk export over the full demo data: every resource parses (R4B), the counts round-trip, the codes hold."""

import io
import json
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from records.actions.context import ActionRefused, Actor
from records.fhir import codes
from records.fhir.export import RESOURCE_TYPES, ExportOptions, fhir_export
from records.models import (
    Addendum,
    Administration,
    AuditEvent,
    IntakeAssessment,
    Order,
    OutcomeReport,
    Patient,
    Screening,
    Session,
    SideEffect,
    VitalsReading,
)
from records.permissions import Role
from tests.conftest import clinic_day_clock
from tests.fhir.conftest import validate


def database_counts(*, audit_events: int) -> dict[str, int]:
    """What the database holds, counted without the export's code: the expected number of each resource."""
    readings = VitalsReading.objects
    observations = (
        readings.filter(systolic__isnull=False).count()
        + sum(
            readings.filter(**{f"{field}__isnull": False}).count()
            for field in (
                "heart_rate",
                "spo2",
                "respiratory_rate",
                "temperature",
                "weight_kg",
                "pain",
                "sedation_rass",
                "moaas",
            )
        )
        + readings.exclude(dissociation="").count()
        + readings.filter(cadss_1__isnull=False).count()
        + OutcomeReport.objects.count()
        + OutcomeReport.objects.filter(midas_total__isnull=False).count()
        + OutcomeReport.objects.filter(hit6_total__isnull=False).count()
    )
    from records.models import User

    clinicians = User.objects.filter(groups__name__in=[Role.NURSE.value, Role.PHYSICIAN.value]).distinct().count()
    counts = {
        "Patient": Patient.objects.count(),
        "Practitioner": clinicians,
        "Encounter": Session.objects.count(),
        "Observation": observations,
        "MedicationRequest": Order.objects.count(),
        "MedicationAdministration": Administration.objects.count(),
        "AdverseEvent": SideEffect.objects.count(),
        "QuestionnaireResponse": Screening.objects.count()
        + OutcomeReport.objects.count()
        + IntakeAssessment.objects.count(),
        "Provenance": Session.objects.filter(signed_at__isnull=False).count()
        + Session.objects.filter(cosigned_at__isnull=False).count()
        + Order.objects.filter(cosigned_at__isnull=False).count()
        + Addendum.objects.count(),
        "DocumentReference": Addendum.objects.count(),
        "AuditEvent": audit_events,
        "CodeSystem": len(codes.LOCAL_CODE_SYSTEMS) + 1,  # and the audit kinds
    }
    return {k: v for k, v in counts.items() if v}


@pytest.fixture(scope="module")
def demo_export(django_db_setup, django_db_blocker, tmp_path_factory):
    """The full demo data, exported once for the module; the database is rolled back afterwards.

    Yields the export's directory, its result, what the database held (counts and
    a few facts the tests compare with), all read before the rollback.
    """
    output = tmp_path_factory.mktemp("fhir") / "export"
    with (
        django_db_blocker.unblock(),
        override_settings(DEMO_MODE=True),
        clinic_day_clock(),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=io.StringIO())
        audit_before = AuditEvent.objects.count()
        result = fhir_export(Actor.system("tests"), ExportOptions(), output)
        facts = {
            "counts": database_counts(audit_events=audit_before),
            "doses": {str(o.pk): (o.dose_value, o.dose_unit, o.order_text, o.received_as) for o in Order.objects.all()},
            "amounts": {str(a.pk): (a.amount_given_value, a.amount_given_unit) for a in Administration.objects.all()},
            "in_error": sorted(
                VitalsReading.objects.filter(entered_in_error_at__isnull=False).values_list("pk", flat=True)
            ),
            "export_audited": AuditEvent.objects.filter(action="export", record_type="fhir_export").count(),
            "signed": {s.pk: (s.signed_name, s.cosigned_name) for s in Session.objects.filter(signed_at__isnull=False)},
        }
        transaction.set_rollback(True)
    resources = defaultdict(list)
    for path in sorted(output.glob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            resources[path.stem].append(line)
    return {"dir": output, "result": result, "facts": facts, "lines": resources}


def parsed(demo_export, resource_type):
    return [json.loads(line, parse_float=Decimal) for line in demo_export["lines"][resource_type]]


def test_every_exported_resource_parses_with_the_r4b_models(demo_export):
    checked = Counter()
    for resource_type, lines in demo_export["lines"].items():
        for line in lines:
            resource = json.loads(line)
            assert resource["resourceType"] == resource_type  # one type per file, named after it
            validate(resource)
            checked[resource_type] += 1
    # The demo data exercises every resource type the export writes.
    assert set(checked) == set(RESOURCE_TYPES)


def test_round_trip_counts_per_resource_type_equal_the_database(demo_export):
    counts_in_files = {t: len(lines) for t, lines in demo_export["lines"].items()}
    assert counts_in_files == demo_export["facts"]["counts"]
    manifest = json.loads((demo_export["dir"] / "manifest.json").read_text())
    assert {o["type"]: o["count"] for o in manifest["output"]} == counts_in_files
    assert {o["url"] for o in manifest["output"]} == {f"{t}.ndjson" for t in counts_in_files}
    assert demo_export["facts"]["export_audited"] == 1


def test_ids_are_unique_and_every_reference_resolves_within_the_export(demo_export):
    present = set()
    for resource_type in demo_export["lines"]:
        for resource in parsed(demo_export, resource_type):
            key = f"{resource_type}/{resource['id']}"
            assert key not in present
            present.add(key)

    def references(value):
        if isinstance(value, dict):
            if isinstance(value.get("reference"), str):
                yield value["reference"]
            for item in value.values():
                yield from references(item)
        elif isinstance(value, list):
            for item in value:
                yield from references(item)

    dangling = {
        ref
        for resource_type in demo_export["lines"]
        for resource in parsed(demo_export, resource_type)
        for ref in references(resource)
        if ref not in present
    }
    assert dangling == set()


def observations_by_code(demo_export):
    by_code = defaultdict(list)
    for obs in parsed(demo_export, "Observation"):
        by_code[obs["code"]["coding"][0]["code"]].append(obs)
    return by_code


VITAL_UNITS = {
    "8867-4": "/min",
    "9279-1": "/min",
    "8310-5": "Cel",
    "29463-7": "kg",
    "2708-6": "%",
    "72514-3": "{score}",
}


def test_vital_signs_follow_the_profile(demo_export):
    by_code = observations_by_code(demo_export)
    patients = {f"Patient/{p['id']}" for p in parsed(demo_export, "Patient")}
    assert by_code["85354-9"] and by_code["8867-4"] and by_code["2708-6"] and by_code["9279-1"] and by_code["72514-3"]
    for code in ("85354-9", *VITAL_UNITS):
        for obs in by_code[code]:
            assert obs["category"] == [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ]
                }
            ]
            assert obs["code"]["coding"][0]["system"] == "http://loinc.org"
            assert obs["subject"]["reference"] in patients
            assert obs["effectiveDateTime"][:4].isdigit() and "T" in obs["effectiveDateTime"]
            assert obs["issued"] >= obs["effectiveDateTime"][:10]
            assert obs["status"] in ("final", "entered-in-error")
            assert obs["performer"][0]["reference"].startswith("Practitioner/")
            if code != "85354-9":
                quantity = obs["valueQuantity"]
                assert quantity["system"] == "http://unitsofmeasure.org"
                assert quantity["code"] == VITAL_UNITS[code]
    for bp in by_code["85354-9"]:
        assert "valueQuantity" not in bp
        assert [c["code"]["coding"][0]["code"] for c in bp["component"]] == ["8480-6", "8462-4"]
        for component in bp["component"]:
            assert component["valueQuantity"]["code"] == "mm[Hg]"
            assert component["valueQuantity"]["system"] == "http://unitsofmeasure.org"
            assert isinstance(component["valueQuantity"]["value"], int)
        assert bp["meta"]["profile"] == ["http://hl7.org/fhir/StructureDefinition/bp"]


def test_pulse_oximetry_carries_both_loinc_codes(demo_export):
    spo2 = observations_by_code(demo_export)["2708-6"]
    assert spo2
    for obs in spo2:
        assert [(c["system"], c["code"]) for c in obs["code"]["coding"]] == [
            ("http://loinc.org", "2708-6"),
            ("http://loinc.org", "59408-5"),
        ]
        assert obs["valueQuantity"]["unit"] == "%" and obs["valueQuantity"]["code"] == "%"


def test_entered_in_error_readings_are_exported_with_their_status_never_dropped(demo_export):
    in_error = demo_export["facts"]["in_error"]
    assert in_error
    for pk in in_error:
        found = [o for o in parsed(demo_export, "Observation") if o["id"].startswith(f"vitals-{pk}-")]
        assert found
        for obs in found:
            assert obs["status"] == "entered-in-error"
            assert any(note["text"].startswith("Entered in error: ") for note in obs["note"])


def test_sedation_and_dissociation_use_the_local_code_system_declared_in_the_export(demo_export):
    declared = {cs["url"]: {c["code"] for c in cs["concept"]} for cs in parsed(demo_export, "CodeSystem")}
    local_codings = []

    def walk(value):
        if isinstance(value, dict):
            if isinstance(value.get("system"), str) and value["system"].startswith(codes.PRODUCT) and "code" in value:
                local_codings.append((value["system"], value["code"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for resource_type in demo_export["lines"]:
        if resource_type != "CodeSystem":
            for resource in parsed(demo_export, resource_type):
                walk(resource)
    assert (codes.OBSERVATION_CODES, "rass") in local_codings
    assert (codes.OBSERVATION_CODES, "dissociation") in local_codings
    undeclared = {(system, code) for system, code in local_codings if code not in declared.get(system, set())}
    assert undeclared == set()
    for obs in parsed(demo_export, "Observation"):
        if obs["code"]["coding"][0]["code"] in ("rass", "dissociation"):
            assert obs["category"][0]["coding"][0]["code"] == "survey"


def test_doses_stay_exactly_as_written(demo_export):
    doses = demo_export["facts"]["doses"]
    for line in demo_export["lines"]["MedicationRequest"]:
        request = json.loads(line, parse_float=Decimal)
        value, unit, order_text, received_as = doses[request["id"]]
        dosage = request["dosageInstruction"][0]
        assert dosage["text"] == order_text
        assert {"url": codes.EXT_DOSE_AS_WRITTEN, "valueString": f"{value} {unit}"} in dosage["extension"]
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        assert quantity["unit"] == unit
        # The number's digits in the JSON text are exactly the digits written.
        assert f'"doseQuantity":{{"value":{value},' in line
        assert request["reportedBoolean"] is (received_as in ("verbal", "telephone"))
    amounts = demo_export["facts"]["amounts"]
    for line in demo_export["lines"]["MedicationAdministration"]:
        administration = json.loads(line)
        value, unit = amounts[administration["id"]]
        if value:
            assert f'"dose":{{"value":{value},' in line
            assert administration["dosage"]["text"] == f"Amount given: {value} {unit}"


def test_signatures_are_provenance_with_the_printed_name_and_meaning(demo_export):
    provenances = {p["id"]: p for p in parsed(demo_export, "Provenance")}
    for pk, (signed_name, cosigned_name) in demo_export["facts"]["signed"].items():
        signature = provenances[f"session-{pk}-signature"]
        assert signature["signature"][0]["who"]["display"] == signed_name
        assert signature["activity"]["text"] == "charted by"
        assert signature["target"] == [{"reference": f"Encounter/{pk}"}]
        if cosigned_name:
            cosignature = provenances[f"session-{pk}-cosignature"]
            assert cosignature["activity"]["text"] == "reviewed by"
            assert cosignature["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.5"


def test_audit_events_name_the_patient_as_entity(demo_export):
    events = parsed(demo_export, "AuditEvent")
    creates = [e for e in events if e["action"] == "C" and e["subtype"][0]["code"] == "create"]
    assert creates and all(e["type"]["code"] == "rest" for e in creates)
    for event in events:
        assert event["agent"][0]["requestor"] is True
        seq = [d for entity in event["entity"] for d in entity.get("detail", []) if d["type"] == "seq"]
        assert len(seq) == 1
    with_patient = [e for e in events if any(ent.get("role", {}).get("code") == "1" for ent in e["entity"])]
    assert with_patient
    for event in with_patient:
        patient = next(ent for ent in event["entity"] if ent.get("role", {}).get("code") == "1")
        assert patient["what"]["reference"].startswith("Patient/")


@pytest.mark.django_db
def test_export_of_one_patient_since_a_day(tmp_path, patient, make_patient, sessions, nurse):
    from datetime import timedelta

    from django.utils import timezone

    other = make_patient()
    sessions.to(patient, "signed")
    sessions.to(other, "signed")
    result = fhir_export(Actor.system("tests"), ExportOptions(patient_mrn=patient.mrn, audit=True), tmp_path / "one")
    encounters = [json.loads(line) for line in (tmp_path / "one" / "Encounter.ndjson").read_text().splitlines()]
    assert {e["subject"]["reference"] for e in encounters} == {f"Patient/{patient.pk}"}
    patients = (tmp_path / "one" / "Patient.ndjson").read_text().splitlines()
    assert [json.loads(p)["id"] for p in patients] == [str(patient.pk)]
    events = [json.loads(line) for line in (tmp_path / "one" / "AuditEvent.ndjson").read_text().splitlines()]
    assert events and all(
        any(ent.get("what", {}).get("reference") == f"Patient/{patient.pk}" for ent in e["entity"]) for e in events
    )
    practitioners = {
        json.loads(line)["id"] for line in (tmp_path / "one" / "Practitioner.ndjson").read_text().splitlines()
    }
    assert practitioners == {str(nurse.pk), str(sessions.physician.pk)}
    audit = AuditEvent.objects.get(action="export", record_type="fhir_export")
    assert audit.patient == patient and audit.actor_role == "system"
    assert audit.changes["resources"][1] == result.counts

    tomorrow = timezone.localdate() + timedelta(days=1)
    later = fhir_export(Actor.system("tests"), ExportOptions(since=tomorrow), tmp_path / "later")
    assert "Encounter" not in later.counts and "Patient" not in later.counts
    assert set(later.counts) <= {"Practitioner", "CodeSystem"}


@pytest.mark.django_db
def test_export_is_refused_to_clinical_roles_and_for_an_unknown_patient(tmp_path, nurse, physician, admin_user):
    for user in (nurse, physician):
        with pytest.raises(ActionRefused):
            fhir_export(Actor.for_user(user), ExportOptions(), tmp_path / user.username)
    with pytest.raises(ActionRefused, match="No patient"):
        fhir_export(Actor.for_user(admin_user), ExportOptions(patient_mrn="NOPE"), tmp_path / "nope")
    fhir_export(Actor.for_user(admin_user), ExportOptions(), tmp_path / "admin")
    with pytest.raises(ActionRefused, match="already holds an export"):
        fhir_export(Actor.for_user(admin_user), ExportOptions(), tmp_path / "admin")
    assert AuditEvent.objects.filter(action="export", actor=admin_user).count() == 1


@pytest.mark.django_db
def test_export_command_writes_the_files_and_the_since_option_is_checked(tmp_path, patient, sessions, capsys):
    from django.core.management import CommandError

    sessions.to(patient, "discharged")
    call_command("export_fhir", output=str(tmp_path / "cmd"), patient=patient.mrn)
    out = capsys.readouterr().out
    assert "Encounter.ndjson" in out and (tmp_path / "cmd" / "manifest.json").exists()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_fhir", output=str(tmp_path / "bad"), since="01/02/2026")
    with pytest.raises(CommandError, match="No patient"):
        call_command("export_fhir", output=str(tmp_path / "none"), patient="UNKNOWN")
