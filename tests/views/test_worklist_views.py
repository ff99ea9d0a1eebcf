from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.models import AuditEvent, Order
from records.selectors import held_screenings_worklist
from tests.conftest import actor_for
from tests.factories import PhysicianFactory, SessionFactory

pytestmark = pytest.mark.django_db


def test_physician_lands_on_the_worklist(client_for, physician, nurse):
    response = client_for(physician).get(reverse("home"))
    assert response.url == reverse("physician_worklist")


def test_held_screenings_oldest_first_with_waiting_time(client_for, sessions, physician, make_patient, time_machine):
    first = sessions.to(make_patient(family_name="Older"), "held")
    time_machine.move_to(timezone.now() + timedelta(minutes=40))
    sessions.to(make_patient(family_name="Newer"), "held")
    time_machine.move_to(timezone.now() + timedelta(minutes=5))

    page = client_for(physician).get(reverse("physician_worklist")).content.decode()

    assert page.index("OLDER") < page.index("NEWER")
    assert "45\xa0minutes" in page
    assert reverse("session_screening_decision", args=[first.pk]) in page
    assert "history of hypertension" in page or "history of psychosis" in page


def test_mine_first_and_everyone_on_request(client_for, nurse, physician):
    SessionFactory(state="held", nurse=nurse, physician=PhysicianFactory(), patient__family_name="Theirs")
    SessionFactory(state="held", nurse=nurse, physician=physician, patient__family_name="Mine")
    client = client_for(physician)

    own = client.get(reverse("physician_worklist")).content.decode()
    assert "MINE" in own
    assert "THEIRS" not in own

    everyone = client.get(reverse("physician_worklist") + "?all=1").content.decode()
    assert everyone.index("MINE") < everyone.index("THEIRS")
    assert [s.session.patient.family_name for s in held_screenings_worklist(user=physician, everyone=True)] == [
        "Mine",
        "Theirs",
    ]


def test_verbal_orders_show_the_overdue_flag_and_only_the_orderer_may_cosign(
    client_for, sessions, physician, make_user, patient, time_machine
):
    order = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    client = client_for(physician)
    page = client.get(reverse("physician_worklist")).content.decode()
    assert "Co-sign as ordered by Omar Haddad" in page
    assert "Overdue" not in page

    time_machine.move_to(timezone.now() + timedelta(hours=49))
    client = client_for(physician)  # two days idle ends any session: sign in again
    page = client.get(reverse("physician_worklist")).content.decode()
    assert "Overdue" in page

    colleague = make_user("physician")
    other = client_for(colleague).get(reverse("physician_worklist") + "?all=1").content.decode()
    assert "Only Omar Haddad may co-sign" in other
    response = client_for(colleague).post(reverse("order_cosign", args=[order.pk]), follow=True)
    assert "only the physician who gave the order may co-sign it" in response.content.decode()
    assert Order.objects.get(pk=order.pk).cosigned_at is None


def test_cosign_from_the_worklist_removes_the_order(client_for, sessions, physician, patient):
    order = sessions.order(sessions.to(patient, "cleared"), received_as="telephone", read_back_confirmed=True)
    client = client_for(physician)
    response = client.post(
        reverse("order_cosign", args=[order.pk]), {"next": reverse("physician_worklist")}, follow=True
    )
    page = response.content.decode()
    assert "Order co-signed: Ketamine" in page
    assert "No orders waiting for a co-signature." in page
    assert AuditEvent.objects.filter(action="cosign", record_type="order", actor=physician).count() == 1


def test_cosign_does_not_redirect_off_site(client_for, sessions, physician, patient):
    order = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    response = client_for(physician).post(reverse("order_cosign", args=[order.pk]), {"next": "https://example.org/"})
    assert response.url == reverse("physician_worklist")


@pytest.mark.parametrize("back", ["0", "physician_worklist", "home"])
def test_cosign_with_a_next_that_is_not_a_path_returns_to_the_worklist(client_for, sessions, physician, patient, back):
    """Found by fuzzing: a word in `next` was taken for a view's name (a 500)."""
    order = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    response = client_for(physician).post(reverse("order_cosign", args=[order.pk]), {"next": back})
    assert response.status_code == 302 and response.url == reverse("physician_worklist")


def test_signed_sessions_wait_for_review_until_cosigned(client_for, sessions, physician, patient):
    from records.actions.sessions import session_cosign

    signed = sessions.to(patient, "signed")
    client = client_for(physician)
    page = client.get(reverse("physician_worklist")).content.decode()
    assert reverse("session_detail", args=[signed.pk]) in page
    session_cosign(actor=actor_for(physician), session=signed)
    page = client.get(reverse("physician_worklist")).content.decode()
    assert "No signed sessions waiting for review." in page


def test_nurse_and_admin_have_no_worklist_and_cannot_cosign(client_for, sessions, nurse, admin_user, patient):
    order = sessions.order(sessions.to(patient, "cleared"), received_as="verbal", read_back_confirmed=True)
    for user in (nurse, admin_user):
        client = client_for(user)
        assert client.get(reverse("physician_worklist")).status_code == 403
        assert client.post(reverse("order_cosign", args=[order.pk])).status_code == 403
    assert Order.objects.get(pk=order.pk).cosigned_at is None


def test_worklist_query_count_does_not_grow(client_for, nurse, physician, django_assert_max_num_queries):
    def fill(n):
        SessionFactory.create_batch(n, state="held", nurse=nurse, physician=physician)
        SessionFactory.create_batch(n, state="cleared", nurse=nurse, physician=physician, order__received_as="verbal")

    client = client_for(physician)
    fill(1)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("physician_worklist"))
    fill(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("physician_worklist"))
    assert response.content.decode().count("Co-sign as ordered by") == 7
