"""Observation: each vitals reading in the FHIR vital-signs shape, and the outcome totals the patient reported.

One flowsheet row holds several measurements; each becomes its own Observation,
named `vitals-<row>-<kind>` (the blood pressure is one panel with its systolic and
diastolic components). A reading marked entered in error is exported with status
`entered-in-error` and the reason, never dropped. The outcome totals are
`outcome-<report>-<kind>`, derived from the report's QuestionnaireResponse.
"""

import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, day, instant, prune, ref
from records.models import OutcomeReport, VitalsReading
from records.models.vitals import CADSS6_ITEMS

RESOURCE_TYPE = "Observation"
ID_PATTERN = re.compile(r"^(vitals|outcome)-([1-9][0-9]{0,17})-([a-z0-9-]+)$")

CATEGORY_VITALS = {"coding": [codes.coding(codes.OBSERVATION_CATEGORY, codes.VITAL_SIGNS, "Vital Signs")]}
CATEGORY_SURVEY = {"coding": [codes.coding(codes.OBSERVATION_CATEGORY, codes.SURVEY, "Survey")]}
UNIT_DISPLAY = {"mm[Hg]": "mmHg", "/min": "/min", "%": "%", "Cel": "Cel", "kg": "kg", "{score}": "{score}"}

# Kinds of vitals Observation, in flowsheet order: key -> (category, LOINC or local codes)
VITALS_KEYS = ("bp", *(v.key for v in codes.VITALS), "pain", "rass", "moaas", "dissociation", "cadss6")
OUTCOME_KEYS = ("headache-days", "midas", "hit6")


def _key_codes() -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """Each kind of Observation: its category and its codes as (system, code), for searching by them."""
    table: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
        "bp": (codes.VITAL_SIGNS, ((codes.LOINC, codes.BP_PANEL[0]),)),
        "pain": (codes.VITAL_SIGNS, ((codes.LOINC, codes.PAIN[0]),)),
        "rass": (codes.SURVEY, ((codes.OBSERVATION_CODES, "rass"),)),
        "dissociation": (codes.SURVEY, ((codes.OBSERVATION_CODES, "dissociation"),)),
        "moaas": (codes.SURVEY, ((codes.OBSERVATION_CODES, "moaas"),)),
        "cadss6": (codes.SURVEY, ((codes.OBSERVATION_CODES, "cadss6"),)),
        "headache-days": (codes.SURVEY, ((codes.OBSERVATION_CODES, "headache-days"),)),
        "midas": (codes.SURVEY, ((codes.OBSERVATION_CODES, "midas-total"),)),
        "hit6": (codes.SURVEY, ((codes.OBSERVATION_CODES, "hit6-total"),)),
    }
    for vital in codes.VITALS:
        table[vital.key] = (codes.VITAL_SIGNS, tuple((codes.LOINC, code) for code, _ in vital.codes))
    return table


KEY_CODES = _key_codes()


class ObservationId(NamedTuple):
    source: str  # "vitals" or "outcome"
    pk: int
    key: str


def parse_id(resource_id: str) -> ObservationId | None:
    match = ID_PATTERN.match(resource_id)
    if match is None:
        return None
    source, pk, key = match.group(1), int(match.group(2)), match.group(3)
    if key not in (VITALS_KEYS if source == "vitals" else OUTCOME_KEYS):
        return None
    return ObservationId(source, pk, key)


def readings() -> QuerySet[VitalsReading]:
    return VitalsReading.objects.select_related("session").order_by("pk")


def outcome_reports() -> QuerySet[OutcomeReport]:
    return OutcomeReport.objects.order_by("pk")


def quantity(value: Any, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": UNIT_DISPLAY[ucum], "system": codes.UCUM, "code": ucum}


def _loinc(pairs: tuple[tuple[str, str], ...], text: str) -> dict[str, Any]:
    return {"coding": [codes.coding(codes.LOINC, code, display) for code, display in pairs], "text": text}


def _local(code: str) -> dict[str, Any]:
    coding = codes.local_coding("observation", code)
    return {"coding": [coding], "text": coding["display"]}


def vitals_keys(reading: VitalsReading) -> list[str]:
    """The kinds of Observation a reading holds: one per value that was entered."""
    keys = ["bp"] if reading.systolic is not None else []
    keys += [v.key for v in codes.VITALS if getattr(reading, v.field) is not None]
    if reading.pain is not None:
        keys.append("pain")
    if reading.sedation_rass is not None:
        keys.append("rass")
    if reading.moaas is not None:
        keys.append("moaas")
    if reading.dissociation:
        keys.append("dissociation")
    if reading.cadss6_total is not None:
        keys.append("cadss6")
    return keys


def _vitals_notes(reading: VitalsReading, people: People) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = []
    if reading.note:
        notes.append({"authorReference": people.ref(reading.entered_by_id), "text": reading.note})
    if reading.entered_in_error_at is not None:
        notes.append(
            {
                "authorReference": people.ref(reading.entered_in_error_by_id),
                "time": instant(reading.entered_in_error_at),
                "text": f"Entered in error: {reading.entered_in_error_reason}",
            }
        )
    return notes


def vitals_observation(reading: VitalsReading, key: str, people: People) -> Resource:
    """One measurement of a flowsheet row. The row's session must be loaded (select_related)."""
    session = reading.session
    resource: Resource = {
        "resourceType": RESOURCE_TYPE,
        "id": f"vitals-{reading.pk}-{key}",
        "extension": [{"url": codes.EXT_VITALS_PHASE, "valueCode": reading.phase}],
        "status": "entered-in-error" if reading.entered_in_error_at is not None else "final",
        "category": [CATEGORY_VITALS],
        "subject": ref("Patient", session.patient_id),
        "encounter": ref("Encounter", session.pk),
        "effectiveDateTime": instant(reading.measured_at),
        "issued": instant(reading.entered_at),
        "performer": [people.ref(reading.entered_by_id)],
        "note": _vitals_notes(reading, people),
    }
    if key == "bp":
        resource["meta"] = {"profile": [codes.VITALS_PROFILE_BASE + codes.BP_PROFILE]}
        resource["code"] = _loinc((codes.BP_PANEL,), "Blood pressure")
        resource["component"] = [
            {"code": _loinc((codes.SYSTOLIC,), "Systolic"), "valueQuantity": quantity(reading.systolic, codes.MMHG)},
            {"code": _loinc((codes.DIASTOLIC,), "Diastolic"), "valueQuantity": quantity(reading.diastolic, codes.MMHG)},
        ]
    elif key == "pain":
        resource["code"] = _loinc((codes.PAIN,), "Pain (0-10)")
        resource["valueQuantity"] = quantity(reading.pain, codes.SCORE_UNIT)
    elif key == "rass":
        resource["category"] = [CATEGORY_SURVEY]
        resource["code"] = _local("rass")
        resource["valueInteger"] = reading.sedation_rass
    elif key == "dissociation":
        resource["category"] = [CATEGORY_SURVEY]
        resource["code"] = _local("dissociation")
        level = codes.local_coding("dissociation-level", reading.dissociation)
        resource["valueCodeableConcept"] = {"coding": [level], "text": level.get("display", reading.dissociation)}
    elif key == "moaas":
        resource["category"] = [CATEGORY_SURVEY]
        resource["code"] = _local("moaas")
        resource["valueInteger"] = reading.moaas
    elif key == "cadss6":
        # The six items as the nurse scored them; no total is computed for the export.
        resource["category"] = [CATEGORY_SURVEY]
        resource["code"] = _local("cadss6")
        resource["component"] = [
            {"code": _local(item.replace("_", "-")), "valueInteger": getattr(reading, item)} for item in CADSS6_ITEMS
        ]
    else:
        vital = next(v for v in codes.VITALS if v.key == key)
        resource["meta"] = {"profile": [codes.VITALS_PROFILE_BASE + vital.profile]}
        resource["code"] = _loinc(vital.codes, vital.codes[0][1])
        # Integers stay integers; temperature and weight keep their stored digits (37.0 stays 37.0).
        resource["valueQuantity"] = quantity(getattr(reading, vital.field), vital.ucum)
    return prune(resource)


def vitals_observations(reading: VitalsReading, people: People) -> Iterator[Resource]:
    for key in vitals_keys(reading):
        yield vitals_observation(reading, key, people)


def outcome_keys(report: OutcomeReport) -> list[str]:
    keys = ["headache-days"]
    if report.midas_total is not None:
        keys.append("midas")
    if report.hit6_total is not None:
        keys.append("hit6")
    return keys


def outcome_observation(report: OutcomeReport, key: str, people: People) -> Resource:
    """A total the patient reported (headache days, MIDAS, HIT-6), as recorded; derived from its report."""
    value, effective, code = {
        "headache-days": (report.headache_days, report.reported_on, "headache-days"),
        "midas": (report.midas_total, report.midas_completed_on, "midas-total"),
        "hit6": (report.hit6_total, report.hit6_completed_on, "hit6-total"),
    }[key]
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"outcome-{report.pk}-{key}",
            "status": "final",
            "category": [CATEGORY_SURVEY],
            "code": _local(code),
            "subject": ref("Patient", report.patient_id),
            "encounter": ref("Encounter", report.session_id) if report.session_id else None,
            "effectiveDateTime": day(effective) if effective else None,
            "issued": instant(report.recorded_at),
            # Patient-reported: the patient is the source; the account that recorded it is on the report.
            "performer": [ref("Patient", report.patient_id)],
            "valueInteger": value,
            "derivedFrom": [ref("QuestionnaireResponse", f"outcome-{report.pk}")],
        }
    )


def outcome_observations(report: OutcomeReport, people: People) -> Iterator[Resource]:
    for key in outcome_keys(report):
        yield outcome_observation(report, key, people)
