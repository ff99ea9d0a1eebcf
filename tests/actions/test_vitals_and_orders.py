from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.doses import dose_display, validate_dose_value
from records.models import AuditEvent, ClinicSettings, Order, VitalsReading
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


def chart(session, nurse, **values):
    return vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="during", **values)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("heart_rate", 300, "Heart rate must be between 20 and 250 /min."),
        ("spo2", 49, "SpO2 must be between 50 and 100 %."),
        ("respiratory_rate", 61, "Respiratory rate must be between 4 and 60 /min."),
        ("temperature", Decimal("45.1"), "Temperature must be between 30.0 and 45.0 °C."),
        ("pain", 11, "Pain must be between 0 and 10."),
        ("sedation_rass", -6, "Sedation (RASS) must be between -5 and 4."),
    ],
)
def test_impossible_values_refused_with_range(sessions, patient, nurse, field, value, message):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ValidationError) as exc:
        chart(session, nurse, **{field: value})
    assert exc.value.message_dict[field] == [message]
    assert not VitalsReading.objects.exists()


SIX_ITEMS = {"cadss_1": 0, "cadss_2": 1, "cadss_6": 0, "cadss_7": 2, "cadss_15": 0, "cadss_22": 0}


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"moaas": 6}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        ({"moaas": -1}, "moaas", "Sedation (MOAA/S) must be between 0 and 5."),
        ({**SIX_ITEMS, "cadss_7": 5}, "cadss_7", "CADSS item 7 must be between 0 and 4."),
        ({"cadss_2": 1}, "cadss_22", "Score all six CADSS-6 items (0 to 4), or none."),
    ],
    ids=["moaas-6", "moaas--1", "item-5", "one-item"],
)
def test_scale_scores_outside_the_scale_or_half_a_cadss6_are_refused(sessions, patient, nurse, values, field, message):
    session = sessions.to(patient, "in_progress")
    before = VitalsReading.objects.count()
    with pytest.raises(ValidationError) as exc:
        chart(session, nurse, **values)
    assert exc.value.message_dict[field] == [message]
    assert VitalsReading.objects.count() == before


def test_scale_scores_alone_make_a_reading_kept_as_entered(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    reading = chart(session, nurse, moaas=5, **SIX_ITEMS)
    reading.refresh_from_db()
    assert (reading.moaas, reading.cadss6_total, reading.systolic) == (5, 3, None)


def test_systolic_out_of_range_and_diastolic_not_below(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ValidationError) as exc:
        chart(session, nurse, systolic=301, diastolic=80)
    assert exc.value.message_dict["systolic"] == ["Systolic BP must be between 40 and 300 mmHg."]
    with pytest.raises(ValidationError) as exc:
        chart(session, nurse, systolic=120, diastolic=120)
    assert exc.value.message_dict["diastolic"] == ["Diastolic BP must be below systolic BP."]
    with pytest.raises(ValidationError):
        chart(session, nurse, systolic=120)


def test_empty_reading_and_future_time_refused(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    with pytest.raises(ValidationError, match="at least one"):
        chart(session, nurse)
    with pytest.raises(ValidationError) as exc:
        vitals_record(
            actor=actor_for(nurse),
            session=session,
            measured_at=timezone.now() + timedelta(minutes=2),
            phase="pre",
            heart_rate=70,
        )
    assert "measured_at" in exc.value.message_dict
    # within a minute's clock skew is accepted
    vitals_record(
        actor=actor_for(nurse),
        session=session,
        measured_at=timezone.now() + timedelta(seconds=30),
        phase="pre",
        heart_rate=70,
    )


def test_out_of_reference_range_saved(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    reading = chart(session, nurse, systolic=172, diastolic=104, heart_rate=118, spo2=91)
    clinic = ClinicSettings.current()
    assert reading.pk
    assert reading.systolic > clinic.systolic_high
    assert reading.entered_at is not None
    assert AuditEvent.objects.filter(action="create", record_type="vitalsreading").count() == 1


def test_entered_in_error_keeps_reading_with_who_and_why(sessions, patient, nurse):
    session = sessions.to(patient, "arrived")
    reading = chart(session, nurse, heart_rate=150)
    with pytest.raises(ValidationError):
        vitals_mark_entered_in_error(actor=actor_for(nurse), reading=reading, reason="")
    vitals_mark_entered_in_error(actor=actor_for(nurse), reading=reading, reason="Wrong patient's monitor")
    reading.refresh_from_db()
    assert reading.in_error
    assert reading.heart_rate == 150
    assert reading.entered_in_error_by == nurse
    with pytest.raises(ActionRefused, match="already"):
        vitals_mark_entered_in_error(actor=actor_for(nurse), reading=reading, reason="again")
    assert AuditEvent.objects.get(action="entered_in_error").reason == "Wrong patient's monitor"


def test_vitals_refused_before_arrival(sessions, patient, nurse):
    session = sessions.to(patient, "scheduled")
    with pytest.raises(ActionRefused, match="from arrival to discharge"):
        chart(session, nurse, heart_rate=70)


# Doses -------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0.5", "1", "12.25", "100", "0.125"])
def test_dose_values_accepted_as_written(value):
    assert validate_dose_value(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".5", "write 0.5, not .5"),
        ("1.0", "write 1, not 1.0: a trailing zero can be misread as ten times the dose"),
        ("2.50", "write 2.5, not 2.50"),
        ("1.", "write 1, without the final point"),
        ("05", "remove the leading zeros"),
        ("1,5", "digits and at most one decimal point"),
        ("0.5mg", "digits and at most one decimal point"),
        ("", "exactly as written"),
        ("0", "a dose of 0"),
        ("1234567", "digits and at most one decimal point"),
    ],
)
def test_dose_values_refused_with_how_to_write_them(value, message):
    with pytest.raises(ValidationError) as exc:
        validate_dose_value(value)
    assert message in exc.value.messages[0]


@pytest.mark.parametrize(
    ("value", "unit", "shown"), [("0.5", "mg/kg/h", "0.5 mg/kg/h"), ("1", "mg", "1 mg"), ("12.25", "mcg", "12.25 mcg")]
)
def test_dose_display_exactly_as_entered(value, unit, shown):
    assert dose_display(value, unit) == shown


def test_verbal_order_needs_read_back_and_gets_cosign_deadline(sessions, patient, nurse, physician):
    session = sessions.to(patient, "cleared")
    with pytest.raises(ValidationError) as exc:
        sessions.order(session, received_as="verbal", read_back_confirmed=False)
    assert "read_back_confirmed" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        sessions.order(
            session,
            received_as="telephone",
            read_back_confirmed=True,
            ordering_physician=None,
            outside_prescriber="Dr Outside",
        )
    assert "ordering_physician" in exc.value.message_dict
    order = sessions.order(session, received_as="verbal", read_back_confirmed=True)
    assert order.cosign_due_at == order.documented_at + timedelta(hours=48)
    assert order.cosigned_at is None and order.cosigned_by is None
    assert order.ordering_physician == physician


def test_written_order_from_outside_prescriber(sessions, patient):
    session = sessions.to(patient, "cleared")
    order = sessions.order(session, ordering_physician=None, outside_prescriber="Dr A. Neurologist")
    assert order.cosign_due_at is None
    assert order.dose_value == "0.5"


@pytest.mark.parametrize(
    "bad",
    [
        {"dose_value": ".5"},
        {"dose_value": "1.0"},
        {"dose_unit": "µg"},
        {"dose_unit": "IU"},
        {"order_text": " "},
        {"medication": ""},
    ],
)
def test_order_bad_input_refused_without_write(sessions, patient, bad):
    session = sessions.to(patient, "cleared")
    with pytest.raises(ValidationError):
        sessions.order(session, **bad)
    assert not Order.objects.exists()


def test_order_received_in_future_refused(sessions, patient):
    session = sessions.to(patient, "cleared")
    with pytest.raises(ValidationError) as exc:
        sessions.order(session, received_at=timezone.now() + timedelta(hours=1))
    assert "received_at" in exc.value.message_dict
