"""What the page may keep and put back after a sign-out, on the server's side.

The browser half (records/static/records/idle.js) is exercised in
tests/e2e/test_idle_restore.py; here: the marks the forms carry, the user and page the
page names, and where the log-in returns to after a sign-out during a POST.
"""

import re

import pytest
from django.urls import reverse

from records.models import AuditEvent

pytestmark = pytest.mark.django_db

START = "2026-11-25 10:00:00+00:00"


def tags(html: str, name: str) -> list[str]:
    """Every <input>, <select> or <textarea> tag with this name."""
    return re.findall(rf'<(?:input|select|textarea)\b[^>]*\bname="{name}"[^>]*>', html)


@pytest.fixture
def running(client, nurse, sessions, patient):
    """A session with two drugs running, and the nurse's client on it."""
    session = sessions.to(patient, "in_progress")
    from records.actions.medications import administration_start
    from tests.conftest import actor_for

    second = sessions.order(session, medication="Ondansetron", dose_value="4", dose_unit="mg", route="iv_infusion")
    administration_start(actor=actor_for(nurse), order=second, site="R forearm 20G", lot_number="LOT-2")
    client.force_login(nurse)
    return session


CLINICAL_FIELDS = {
    "session_order_new": ("dose_value", "dose_unit", "rate_text", "order_text"),
    "session_detail": ("amount_given_value", "amount_given_unit", "systolic", "heart_rate", "respiratory_rate"),
}


@pytest.mark.parametrize("url_name", CLINICAL_FIELDS)
def test_clinical_fields_are_marked_never_kept_and_never_autofilled(client, running, url_name):
    html = client.get(reverse(url_name, args=[running.pk])).content.decode()
    for name in CLINICAL_FIELDS[url_name]:
        found = tags(html, name)
        assert found, name
        for tag in found:
            assert "data-no-keep" in tag, tag
            assert 'autocomplete="off"' in tag or tag.startswith("<select"), tag


def test_every_free_text_order_field_has_autocomplete_off(client, running):
    html = client.get(reverse("session_order_new", args=[running.pk])).content.decode()
    for name in ("outside_prescriber", "medication", "dose_value", "rate_text", "order_text"):
        (tag,) = tags(html, name)
        assert 'autocomplete="off"' in tag, tag


def test_the_page_names_its_user_and_its_own_address(client, running, nurse):
    url = reverse("session_detail", args=[running.pk])
    html = client.get(url).content.decode()
    assert f'data-user="{nurse.pk}"' in html
    assert f'data-page-url="{url}"' in html


def test_a_form_shown_again_after_a_post_belongs_to_the_page_it_was_sent_from(client, running):
    """The stop form with a message is shown at the POST-only address; the page says where it really is."""
    page = reverse("session_detail", args=[running.pk])
    administration = running.administrations.first()
    response = client.post(
        reverse("session_administration_stop", args=[running.pk]),
        {"administration": administration.pk, "amount_given_value": ".5", "amount_given_unit": "mg"},
        headers={"Referer": f"http://testserver{page}"},
    )
    assert response.status_code == 400
    assert f'data-page-url="{page}"' in response.content.decode()


def test_no_user_is_named_on_the_log_in_page(client):
    assert "data-user=" not in client.get(reverse("login")).content.decode()


@pytest.fixture
def idle_client(client, nurse, running, time_machine, settings):
    time_machine.move_to(START, tick=False)
    client.force_login(nurse)
    assert client.get(reverse("session_detail", args=[running.pk])).status_code == 200
    time_machine.shift(settings.IDLE_TIMEOUT_SECONDS + 1)
    return client


def test_a_post_after_the_time_out_returns_to_the_page_it_was_sent_from(idle_client, running, nurse):
    page = reverse("session_detail", args=[running.pk])
    administration = running.administrations.first()
    response = idle_client.post(
        reverse("session_administration_stop", args=[running.pk]),
        {"administration": administration.pk, "amount_given_value": "35", "amount_given_unit": "mg"},
        headers={"Referer": f"http://testserver{page}"},
    )
    assert response.status_code == 302
    assert response.url == reverse("login") + f"?next=%2Fsessions%2F{running.pk}%2F"
    # Nothing was written: the stop waits for the nurse, after the log-in, on the page.
    administration.refresh_from_db()
    assert administration.state == "running"
    assert AuditEvent.objects.filter(actor=nurse, action="timeout").count() == 1
    # The log-in goes back to a page that answers a GET.
    idle_client.force_login(nurse)
    assert idle_client.get(page).status_code == 200


def test_an_htmx_post_after_the_time_out_returns_to_the_page(idle_client, running):
    page = reverse("session_detail", args=[running.pk])
    response = idle_client.post(
        reverse("session_vitals_record", args=[running.pk]),
        {"measured_at": "2026-11-25T10:00", "phase": "during", "systolic": "120", "diastolic": "80"},
        headers={"Referer": f"http://testserver{page}", "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + f"?next=%2Fsessions%2F{running.pk}%2F"


@pytest.mark.parametrize("with_current_url", [True, False], ids=["hx-current-url", "referer-only"])
def test_a_polled_section_after_the_time_out_returns_to_the_page_not_the_fragment(
    idle_client, running, with_current_url
):
    """A section the page polls (monitor readings) may be the first request after the time-out."""
    page = reverse("session_detail", args=[running.pk])
    headers = {"HX-Request": "true", "Referer": f"http://testserver{page}"}
    if with_current_url:
        headers["HX-Current-URL"] = f"http://testserver{page}"
    response = idle_client.get(reverse("session_device_readings", args=[running.pk]) + "?v=abc", headers=headers)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + f"?next=%2Fsessions%2F{running.pk}%2F"


@pytest.mark.parametrize(
    "referer",
    ["", "https://elsewhere.example/sessions/1/", "javascript:alert(1)", "//elsewhere.example/x/"],
    ids=["none", "another-site", "script", "scheme-relative"],
)
def test_a_post_after_the_time_out_without_this_sites_page_goes_to_the_log_in_alone(idle_client, running, referer):
    headers = {"Referer": referer} if referer else {}
    response = idle_client.post(
        reverse("session_administration_pause", args=[running.pk]),
        {"administration": running.administrations.first().pk, "reason": "Patient asked"},
        headers=headers,
    )
    assert response.status_code == 302
    assert response.url == reverse("login")


def test_the_post_only_address_is_never_the_next_page(idle_client, running):
    """Even a Referer naming the log-in page itself is not followed back."""
    response = idle_client.post(
        reverse("session_administration_pause", args=[running.pk]),
        {"administration": running.administrations.first().pk, "reason": "Patient asked"},
        headers={"Referer": "http://testserver/login/"},
    )
    assert response.url == reverse("login")
