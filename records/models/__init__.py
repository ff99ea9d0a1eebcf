from records.models.accounts import User
from records.models.audit import AuditAction, AuditEvent
from records.models.patients import Patient, Sex

__all__ = ["AuditAction", "AuditEvent", "Patient", "Sex", "User"]
