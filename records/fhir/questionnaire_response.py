"""QuestionnaireResponse: the contraindication screening, the patient-reported outcomes, the intake assessment.

Ids: `screening-<pk>`, `outcome-<pk>`, `intake-<pk>`. The outcome totals are also
Observations (observation.py), derived from their report.
"""

import re
from typing import Any, NamedTuple

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, day, instant, prune, ref
from records.models import IntakeAssessment, OutcomeReport, Screening

RESOURCE_TYPE = "QuestionnaireResponse"
ID_PATTERN = re.compile(r"^(screening|outcome|intake)-([1-9][0-9]{0,17})$")


class ResponseId(NamedTuple):
    source: str
    pk: int


def parse_id(resource_id: str) -> ResponseId | None:
    match = ID_PATTERN.match(resource_id)
    return ResponseId(match.group(1), int(match.group(2))) if match else None


def screenings() -> QuerySet[Screening]:
    return Screening.objects.select_related("session").order_by("pk")


def intakes() -> QuerySet[IntakeAssessment]:
    return IntakeAssessment.objects.order_by("pk")


def _item(link_id: str, text: str, **answer: Any) -> dict[str, Any] | None:
    """One answered question; None (left out) when there is no answer."""
    answer = {k: v for k, v in answer.items() if v not in (None, "")}
    if not answer:
        return None
    return {"linkId": link_id, "text": text, "answer": [answer]}


SCREENING_QUESTIONS = (
    ("hypertension_history", "hypertension-history", "History of hypertension"),
    (
        "hypertension_uncontrolled",
        "hypertension-uncontrolled",
        "Uncontrolled hypertension in the clinician's judgement",
    ),
    ("psychosis_history", "psychosis-history", "History of psychosis"),
    ("psychosis_current", "psychosis-current", "Current psychotic symptoms"),
)


def screening_response(screening: Screening, people: People) -> Resource:
    session = screening.session
    items: list[dict[str, Any] | None] = [
        _item(
            "bp",
            "Blood pressure now",
            valueReference=ref("Observation", f"vitals-{screening.bp_reading_id}-bp"),
        ),
        *(
            _item(link, text, valueCoding=codes.local_coding("answer", getattr(screening, field)))
            for field, link, text in SCREENING_QUESTIONS
        ),
        _item("pregnancy", "Pregnancy", valueCoding=codes.local_coding("pregnancy-status", screening.pregnancy)),
        _item("pregnancy-note", "Test result, or why a test does not apply", valueString=screening.pregnancy_note),
        _item(
            "bp-hold-systolic", "Clinic's hold threshold then: systolic (mmHg)", valueInteger=screening.bp_hold_systolic
        ),
        _item(
            "bp-hold-diastolic",
            "Clinic's hold threshold then: diastolic (mmHg)",
            valueInteger=screening.bp_hold_diastolic,
        ),
        _item("outcome", "Outcome", valueCoding=codes.local_coding("screening-outcome", screening.outcome)),
    ]
    if screening.decision:
        items += [
            _item(
                "decision",
                "Physician's decision",
                valueCoding=codes.local_coding("screening-decision", screening.decision),
            ),
            _item("decision-reason", "Physician's reason", valueString=screening.decision_reason),
            _item("decided-by", "Decided by", valueReference=people.ref(screening.decided_by_id)),
            _item(
                "decided-at",
                "Decided at",
                valueDateTime=instant(screening.decided_at) if screening.decided_at else None,
            ),
        ]
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"screening-{screening.pk}",
            "questionnaire": codes.SCREENING_QUESTIONNAIRE,
            "status": "completed",
            "subject": ref("Patient", session.patient_id),
            "encounter": ref("Encounter", session.pk),
            "authored": instant(screening.screened_at),
            "author": people.ref(screening.screened_by_id),
            "item": items,
        }
    )


def outcome_response(report: OutcomeReport, people: People) -> Resource:
    def on(value: Any) -> str | None:
        return day(value) if value else None

    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"outcome-{report.pk}",
            "questionnaire": codes.OUTCOME_QUESTIONNAIRE,
            "status": "completed",
            "subject": ref("Patient", report.patient_id),
            "encounter": ref("Encounter", report.session_id) if report.session_id else None,
            "authored": instant(report.recorded_at),
            "author": people.ref(report.recorded_by_id),
            "source": ref("Patient", report.patient_id),
            "item": [
                _item("reported-on", "Reported on", valueDate=on(report.reported_on)),
                _item("headache-days", "Headache days in the last 30 days", valueInteger=report.headache_days),
                _item("midas-total", "MIDAS total", valueInteger=report.midas_total),
                _item("midas-completed-on", "MIDAS completed on", valueDate=on(report.midas_completed_on)),
                _item("hit6-total", "HIT-6 total", valueInteger=report.hit6_total),
                _item("hit6-completed-on", "HIT-6 completed on", valueDate=on(report.hit6_completed_on)),
                _item("note", "Note", valueString=report.note),
            ],
        }
    )


def intake_response(intake: IntakeAssessment, people: People) -> Resource:
    """The current version of the physician's intake assessment (`amended` once revised)."""
    treatments = [
        {
            "linkId": "treatment",
            "text": "Preventive treatment tried",
            "item": [
                _item("treatment-name", "Treatment", valueString=t.get("name", "")),
                _item("treatment-why-stopped", "Why stopped", valueString=t.get("why_stopped", "")),
            ],
        }
        for t in intake.preventive_treatments
    ]
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"intake-{intake.pk}",
            "meta": {"versionId": str(intake.version)},
            "questionnaire": codes.INTAKE_QUESTIONNAIRE,
            "status": "amended" if intake.version > 1 else "completed",
            "subject": ref("Patient", intake.patient_id),
            "authored": instant(intake.updated_at),
            "author": people.ref(intake.updated_by_id),
            "item": [
                _item("diagnosis", "Diagnosis", valueString=intake.diagnosis),
                _item(
                    "baseline-headache-days",
                    "Baseline headache days per month",
                    valueInteger=intake.baseline_headache_days,
                ),
                {"linkId": "preventive-treatments", "text": "Preventive treatments tried", "item": treatments}
                if treatments
                else None,
                _item("relevant-history", "Relevant history", valueString=intake.relevant_history),
                _item("notes", "Notes", valueString=intake.notes),
            ],
        }
    )
