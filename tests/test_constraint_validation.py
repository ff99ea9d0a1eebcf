"""`RecordModel.validate_constraints` (one query for a model's check constraints) says what Django's says.

For every model with check constraints, instances with values drawn across and beyond each field's
range are validated both ways, on the test database: the same fields, messages, codes and order.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import CheckConstraint
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.models.base import RecordModel

pytestmark = pytest.mark.django_db

CHECKED = sorted(
    (
        model
        for model in apps.get_app_config("records").get_models()
        if issubclass(model, RecordModel) and any(isinstance(c, CheckConstraint) for c in model._meta.constraints)
    ),
    key=lambda model: model.__name__,
)


def values_for(field: models.Field) -> st.SearchStrategy:
    """Values inside and outside what the field's constraints accept, and None and blanks."""
    if field.choices:
        return st.sampled_from([value for value, _ in field.flatchoices] + ["", "not-a-choice", None])
    if isinstance(field, models.BooleanField):
        return st.sampled_from([True, False, None])
    if isinstance(field, models.IntegerField):
        return st.one_of(st.none(), st.integers(-5, 300), st.integers(-100_000, 100_000))
    if isinstance(field, models.DecimalField):
        return st.one_of(st.none(), st.decimals(Decimal("-1000"), Decimal("1000"), places=2))
    if isinstance(field, models.DateTimeField):
        return st.one_of(st.none(), st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)))
    if isinstance(field, models.DateField):
        return st.one_of(st.none(), st.dates())
    if isinstance(field, models.CharField | models.TextField):
        return st.one_of(st.just(""), st.just("  "), st.text(max_size=12))
    return st.nothing()


def drawable(field: models.Field) -> bool:
    return (
        field.concrete
        and not field.primary_key
        and not field.is_relation
        and not isinstance(field, models.JSONField)
        and not values_for(field).is_empty
    )


def errors(validate, instance) -> dict:
    try:
        validate(instance)
    except ValidationError as error:
        return {
            field: [(e.message % (e.params or {}), e.code) for e in found] for field, found in error.error_dict.items()
        }
    return {}


@pytest.mark.parametrize("model", CHECKED, ids=lambda model: model.__name__)
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_one_query_says_what_djangos_validation_says(model, data):
    instance = model()
    for field in model._meta.concrete_fields:
        if drawable(field):
            setattr(instance, field.attname, data.draw(values_for(field), label=field.name))

    ours = errors(RecordModel.validate_constraints, instance)
    djangos = errors(models.Model.validate_constraints, instance)

    assert ours == djangos


def test_the_check_constraints_are_asked_in_one_query():
    from records.models import VitalsReading

    checks = [c for c in VitalsReading._meta.constraints if isinstance(c, CheckConstraint)]
    assert len(checks) > 5
    reading = VitalsReading(systolic=400, diastolic=-1, heart_rate=80, spo2=101)

    with CaptureQueriesContext(connection) as ours:
        found = errors(RecordModel.validate_constraints, reading)
    with CaptureQueriesContext(connection) as djangos:
        errors(models.Model.validate_constraints, reading)

    assert found, "the out-of-range values are refused"
    selects = [q for q in ours.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 1 + sum(1 for c in VitalsReading._meta.constraints if not isinstance(c, CheckConstraint))
    assert len(ours.captured_queries) < len(djangos.captured_queries) / 3
