"""Patient: demographics and the medical record number."""

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import Resource, ext_string, instant, prune
from records.models import Patient

RESOURCE_TYPE = "Patient"


def patients() -> QuerySet[Patient]:
    return Patient.objects.order_by("pk")


def patient_resource(patient: Patient) -> Resource:
    """The patient's demographics as registered; the allergies stay the text that was recorded."""
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": str(patient.pk),
            "meta": {"lastUpdated": instant(patient.updated_at), "versionId": str(patient.version)},
            "extension": [ext_string(codes.EXT_ALLERGIES, patient.allergies)],
            "identifier": [
                {
                    "use": "usual",
                    "type": {"coding": [codes.coding(codes.V2_IDENTIFIER_TYPE, "MR", "Medical record number")]},
                    "system": codes.mrn_system(),
                    "value": patient.mrn,
                }
            ],
            "active": patient.is_active,
            "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
            "telecom": [
                {"system": "phone", "value": patient.phone} if patient.phone else None,
                {"system": "email", "value": patient.email} if patient.email else None,
            ],
            "gender": patient.sex,
            "birthDate": patient.date_of_birth.isoformat(),
            "address": [{"text": patient.address}] if patient.address else [],
            "contact": [
                {
                    "relationship": [{"coding": [codes.coding(codes.V2_CONTACT_ROLE, "C", "Emergency Contact")]}],
                    "name": {"text": patient.emergency_contact},
                }
            ]
            if patient.emergency_contact
            else [],
        }
    )
