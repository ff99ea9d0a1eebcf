"""The physician's override of the discharge criteria on the session page: re-authenticated, audited, shown."""

import pytest
from django.urls import reverse
from django.utils import timezone

from records.actions.vitals import vitals_record
from records.models import AuditEvent, DischargeOverride
from tests.conftest import PASSWORD, actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def drowsy(sessions, patient, nurse):
    """In recovery; the last MOAA/S is 4."""
    session = sessions.to(patient, "recovery")
    vitals_record(
        actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="post", moaas=4, dissociation="none"
    )
    return session


def test_the_override_asks_the_physician_to_confirm_it_is_them(client_for, drowsy, physician):
    client = client_for(physician, confirmed=False)
    url = reverse("session_discharge_override", args=[drowsy.pk])
    page = client.get(reverse("session_detail", args=[drowsy.pk])).content.decode()
    assert "Sedation: the last MOAA/S is 4" in page and "Override as" in page

    asked = client.post(url, {"reason": "Baseline MOAA/S 4 after her stroke"})
    assert asked.status_code == 200 and "Confirm it is you" in asked.content.decode()
    assert not DischargeOverride.objects.exists()

    done = client.post(url, {"reason": "Baseline MOAA/S 4 after her stroke", "reauth_password": PASSWORD}, follow=True)

    html = done.content.decode()
    assert "Override recorded" in html
    assert "Discharge criteria overridden</strong> by" in html and "Baseline MOAA/S 4 after her stroke" in html
    override = DischargeOverride.objects.get()
    assert override.physician == physician
    assert AuditEvent.objects.filter(action="reauth", actor=physician).exists()
    assert AuditEvent.objects.get(action="discharge_override").reason == "Baseline MOAA/S 4 after her stroke"


def test_a_nurse_sees_the_criteria_but_no_override(client_for, drowsy, nurse):
    client = client_for(nurse)
    page = client.get(reverse("session_detail", args=[drowsy.pk])).content.decode()
    assert "The discharge waits for:" in page and "Override as" not in page
    response = client.post(reverse("session_discharge_override", args=[drowsy.pk]), {"reason": "x"})
    assert response.status_code == 403
    assert not DischargeOverride.objects.exists()


def test_an_override_without_a_reason_is_refused_on_the_page(client_for, drowsy, physician):
    response = client_for(physician).post(reverse("session_discharge_override", args=[drowsy.pk]), {"reason": " "})
    assert response.status_code == 400
    assert "Write why the patient may leave before these criteria are met." in response.content.decode()
    assert not DischargeOverride.objects.exists()


def test_the_discharge_page_lists_what_it_waits_for(client_for, drowsy, nurse):
    html = client_for(nurse).get(reverse("session_discharge", args=[drowsy.pk])).content.decode()
    assert "The discharge waits for:" in html and "Sedation: the last MOAA/S is 4" in html
