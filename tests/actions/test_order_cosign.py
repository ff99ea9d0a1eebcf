from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.medications import order_cosign
from records.models import AuditEvent, Order
from tests.charting import chart_session
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def verbal_order(sessions, patient):
    session = sessions.to(patient, "cleared")
    return sessions.order(session, received_as="verbal", read_back_confirmed=True)


def test_ordering_physician_cosigns_and_it_is_audited(verbal_order, physician, patient):
    order = order_cosign(actor=actor_for(physician), order=verbal_order)

    order.refresh_from_db()
    assert order.cosigned_by == physician
    assert order.cosigned_at is not None
    event = AuditEvent.objects.get(action="cosign", record_type="order")
    assert event.patient == patient
    assert event.actor == physician
    assert event.changes["cosigned_at"][0] is None
    assert event.reason == "verbal order co-signed"


def test_another_physician_may_not_cosign(verbal_order, make_user):
    colleague = make_user("physician")
    with pytest.raises(ActionRefused, match="only the physician who gave the order"):
        order_cosign(actor=actor_for(colleague), order=verbal_order)
    assert Order.objects.get(pk=verbal_order.pk).cosigned_at is None
    assert not AuditEvent.objects.filter(action="cosign").exists()


def test_nurse_and_admin_may_not_cosign(verbal_order, nurse, admin_user):
    for user in (nurse, admin_user):
        with pytest.raises(PermissionDenied):
            order_cosign(actor=actor_for(user), order=verbal_order)
    assert Order.objects.get(pk=verbal_order.pk).cosigned_at is None


def test_cosigning_twice_is_refused(verbal_order, physician):
    order_cosign(actor=actor_for(physician), order=verbal_order)
    with pytest.raises(ActionRefused, match="already co-signed by Omar Haddad"):
        order_cosign(actor=actor_for(physician), order=verbal_order)
    assert AuditEvent.objects.filter(action="cosign").count() == 1


def test_a_written_order_needs_no_cosignature(sessions, patient, physician):
    order = sessions.order(sessions.to(patient, "cleared"))
    with pytest.raises(ActionRefused, match="written order"):
        order_cosign(actor=actor_for(physician), order=order)


def test_cosign_after_the_nurse_signed_the_session_changes_only_the_cosignature(nurse, physician, patient):
    session = chart_session(
        nurse=nurse,
        physician=physician,
        patient=patient,
        start=timezone.now() - timedelta(hours=3),
        received_as="telephone",
    )
    assert session.signed_at is not None
    order = session.orders.get()

    order_cosign(actor=actor_for(physician), order=order)

    assert Order.objects.get(pk=order.pk).cosigned_by == physician
    # The database still refuses every other change to the signed session's order,
    # and a second co-signature.
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(dose_value="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(cosigned_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).delete()
    assert Order.objects.get(pk=order.pk).dose_value == "0.5"
