from records.models.accounts import User
from records.models.audit import AuditAction, AuditEvent
from records.models.intake import IntakeAssessment, IntakeRevision
from records.models.outcomes import OutcomeReport
from records.models.patients import Patient, Sex

__all__ = [
    "AuditAction",
    "AuditEvent",
    "IntakeAssessment",
    "IntakeRevision",
    "OutcomeReport",
    "Patient",
    "Sex",
    "User",
]
