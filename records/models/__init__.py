from records.models.accounts import RecoveryCode, User
from records.models.addenda import Addendum
from records.models.api import ApiToken, RateLimitCounter
from records.models.audit import DISCLOSURE_ACTIONS, AuditAction, AuditEvent, AuditVerification, VerificationResult
from records.models.clinic import ClinicSettings
from records.models.devices import DeviceReading, DeviceReadingState, Monitor, RejectReason
from records.models.discharge import Discharge, DischargeOverride
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
from records.models.protocols import (
    Anchor,
    CheckpointMiss,
    MonitoringProtocol,
    ProtocolVersion,
    Requirement,
    SessionProtocol,
)
from records.models.rems import ConcomitantMedication, ReadyToLeave, RemsMonitoringForm, YesNo
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
    "Anchor",
    "Answer",
    "ApiToken",
    "AuditAction",
    "AuditEvent",
    "AuditVerification",
    "CheckpointMiss",
    "ClinicSettings",
    "ConcomitantMedication",
    "DeviceReading",
    "DeviceReadingState",
    "Discharge",
    "DischargeOverride",
    "Dissociation",
    "ExitKind",
    "IntakeAssessment",
    "IntakeRevision",
    "Monitor",
    "MonitoringProtocol",
    "Order",
    "OutcomeReport",
    "Patient",
    "Phase",
    "Pregnancy",
    "ProtocolVersion",
    "RateLimitCounter",
    "ReadyToLeave",
    "ReceivedAs",
    "RecoveryCode",
    "RejectReason",
    "RemsMonitoringForm",
    "Requirement",
    "Route",
    "Screening",
    "ScreeningDecision",
    "ScreeningOutcome",
    "Session",
    "SessionProtocol",
    "SessionStatus",
    "Severity",
    "Sex",
    "SideEffect",
    "SideEffectKind",
    "Source",
    "User",
    "VerificationResult",
    "VitalsReading",
    "YesNo",
]
