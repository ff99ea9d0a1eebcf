import importlib
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from records.actions.context import Actor
from records.actions.fhir import api_token_issue
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record

# Each resource type's R4B model (fhir.resources' plain modules are R5).
_MODELS: dict[str, type] = {}


def r4b_model(resource_type: str) -> type:
    if resource_type not in _MODELS:
        module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
        _MODELS[resource_type] = getattr(module, resource_type)
    return _MODELS[resource_type]


def validate(resource: dict) -> None:
    """Parse with the fhir.resources R4B model of its type (raises on any structural error)."""
    r4b_model(resource["resourceType"]).model_validate(resource)


@pytest.fixture
def issue_token(system_actor):
    def issue(user, name: str = "tests") -> str:
        _, token = api_token_issue(actor=system_actor, account=user, name=name)
        return token

    return issue


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# Flowsheet rows of the charted session: (minutes before now, values).
ROWS = [
    (70, {"systolic": 132, "diastolic": 84, "heart_rate": 78, "spo2": 98, "respiratory_rate": 14, "pain": 6}),
    (60, {"systolic": 146, "diastolic": 90, "heart_rate": 88, "spo2": 97, "respiratory_rate": 15, "sedation_rass": -1}),
    (50, {"systolic": 150, "diastolic": 92, "heart_rate": 91, "spo2": 96, "temperature": Decimal("37.0")}),
    (40, {"heart_rate": 86, "spo2": 97, "respiratory_rate": 16, "dissociation": "moderate", "pain": 3, "moaas": 4}),
    (
        30,
        {
            "systolic": 138,
            "diastolic": 86,
            "heart_rate": 80,
            "weight_kg": Decimal("71.5"),
            "temperature": Decimal("36.8"),
        },
    ),
    (20, {"systolic": 128, "diastolic": 82, "heart_rate": 76, "spo2": 99, "respiratory_rate": 14, "pain": 2}),
    (10, {"moaas": 5, "cadss_1": 0, "cadss_2": 1, "cadss_6": 0, "cadss_7": 2, "cadss_15": 0, "cadss_22": 0}),
]


@pytest.fixture
def charted_session(patient, nurse, sessions):
    """A session in progress with six flowsheet rows (one entered in error) besides the screening's BP."""
    session = sessions.to(patient, "in_progress")
    actor = Actor.for_user(nurse, ip_address="127.0.0.1", user_agent="pytest")
    # The rows lie between the start and now (clinical times stay inside the visit): move on 75 minutes.
    with time_machine.travel(timezone.now() + timedelta(minutes=75), tick=True):
        now = timezone.now()
        readings = [
            vitals_record(
                actor=actor, session=session, measured_at=now - timedelta(minutes=m), phase="during", **values
            )
            for m, values in ROWS
        ]
        vitals_mark_entered_in_error(actor=actor, reading=readings[1], reason="Cuff the wrong size; repeated")
        yield session
