from records.models.accounts import User
from records.models.addenda import Addendum
from records.models.audit import AuditAction, AuditEvent
from records.models.clinic import ClinicSettings
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
from records.models.vitals import Dissociation, Phase, VitalsReading

__all__ = [
    "Addendum",
    "Administration",
    "AdministrationEvent",
    "AdministrationEventKind",
    "AdministrationState",
    "Answer",
    "AuditAction",
    "AuditEvent",
    "ClinicSettings",
    "Discharge",
    "Dissociation",
    "ExitKind",
    "IntakeAssessment",
    "IntakeRevision",
    "Order",
    "OutcomeReport",
    "Patient",
    "Phase",
    "Pregnancy",
    "ReceivedAs",
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
    "User",
    "VitalsReading",
]
