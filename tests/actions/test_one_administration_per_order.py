"""One administration per order, one order per order form (rule R4 of records/rules.py).

Issue 10, item 4: a double click on Start, or two requests at once, gave two running
administrations of the same order; a double-submitted order form recorded two orders.
The actions lock the row first and refuse with a message; the database's unique
constraints are the second line (tests/test_database_invariants.py).
"""

import re
import threading
import uuid

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from records.actions.context import ActionRefused
from records.actions.medications import (
    OrderAlreadyRecorded,
    administration_start,
    administration_stop,
    order_document,
)
from records.models import Administration, AuditEvent, Order, Session
from tests.charting import WRITTEN_ORDER
from tests.conftest import actor_for

pytestmark = pytest.mark.django_db

START = {"site": "L forearm 22G", "lot_number": "LOT-1"}


def test_a_second_start_of_the_same_order_is_refused(sessions, patient, nurse):
    session = sessions.to(patient, "cleared")
    order = sessions.order(session)
    first = administration_start(actor=actor_for(nurse), order=order, **START)
    with pytest.raises(ActionRefused, match=r"already started at \d\d:\d\d by Nina Reyes"):
        administration_start(actor=actor_for(nurse), order=order, **START)
    administration_stop(actor=actor_for(nurse), administration=first, amount_given_value="35", amount_given_unit="mg")
    with pytest.raises(ActionRefused, match="already started"):
        administration_start(actor=actor_for(nurse), order=order, **START)
    assert list(Administration.objects.filter(order=order)) == [first]
    assert AuditEvent.objects.filter(action="administration_start", record_type="administration").count() == 1


def test_a_double_click_on_start_gives_one_administration(client, nurse, sessions, patient):
    session = sessions.to(patient, "cleared")
    order = sessions.order(session)
    client.force_login(nurse)
    url = reverse("session_administration_start", args=[session.pk])
    data = {"order": order.pk, **START}
    assert client.post(url, data).status_code == 302
    second = client.post(url, data, follow=True)
    assert second.status_code == 200
    assert "Cannot start: this order was already started" in second.content.decode()
    assert Administration.objects.filter(order=order).count() == 1


def _at_once(*calls):
    """Run the calls in threads released together, each on its own connection; their results or errors."""
    barrier = threading.Barrier(len(calls), timeout=60)
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported to the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers itself (IMMEDIATE transactions); row locks are PostgreSQL's",
)
def test_two_starts_at_once_give_one_administration(sessions, patient, nurse):
    session = sessions.to(patient, "cleared")
    order = sessions.order(session)
    results = _at_once(*(lambda: administration_start(actor=actor_for(nurse), order=order, **START),) * 2)
    started = [r for r in results if isinstance(r, Administration)]
    refused = [r for r in results if isinstance(r, ActionRefused)]
    assert len(started) == 1 and len(refused) == 1, results
    assert "already started" in str(refused[0])
    assert list(Administration.objects.filter(order=order)) == started
    assert Session.objects.get(pk=session.pk).status == "in_progress"
    assert AuditEvent.objects.filter(action="administration_start", record_type="administration").count() == 1


# The order form ---------------------------------------------------------------------------------


def _order(session, physician, key):
    return order_document(
        actor=actor_for(session.primary_nurse),
        session=session,
        ordering_physician=physician,
        received_at=session.arrived_at,
        submission_key=key,
        **WRITTEN_ORDER,
    )


def test_an_order_with_a_used_key_is_refused_without_writing(sessions, patient, nurse, physician):
    session = sessions.to(patient, "cleared")
    key = uuid.uuid4()
    first = _order(session, physician, key)
    events = AuditEvent.objects.count()
    with pytest.raises(OrderAlreadyRecorded, match="already recorded") as exc:
        _order(session, physician, key)
    assert exc.value.order == first
    assert list(Order.objects.all()) == [first]
    assert AuditEvent.objects.count() == events
    # Another opening of the form is another order, even with the same content.
    _order(session, physician, uuid.uuid4())
    assert Order.objects.count() == 2


def _order_form(client, session, physician) -> dict:
    html = client.get(reverse("session_order_new", args=[session.pk])).content.decode()
    key = re.search(r'name="submission_key" value="([0-9a-f-]{36})"', html).group(1)
    return {
        "submission_key": key,
        "ordering_physician": physician.pk,
        "received_as": "written",
        "received_at": timezone.localtime(session.arrived_at).strftime("%Y-%m-%dT%H:%M"),
        "medication": "Ketamine",
        "dose_value": "0.5",
        "dose_unit": "mg/kg/h",
        "route": "iv_infusion",
        "order_text": "Ketamine 0.5 mg/kg/h IV",
    }


def test_an_order_form_sent_twice_records_one_order(client, nurse, physician, sessions, patient):
    session = sessions.to(patient, "cleared")
    client.force_login(nurse)
    data = _order_form(client, session, physician)
    url = reverse("session_order_new", args=[session.pk])
    assert client.post(url, data).status_code == 302
    again = client.post(url, data, follow=True)
    assert again.status_code == 200
    assert "This order is already recorded: the form was sent twice, and it was saved once." in again.content.decode()
    assert Order.objects.filter(session=session).count() == 1
    assert AuditEvent.objects.filter(action="create", record_type="order").count() == 1
    # Opening the form again gives a new key: a second, identical order is the nurse's to document.
    assert client.post(url, _order_form(client, session, physician)).status_code == 302
    assert Order.objects.filter(session=session).count() == 2


def test_an_order_form_without_its_key_is_refused_with_a_message(client, nurse, physician, sessions, patient):
    session = sessions.to(patient, "cleared")
    client.force_login(nurse)
    data = _order_form(client, session, physician)
    for key in ("", "not-a-key"):
        response = client.post(reverse("session_order_new", args=[session.pk]), {**data, "submission_key": key})
        assert response.status_code == 400
        assert "This form is out of date" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers itself (IMMEDIATE transactions); row locks are PostgreSQL's",
)
def test_two_submits_of_one_order_form_at_once_record_one_order(sessions, patient, physician):
    session = sessions.to(patient, "cleared")
    key = uuid.uuid4()
    results = _at_once(*(lambda: _order(session, physician, key),) * 2)
    assert sorted(type(r).__name__ for r in results) == ["Order", "OrderAlreadyRecorded"], results
    assert Order.objects.filter(submission_key=key).count() == 1
