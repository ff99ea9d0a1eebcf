from records.models.accounts import RecoveryCode, User
from records.models.audit import DISCLOSURE_ACTIONS, AuditAction, AuditEvent, AuditVerification, VerificationResult
from records.models.patients import Patient, Sex

__all__ = [
    "DISCLOSURE_ACTIONS",
    "AuditAction",
    "AuditEvent",
    "AuditVerification",
    "Patient",
    "RecoveryCode",
    "Sex",
    "User",
    "VerificationResult",
]
