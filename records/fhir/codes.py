"""The code systems, codes and units the FHIR form uses: one table each, the only place they are spelt.

Standard codes come from LOINC (vital signs), UCUM (units) and HL7's own code
systems. What the product records that no standard codes (the sedation and
dissociation scores, the outcome totals, the screening's answers, routes, kinds of
side effect) has a local CodeSystem, declared in every export (CodeSystem.ndjson)
and at /fhir/CodeSystem/<id>.

Nothing here converts a value: a code names what was measured or written; the
value stays as it was entered.
"""

from typing import NamedTuple

from django.conf import settings

from records.doses import DoseUnit
from records.models import (
    Answer,
    Dissociation,
    ExitKind,
    Pregnancy,
    ReceivedAs,
    Route,
    ScreeningDecision,
    ScreeningOutcome,
    SideEffectKind,
)

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction"
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
AUDIT_ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
SECURITY_ROLE_TYPE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
SECURITY_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"

# The product's own namespace for its code systems, questionnaires and extensions.
# Logical names (URNs): the same in every clinic that runs the product.
PRODUCT = "urn:clinic-records:fhir"


def local(kind: str, name: str) -> str:
    return f"{PRODUCT}:{kind}:{name}"


def mrn_system() -> str:
    """The system of the clinic's medical record numbers (a clinic setting: FHIR_MRN_SYSTEM)."""
    return str(settings.FHIR_MRN_SYSTEM)


USERNAME_SYSTEM = local("identifier", "username")


# Vital signs ---------------------------------------------------------------------


class VitalCode(NamedTuple):
    """One kind of vital-sign Observation: its id suffix, LOINC code(s), unit and profile."""

    key: str  # the Observation id suffix: vitals-<reading>-<key>
    field: str  # the VitalsReading field
    codes: tuple[tuple[str, str], ...]  # (LOINC code, display), the first is the primary
    ucum: str
    unit: str  # the unit as shown to people
    profile: str


VITAL_SIGNS = "vital-signs"
SURVEY = "survey"

BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
MMHG = "mm[Hg]"
PER_MIN = "/min"

# Every numeric vital of the flowsheet, in flowsheet order. The blood pressure is one
# panel Observation with two components (systolic and diastolic), not two Observations.
VITALS: tuple[VitalCode, ...] = (
    VitalCode("heart-rate", "heart_rate", (("8867-4", "Heart rate"),), PER_MIN, "/min", "heartrate"),
    VitalCode(
        "spo2",
        "spo2",
        # US Core's pulse-oximetry profile asks for both codes.
        (
            ("2708-6", "Oxygen saturation in Arterial blood"),
            ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        ),
        "%",
        "%",
        "oxygensat",
    ),
    VitalCode("resp-rate", "respiratory_rate", (("9279-1", "Respiratory rate"),), PER_MIN, "/min", "resprate"),
    VitalCode("temperature", "temperature", (("8310-5", "Body temperature"),), "Cel", "Cel", "bodytemp"),
    VitalCode("weight", "weight_kg", (("29463-7", "Body weight"),), "kg", "kg", "bodyweight"),
)
BP_PROFILE = "bp"
VITALS_PROFILE_BASE = "http://hl7.org/fhir/StructureDefinition/"

PAIN = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
SCORE_UNIT = "{score}"

# Local observation codes: what the product records and LOINC is not asked to name here.
OBSERVATION_CODES = local("CodeSystem", "observation")
OBSERVATION_CONCEPTS: dict[str, str] = {
    "rass": "Sedation: Richmond Agitation-Sedation Scale score (-5 to +4), as charted",
    "dissociation": "Dissociation, as rated by the nurse (none, mild, moderate, severe)",
    "moaas": "Sedation: Modified Observer's Assessment of Alertness/Sedation score (0 to 5), as charted",
    "cadss6": "Dissociation: CADSS-6, the six items as charted (each 0 to 4)",
    **{f"cadss-{n}": f"CADSS item {n}, as charted (0 to 4)" for n in (1, 2, 6, 7, 15, 22)},
    "headache-days": "Headache days in the last 30 days, as the patient reported them",
    "midas-total": "MIDAS total score, as recorded",
    "hit6-total": "HIT-6 total score, as recorded",
}
DISSOCIATION_LEVELS = local("CodeSystem", "dissociation-level")


# Orders and administrations ------------------------------------------------------

ROUTES = local("CodeSystem", "route")

# The UCUM code of each dose unit of the fixed list; the unit text stays as written
# ("mcg" is shown as mcg, its UCUM code is ug). "unit" has no UCUM code for a
# medication's own units: it is sent as written, without a code.
DOSE_UNIT_UCUM: dict[str, str | None] = {
    DoseUnit.MG: "mg",
    DoseUnit.MCG: "ug",
    DoseUnit.MG_KG: "mg/kg",
    DoseUnit.MG_KG_H: "mg/kg/h",
    DoseUnit.MG_H: "mg/h",
    DoseUnit.MCG_KG_MIN: "ug/kg/min",
    DoseUnit.ML: "mL",
    DoseUnit.ML_H: "mL/h",
    DoseUnit.UNIT: None,
}

# Extensions: where FHIR R4 has no element for what the product records.
EXT_DOSE_AS_WRITTEN = local("StructureDefinition", "dose-as-written")
EXT_RATE_AS_WRITTEN = local("StructureDefinition", "rate-as-written")
EXT_READ_BACK = local("StructureDefinition", "read-back-confirmed")
EXT_RECEIVED_AS = local("StructureDefinition", "order-received-as")
EXT_COSIGN_DUE = local("StructureDefinition", "cosignature-due")
EXT_LOT_NUMBER = local("StructureDefinition", "lot-number")
EXT_PLANNED_ROUTE = local("StructureDefinition", "planned-route")
EXT_EXIT = local("StructureDefinition", "session-exit")
EXT_ACTION_TAKEN = local("StructureDefinition", "action-taken")
EXT_RESOLVED_AT = local("StructureDefinition", "resolved-at")
EXT_ALLERGIES = local("StructureDefinition", "allergies-as-recorded")
EXT_VITALS_PHASE = local("StructureDefinition", "vitals-phase")
EXT_SCHEDULED_AT = local("StructureDefinition", "scheduled-at")

RECEIVED_AS = local("CodeSystem", "order-received-as")


# Side effects --------------------------------------------------------------------

SIDE_EFFECTS = local("CodeSystem", "side-effect")


# Questionnaires ------------------------------------------------------------------

ANSWERS = local("CodeSystem", "answer")
PREGNANCY = local("CodeSystem", "pregnancy-status")
SCREENING_OUTCOMES = local("CodeSystem", "screening-outcome")
SCREENING_DECISIONS = local("CodeSystem", "screening-decision")
SESSION_EXITS = local("CodeSystem", "session-exit")

SCREENING_QUESTIONNAIRE = local("Questionnaire", "contraindication-screening")
OUTCOME_QUESTIONNAIRE = local("Questionnaire", "migraine-outcomes")
INTAKE_QUESTIONNAIRE = local("Questionnaire", "intake-assessment")


# Signatures ----------------------------------------------------------------------


class SignatureMeaning(NamedTuple):
    code: str  # ISO/ASTM E1762-95 signature type
    display: str
    participant: str  # provenance-participant-type
    meaning: str  # the meaning as shown beside the signature


AUTHOR_SIGNATURE = SignatureMeaning("1.2.840.10065.1.12.1.1", "Author's Signature", "author", "charted by")
VERIFICATION_SIGNATURE = SignatureMeaning("1.2.840.10065.1.12.1.5", "Verification Signature", "verifier", "reviewed by")
ORDER_COSIGNATURE = SignatureMeaning(
    "1.2.840.10065.1.12.1.5", "Verification Signature", "verifier", "order confirmed by the ordering physician"
)


# The local code systems, declared in the export ----------------------------------


def _choices(choices: list[tuple[str, str]]) -> dict[str, str]:
    return {str(code): str(label) for code, label in choices if code}


LOCAL_CODE_SYSTEMS: dict[str, tuple[str, str, dict[str, str]]] = {
    # id: (url, title, {code: display})
    "observation": (OBSERVATION_CODES, "Clinic records: observation codes", OBSERVATION_CONCEPTS),
    "dissociation-level": (DISSOCIATION_LEVELS, "Dissociation, nurse's rating", _choices(Dissociation.choices)),
    "route": (ROUTES, "Route of administration as ordered", _choices(Route.choices)),
    "order-received-as": (RECEIVED_AS, "How an order was received", _choices(ReceivedAs.choices)),
    "side-effect": (SIDE_EFFECTS, "Kinds of side effect", _choices(SideEffectKind.choices)),
    "answer": (ANSWERS, "Screening answers (unknown is an answer, not no)", _choices(Answer.choices)),
    "pregnancy-status": (PREGNANCY, "Pregnancy status at screening", _choices(Pregnancy.choices)),
    "screening-outcome": (SCREENING_OUTCOMES, "Outcome of the screening", _choices(ScreeningOutcome.choices)),
    "screening-decision": (
        SCREENING_DECISIONS,
        "Physician's decision on a held screening",
        _choices(ScreeningDecision.choices),
    ),
    "session-exit": (SESSION_EXITS, "How a session left the usual path", _choices(ExitKind.choices)),
}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def local_coding(system_id: str, code: str) -> dict[str, str]:
    """A coding of one of the local code systems, with its display from the table."""
    url, _, concepts = LOCAL_CODE_SYSTEMS[system_id]
    return coding(url, code, concepts.get(code))
