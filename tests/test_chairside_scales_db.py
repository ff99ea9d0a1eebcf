"""The database refuses a sedation or dissociation score the scale does not allow, and half a CADSS-6."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.models import VitalsReading
from records.models.vitals import CADSS6_ITEMS

pytestmark = pytest.mark.django_db

ALL_ITEMS_ZERO = dict.fromkeys(CADSS6_ITEMS, 0)


def _insert(session, user, **scores) -> VitalsReading:
    now = timezone.now()
    return VitalsReading.objects.create(
        session=session, measured_at=now, entered_at=now, entered_by=user, phase="during", **scores
    )


@pytest.mark.parametrize(
    "scores",
    [
        {"moaas": 6},
        {"moaas": -1},
        {**ALL_ITEMS_ZERO, "cadss_7": 5},
        {**ALL_ITEMS_ZERO, "cadss_1": -1},
        {"cadss_2": 1},  # one item of six
        {**ALL_ITEMS_ZERO, "cadss_22": None},  # five of six
    ],
    ids=["moaas-6", "moaas--1", "item-5", "item--1", "one-item", "five-items"],
)
def test_scores_off_the_scale_or_a_partial_cadss6_are_refused(sessions, patient, nurse, scores):
    session = sessions.to(patient, "in_progress")
    with pytest.raises(IntegrityError), transaction.atomic():
        _insert(session, nurse, **scores)
    assert not session.readings.filter(moaas__isnull=False).exists()


def test_the_ends_of_each_scale_are_kept_and_the_total_is_the_sum(sessions, patient, nurse):
    session = sessions.to(patient, "in_progress")
    low = _insert(session, nurse, moaas=0, **ALL_ITEMS_ZERO)
    high = _insert(session, nurse, moaas=5, **dict.fromkeys(CADSS6_ITEMS, 4))
    mixed = _insert(session, nurse, **dict(zip(CADSS6_ITEMS, (0, 1, 2, 3, 4, 1), strict=True)))
    assert (low.moaas, low.cadss6_total) == (0, 0)
    assert (high.moaas, high.cadss6_total) == (5, 24)
    assert (mixed.moaas, mixed.cadss6_total) == (None, 11)
    assert _insert(session, nurse, heart_rate=80).cadss6_total is None
