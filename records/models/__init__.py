from records.models.accounts import RecoveryCode, User
from records.models.audit import AuditAction, AuditEvent
from records.models.patients import Patient, Sex

__all__ = ["AuditAction", "AuditEvent", "Patient", "RecoveryCode", "Sex", "User"]
