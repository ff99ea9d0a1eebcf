from records.models.accounts import RecoveryCode, User
from records.models.addenda import Addendum
from records.models.api import ApiToken, RateLimitCounter
from records.models.audit import DISCLOSURE_ACTIONS, AuditAction, AuditEvent, AuditVerification, VerificationResult
from records.models.clinic import ClinicSettings
from records.models.devices import DeviceReading, DeviceReadingState, Monitor, RejectReason
from records.models.discharge import Discharge
from records.models.intake import IntakeAssessment, IntakeRevision
from records.models.medications import (
    Administration,
    AdministrationEvent,
    AdministrationEventKind,
    AdministrationState,
    Order,
    ReceivedAs,
)
from records.models.outcomes import OutcomeReport
from records.models.patients import Patient, Sex
from records.models.screening import Answer, Pregnancy, Screening, ScreeningDecision, ScreeningOutcome
from records.models.sessions import ExitKind, Route, Session, SessionStatus
from records.models.side_effects import Severity, SideEffect, SideEffectKind
from records.models.vitals import Dissociation, Phase, Source, VitalsReading

__all__ = [
    "DISCLOSURE_ACTIONS",
    "Addendum",
    "Administration",
    "AdministrationEvent",
    "AdministrationEventKind",
    "AdministrationState",
    "Answer",
    "ApiToken",
    "AuditAction",
    "AuditEvent",
    "AuditVerification",
    "ClinicSettings",
    "DeviceReading",
    "DeviceReadingState",
    "Discharge",
    "Dissociation",
    "ExitKind",
    "IntakeAssessment",
    "IntakeRevision",
    "Monitor",
    "Order",
    "OutcomeReport",
    "Patient",
    "Phase",
    "Pregnancy",
    "RateLimitCounter",
    "ReceivedAs",
    "RecoveryCode",
    "RejectReason",
    "Route",
    "Screening",
    "ScreeningDecision",
    "ScreeningOutcome",
    "Session",
    "SessionStatus",
    "Severity",
    "Sex",
    "SideEffect",
    "SideEffectKind",
    "Source",
    "User",
    "VerificationResult",
    "VitalsReading",
]
