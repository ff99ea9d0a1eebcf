from records.models.accounts import User
from records.models.audit import DISCLOSURE_ACTIONS, AuditAction, AuditEvent, AuditVerification, VerificationResult
from records.models.patients import Patient, Sex

__all__ = [
    "DISCLOSURE_ACTIONS",
    "AuditAction",
    "AuditEvent",
    "AuditVerification",
    "Patient",
    "Sex",
    "User",
    "VerificationResult",
]
