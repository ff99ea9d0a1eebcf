import json
import re
import uuid
from datetime import timedelta

import factory
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from records.actions.vitals import vitals_record
from records.models import AuditEvent, ClinicSettings, Order, Session, SideEffect, VitalsReading
from records.rendering.charts import vitals_chart
from tests.conftest import actor_for, confirm_identity
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def local(delta_minutes: int = 0) -> str:
    return timezone.localtime(timezone.now() + timedelta(minutes=delta_minutes)).strftime("%Y-%m-%dT%H:%M")


def form_data(data: dict) -> dict:
    """Post data with each timedelta turned into that long from now, read off the clock when the test runs.

    Parameters are built when the tests are collected, minutes before some of them run:
    a time computed then as "in 10 minutes" may be past by the time it is posted.
    """
    return {k: local(v // timedelta(minutes=1)) if isinstance(v, timedelta) else v for k, v in data.items()}


def later(minutes: int) -> time_machine.travel:
    """The clock `minutes` from now, running (to age what was charted, which is never edited)."""
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def add_readings(session, nurse, count: int):
    start = timezone.now() - timedelta(minutes=count)
    for i in range(count):
        vitals_record(
            actor=actor_for(nurse),
            session=session,
            measured_at=start + timedelta(minutes=i),
            phase="during",
            systolic=120 + i % 30,
            diastolic=70,
            heart_rate=70 + i % 10,
            spo2=97,
            respiratory_rate=14,
        )


# Query counts ---------------------------------------------------------------------


def _session_page_queries(client, django_assert_max_num_queries, session):
    url = reverse("session_detail", args=[session.pk])
    with django_assert_max_num_queries(40) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_session_page_constant_queries(client, nurse, sessions, patient, make_patient, django_assert_max_num_queries):
    small = sessions.to(patient, "in_progress")
    add_readings(small, nurse, 1)  # with the screening BP and the first during-reading: 3
    large = sessions.to(make_patient(), "in_progress")
    add_readings(large, nurse, 18)
    assert (small.readings.count(), large.readings.count()) == (3, 20)
    client.force_login(nurse)
    few = _session_page_queries(client, django_assert_max_num_queries, small)
    many = _session_page_queries(client, django_assert_max_num_queries, large)
    assert few == many


def test_board_constant_queries(client, nurse, physician, django_assert_max_num_queries):
    client.force_login(nurse)
    staff = {"nurse": nurse, "physician": physician}

    def count():
        # 4 of them read the protocols' checkpoints: readings, administrations, missed reasons, versions.
        with django_assert_max_num_queries(24) as captured:
            response = client.get(reverse("session_board"))
        assert response.status_code == 200
        return len(captured.captured_queries), response

    SessionFactory.create_batch(2, state="in_progress", **staff)
    few, _ = count()
    SessionFactory.create_batch(
        12,
        state=factory.Iterator(["scheduled", "arrived", "held", "in_progress"]),
        chair=factory.Sequence(lambda n: f"Chair {n}"),
        **staff,
    )
    many, response = count()
    assert few == many
    assert response.content.decode().count("board-card") == 14


# Board -------------------------------------------------------------------------------


def test_board_polls_as_background_refresh_and_highlights_held(
    client, nurse, sessions, patient, make_patient, default_protocols
):
    sessions.to(patient, "held")
    sessions.to(make_patient(), "in_progress")
    client.force_login(nurse)
    with later(minutes=20):  # the last reading is 20 minutes old (readings are never edited to age them)
        html = client.get(reverse("session_board")).content.decode()
    assert 'hx-get="/sessions/today/"' in html
    assert 'hx-headers=\'{"X-Background-Refresh": "1"}\'' in html
    assert "Screening held: physician decision needed" in html
    assert "Overdue: Every 15 min while running" in html  # the IV protocol's checkpoint
    fragment = client.get(reverse("session_board"), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="board"')
    assert "<html" not in fragment
    # only the full page load is audited, not every refresh
    assert AuditEvent.objects.filter(record_type="session_board").count() == 1


def test_board_vitals_due_uses_clinic_interval_without_a_protocol(
    client, nurse, sessions, patient, admin_user, default_protocols
):
    from records.actions.clinic import clinic_settings_update
    from records.actions.protocols import protocol_update
    from records.models import MonitoringProtocol

    protocol = MonitoringProtocol.objects.get(name="IV ketamine infusion")
    version = protocol.versions.get()
    protocol_update(
        actor=actor_for(admin_user),
        protocol=protocol,
        name=protocol.name,
        active=False,
        routes=version.routes,
        min_observation_minutes=version.min_observation_minutes,
        checkpoints=version.checkpoints,
    )
    sessions.to(patient, "in_progress")
    client.force_login(nurse)
    with later(minutes=20):
        assert "vitals due" in client.get(reverse("session_board")).content.decode()
        clinic_settings_update(actor=actor_for(admin_user), vitals_interval_minutes=30)
        assert "vitals due" not in client.get(reverse("session_board")).content.decode()


# Vitals entry ----------------------------------------------------------------------------


def vitals_post(**overrides):
    data = {"measured_at": local(), "phase": "during", "systolic": "130", "diastolic": "80", "heart_rate": "80"}
    data.update(form_data(overrides))
    return data


def vitals_htmx_post(client, session, **values):
    return client.post(
        reverse("session_vitals_record", args=[session.pk]), vitals_post(**values), headers={"HX-Request": "true"}
    )


def test_vitals_htmx_post_answers_with_the_fresh_form_and_the_new_row(client, nurse, sessions, patient):
    session = sessions.to(patient, "arrived")  # in the chair, nothing charted yet
    client.force_login(nurse)
    response = vitals_htmx_post(client, session, heart_rate="123", note="flowsheet row")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="vitals-entry">')
    assert "Reading saved." in html
    # The entry row takes the focus back after a saved reading (records/static/records/vitals.js).
    assert re.search(r'name="systolic"[^>]*value=""[^>]*data-focus-after-save', html, re.S)
    # The first row: the table comes back whole (its "No readings yet" row goes).
    reading = session.readings.get()
    assert re.search(rf'<tbody id="vitals-rows" hx-swap-oob="true">\s*<tr id="reading-{reading.pk}"', html)
    assert "flowsheet row" in html and "No readings yet" not in html
    # The charts are not in the answer: the page asks for them once the answer is in.
    assert "vitals-chart" not in html
    assert json.loads(response.headers["HX-Trigger-After-Settle"]) == {"vitals-charted": {}}


def test_a_later_reading_adds_its_row_at_the_end_and_an_earlier_one_before_the_next_measured(
    client, nurse, sessions, patient
):
    session = sessions.to(patient, "arrived")
    client.force_login(nurse)
    vitals_htmx_post(client, session, measured_at=local(-5), systolic="131")
    first = session.readings.get()

    html = vitals_htmx_post(client, session, systolic="132").content.decode()
    second = session.readings.exclude(pk=first.pk).get()
    appended = rf'<tbody data-vitals-row hx-swap-oob="beforeend:#vitals-rows">\s*<tr id="reading-{second.pk}"'
    assert re.search(appended, html)
    assert f'id="reading-{first.pk}"' not in html

    # Measured before both: its row alone, before the one measured after it.
    html = vitals_htmx_post(client, session, measured_at=local(-10), systolic="133").content.decode()
    earliest = session.readings.exclude(pk__in=[first.pk, second.pk]).get()
    assert re.search(
        rf'<tbody data-vitals-row hx-swap-oob="beforebegin:#reading-{first.pk}">\s*<tr id="reading-{earliest.pk}"', html
    )
    assert re.findall(r'<tr id="reading-(\d+)"', html) == [str(earliest.pk)]


def test_a_refused_reading_answers_with_the_form_alone(client, nurse, sessions, patient):
    session = sessions.to(patient, "arrived")
    client.force_login(nurse)
    html = vitals_htmx_post(client, session, systolic="400").content.decode()
    assert html.lstrip().startswith('<div id="vitals-entry">')
    assert "hx-swap-oob" not in html and "Reading saved." not in html
    assert 'name="systolic"' in html and "300" in html
    assert not session.readings.exists()


def test_a_reading_refused_because_the_session_moved_on_says_why_where_the_form_was(client, nurse, sessions, patient):
    """Discharged from another tablet while this page was open: the answer names the refusal, without the form."""
    session = sessions.to(patient, "discharged")
    client.force_login(nurse)
    html = vitals_htmx_post(client, session, systolic="131").content.decode()
    assert html.lstrip().startswith('<div id="vitals-entry">')
    assert 'role="alert"' in html and "Cannot chart vitals: the session is discharged" in html
    assert 'name="systolic"' not in html
    assert not session.readings.filter(systolic=131).exists()


def test_the_charts_asked_for_after_a_reading_show_it_and_are_a_read(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    url = reverse("session_vitals_charts", args=[session.pk])

    def points() -> int:
        response = client.get(url, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert response.status_code == 200
        assert html.lstrip().startswith('<div id="vitals-charts"')
        assert 'hx-trigger="vitals-charted from:body"' in html
        return html.count('<circle class="dot"')

    before = points()
    views = AuditEvent.objects.filter(action="view", record_type="session").count()
    vitals_htmx_post(client, session, systolic="187")
    assert points() > before
    assert AuditEvent.objects.filter(action="view", record_type="session").count() == views + 1


def test_vitals_post_without_js_redirects_to_page(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    response = client.post(reverse("session_vitals_record", args=[session.pk]), vitals_post())
    assert response.status_code == 302
    assert response.url.endswith("#vitals")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"systolic": "301"}, "Systolic BP must be between 40 and 300 mmHg."),
        ({"heart_rate": "abc"}, "HR: enter a number."),
        ({"spo2": "40"}, "SpO2 must be between 50 and 100 %."),
        ({"measured_at": ""}, "This field is required."),
        ({"measured_at": "yesterday"}, "Enter measured at as a date and time"),
        ({"measured_at": timedelta(minutes=10)}, "Measured at must be between"),
        ({"note": "x" * 501}, "Ensure this value has at most 500 characters"),
        ({"temperature": "37.25"}, "Temp °C: use at most one decimal place."),
        ({"diastolic": "140"}, "Diastolic BP must be below systolic BP."),
    ],
)
def test_vitals_bad_input_field_message_no_write(client, nurse, sessions, patient, data, message):
    session = sessions.to(patient, "in_progress")
    before = VitalsReading.objects.count()
    client.force_login(nurse)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(
            reverse("session_vitals_record", args=[session.pk]), vitals_post(**data), headers=headers
        )
        html = response.content.decode()
        assert message in html.replace("&#x27;", "'")
        assert "is-invalid" in html
    assert VitalsReading.objects.count() == before


def test_entered_in_error_from_page_keeps_row_struck_through(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    reading = session.readings.filter(phase="during").get()
    client.force_login(nurse)
    client.post(reverse("session_vitals_error", args=[session.pk]), {"reading": reading.pk, "reason": "Wrong arm"})
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert f'id="reading-{reading.pk}" class="in-error"' in html
    assert "Entered in error by Nina Reyes" in html
    assert "Wrong arm" in html
    # and it leaves the chart: one reading (the screening BP) remains plotted
    assert "1 readings from" in html


def test_out_of_range_flagged_on_page(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="during", heart_rate=130)
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert '<span class="flagged">130</span> <span class="flag">high</span>' in html


# Dose neutrality ----------------------------------------------------------------------------


def test_dose_neutrality_after_prior_signed_session_and_weight(client, nurse, sessions, patient):
    from records.actions.sessions import session_sign
    from records.actions.side_effects import discharge_record

    prior = sessions.to(patient, "recovery")
    vitals_record(
        actor=actor_for(nurse),
        session=prior,
        measured_at=timezone.now(),
        phase="post",
        weight_kg=70,
        heart_rate=70,
        moaas=5,
        dissociation="none",
    )
    discharge_record(
        actor=actor_for(nurse),
        session=prior,
        alert_and_oriented=True,
        vitals_near_baseline=True,
        steady_walking=True,
        escort_present_not_driving=True,
    )
    session_sign(actor=actor_for(nurse), session=prior)
    assert (prior.orders.get().dose_value, prior.orders.get().dose_unit) == ("0.5", "mg/kg/h")
    new = sessions.to(patient, "cleared")
    client.force_login(nurse)
    for url in (reverse("session_order_new", args=[new.pk]), reverse("session_detail", args=[new.pk])):
        html = client.get(url).content.decode()
        for name in ("dose_value", "amount_given_value"):
            for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html):
                assert 'value="' not in tag or 'value=""' in tag, tag
        # The fixed writing guidance quotes example numbers; nothing else may show the prior dose.
        shown = re.sub(r'<p class="dose-guidance">.*?</p>', "", html, flags=re.S)
        assert "0.5" not in shown
        assert not re.search(r'<option value="[^"]+" selected', shown.split('name="phase"')[0])
        # nothing derived from the weight: 0.5 x 70 = 35 (per hour or in total), nor the weight itself
        assert not re.search(r"\b35(\.0+)?\s*(mg|mL)", shown)
        assert not re.search(r"\b70(\.0)?\s*kg", shown)
    order_html = client.get(reverse("session_order_new", args=[new.pk])).content.decode()
    assert re.search(r'<select[^>]*name="dose_unit"', order_html)
    assert '<option value="" selected>Choose…</option>' in order_html


def test_dose_shown_exactly_as_entered(client, nurse, sessions, patient):
    session = sessions.to(patient, "in_progress")
    sessions.order(session, dose_value="12.25", dose_unit="mcg", medication="Ondansetron", order_text="x")
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert '<span class="dose">0.5 mg/kg/h</span>' in html
    assert '<span class="dose">12.25 mcg</span>' in html
    assert '<span class="dose">35 mg</span>' not in html  # amount given appears only after stop


# Order form --------------------------------------------------------------------------------


def order_post(physician, **overrides):
    data = {
        "submission_key": str(uuid.uuid4()),  # one per opening of the form
        "ordering_physician": physician.pk,
        "received_as": "written",
        "received_at": local(-5),
        "medication": "Ketamine",
        "dose_value": "0.5",
        "dose_unit": "mg/kg/h",
        "route": "iv_infusion",
        "order_text": "Ketamine 0.5 mg/kg/h IV",
    }
    data.update(form_data(overrides))
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dose_value": ".5"}, "Dose: write 0.5, not .5"),
        ({"dose_value": "1.0"}, "Dose: write 1, not 1.0: a trailing zero can be misread as ten times the dose."),
        ({"dose_value": ""}, "Enter the dose exactly as written."),
        ({"dose_unit": "µg"}, "Select a valid choice."),
        ({"medication": "x" * 121}, "at most 120 characters"),
        ({"received_at": timedelta(minutes=30)}, "Time received must be between"),
        ({"received_as": "verbal"}, "A verbal or telephone order must be read back and confirmed."),
        ({"ordering_physician": ""}, "Choose the ordering physician, or name an outside prescriber"),
        ({"order_text": ""}, "This field is required."),
    ],
)
def test_order_bad_input(client, nurse, physician, sessions, patient, data, message):
    session = sessions.to(patient, "cleared")
    client.force_login(nurse)
    response = client.post(reverse("session_order_new", args=[session.pk]), order_post(physician, **data))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Order.objects.exists()


def test_order_form_saves_verbal_order(client, nurse, physician, sessions, patient):
    session = sessions.to(patient, "cleared")
    client.force_login(nurse)
    response = client.post(
        reverse("session_order_new", args=[session.pk]),
        order_post(physician, received_as="telephone", read_back_confirmed="on"),
    )
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.cosign_due_at is not None and order.cosigned_by is None


# Screening, side effects, discharge, addendum, cancel ---------------------------------------


def test_screening_form_needs_every_answer(client, nurse, sessions, patient):
    session = sessions.to(patient, "screening")
    client.force_login(nurse)
    html = client.get(reverse("session_screening", args=[session.pk])).content.decode()
    assert " checked" not in html
    response = client.post(reverse("session_screening", args=[session.pk]), {"systolic": "130", "diastolic": "x"})
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("Choose yes, no or unknown.") == 4
    assert "Choose an answer for pregnancy." in html
    assert not VitalsReading.objects.exists()


def test_held_screening_page_refuses_start_even_if_posted(client, nurse, sessions, patient):
    session = sessions.to(patient, "held")
    order = sessions.order(session)
    client.force_login(nurse)
    response = client.post(
        reverse("session_administration_start", args=[session.pk]),
        {"order": order.pk, "site": "L arm", "lot_number": "L1"},
        follow=True,
    )
    assert "Cannot start: screening is held for physician review" in response.content.decode()
    assert not session.administrations.exists()


@pytest.mark.parametrize(
    ("data", "field_message"),
    [
        ({"kind": ""}, "This field is required."),
        ({"kind": "other", "other_text": ""}, "Describe the side effect."),
        ({"onset_at": timedelta(minutes=30)}, "Onset must be between"),
        ({"action_taken": "x" * 501}, "at most 500 characters"),
        ({"severity": "extreme"}, "Select a valid choice."),
    ],
)
def test_side_effect_bad_input(client, nurse, sessions, patient, data, field_message):
    session = sessions.to(patient, "in_progress")
    client.force_login(nurse)
    post = {
        "kind": "nausea_vomiting",
        "severity": "mild",
        "onset_at": local(),
        "action_taken": "none",
        **form_data(data),
    }
    response = client.post(reverse("session_side_effect_record", args=[session.pk]), post)
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not SideEffect.objects.exists()


def test_discharge_form_needs_every_criterion(client, nurse, sessions, patient):
    session = sessions.to(patient, "recovery")
    vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase="post", heart_rate=70)
    client.force_login(nurse)
    html = client.get(reverse("session_discharge", args=[session.pk])).content.decode()
    assert " checked" not in html
    response = client.post(
        reverse("session_discharge", args=[session.pk]),
        {"alert_and_oriented": "on", "vitals_near_baseline": "on", "steady_walking": "on", "discharged_at": local()},
    )
    assert response.status_code == 400
    assert "This criterion must be met before discharge." in response.content.decode()
    session.refresh_from_db()
    assert session.status == "recovery"


def test_sign_and_cosign_views_show_signatures(client, nurse, physician, sessions, patient):
    session = sessions.to(patient, "discharged")
    client.force_login(nurse)
    confirm_identity(client)
    response = client.post(reverse("session_sign", args=[session.pk]), follow=True)
    html = response.content.decode()
    assert "Session signed and locked." in html
    assert re.search(r"<strong>Nina Reyes</strong> · \d{4}-\d\d-\d\d \d\d:\d\d \w+ · <em>charted by</em>", html)
    assert 'name="systolic"' not in html  # no charting on a locked session
    client.force_login(physician)
    confirm_identity(client)
    html = client.post(reverse("session_cosign", args=[session.pk]), follow=True).content.decode()
    assert "<strong>Omar Haddad</strong>" in html and "<em>reviewed by</em>" in html


def test_nurse_cannot_cosign_and_physician_cannot_sign(client, nurse, physician, sessions, patient):
    session = sessions.to(patient, "discharged")
    client.force_login(physician)
    assert client.post(reverse("session_sign", args=[session.pk])).status_code == 403
    session = sessions.to(patient, "signed")
    client.force_login(nurse)
    assert client.post(reverse("session_cosign", args=[session.pk])).status_code == 403
    session.refresh_from_db()
    assert session.status == "signed"


def test_addendum_shown_beneath_original(client, nurse, sessions, patient):
    session = sessions.to(patient, "signed")
    client.force_login(nurse)
    response = client.post(reverse("session_addendum", args=[session.pk]), {"text": "", "reason": ""})
    assert response.status_code == 400
    client.post(reverse("session_addendum", args=[session.pk]), {"text": "Phoned: well.", "reason": "Follow-up"})
    html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert html.index("charted by") < html.index("Phoned: well.")
    assert "reason: Follow-up" in html


def test_cancel_needs_reason(client, nurse, sessions, patient):
    session = sessions.to(patient, "arrived")
    client.force_login(nurse)
    response = client.post(reverse("session_cancel", args=[session.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "Give the reason." in response.content.decode()
    client.post(reverse("session_cancel", args=[session.pk]), {"reason": "Unwell today"})
    assert Session.objects.get(pk=session.pk).status == "cancelled"


def test_schedule_from_patient_page(client, nurse, physician, patient):
    client.force_login(nurse)
    url = reverse("patient_session_new", args=[patient.pk])
    bad = client.post(url, {"planned_route": "iv_infusion", "scheduled_at": "soon", "chair": ""})
    assert bad.status_code == 400
    response = client.post(
        url,
        {
            "planned_route": "iv_infusion",
            "scheduled_at": local(60),
            "chair": "Chair 4",
            "primary_nurse": nurse.pk,
            "supervising_physician": physician.pk,
        },
    )
    session = Session.objects.get()
    assert response.url == reverse("session_detail", args=[session.pk])
    assert "Chair 4" in client.get(reverse("patient_detail", args=[patient.pk])).content.decode()


# Clinic settings ----------------------------------------------------------------------------


def test_clinic_settings_read_only_for_clinicians(client, nurse):
    client.force_login(nurse)
    html = client.get(reverse("clinic_settings")).content.decode()
    assert "180/100 mmHg or above" in html
    assert '<form method="post" novalidate' not in html
    assert client.post(reverse("clinic_settings"), {"bp_hold_systolic": 150}).status_code == 403
    assert ClinicSettings.current().bp_hold_systolic == 180


def test_clinic_settings_admin_edits_with_audit(client, admin_user):
    client.force_login(admin_user)
    data = {
        f: getattr(ClinicSettings.current(), f)
        for f in (
            "bp_hold_systolic",
            "bp_hold_diastolic",
            "systolic_low",
            "systolic_high",
            "diastolic_low",
            "diastolic_high",
            "heart_rate_low",
            "heart_rate_high",
            "spo2_low",
            "spo2_high",
            "respiratory_rate_low",
            "respiratory_rate_high",
            "temperature_low",
            "temperature_high",
            "vitals_interval_minutes",
            "verbal_order_cosign_hours",
        )
    }
    bad = client.post(reverse("clinic_settings"), {**data, "bp_hold_systolic": 400})
    assert bad.status_code == 400
    assert "between 100 and 250" in bad.content.decode()
    response = client.post(reverse("clinic_settings"), {**data, "vitals_interval_minutes": 10, "reason": "Policy"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(record_type="clinicsettings")
    assert event.changes == {"vitals_interval_minutes": [15, 10]}


# Chart ---------------------------------------------------------------------------------------


def test_chart_is_csp_safe_and_accessible(nurse, sessions, patient):
    session = sessions.to(patient, "recovery")
    svg = vitals_chart(list(session.readings.all()), list(session.administration_events.all()), nonce="abc123")
    assert "<script" not in svg
    assert "style=" not in svg
    assert re.search(r'<style[^>]*nonce="abc123"', svg)
    assert 'role="img"' in svg and 'aria-label="Vitals over time"' in svg
    assert "<title>Vitals over time</title>" in svg
    assert "<?xml" not in svg


def test_a_chart_without_a_nonce_carries_none():
    svg = vitals_chart([], [])
    assert "nonce" not in svg and "<script" not in svg and 'style="' not in svg
    assert "<title>Vitals over time</title>" in svg and "No readings yet." in svg


CHARTING_POSTS = [
    "session_arrive",
    "session_begin_screening",
    "session_cancel",
    "session_screening",
    "session_order_new",
    "session_administration_start",
    "session_administration_pause",
    "session_administration_resume",
    "session_administration_stop",
    "session_vitals_record",
    "session_vitals_error",
    "session_checkpoint_missed",
    "session_side_effect_record",
    "session_side_effect_resolve",
    "session_discharge",
    "session_sign",
    "session_rems_form",
]


@pytest.mark.parametrize("role", ["physician", "admin"])
@pytest.mark.parametrize("name", CHARTING_POSTS)
def test_only_nurses_chart(client, make_user, sessions, patient, role, name):
    session = sessions.to(patient, "in_progress")
    client.force_login(make_user(role))
    events_before = AuditEvent.objects.exclude(action="access_denied").count()
    response = client.post(reverse(name, args=[session.pk]), {"reason": "x", "administration": 1})
    assert response.status_code == 403
    assert AuditEvent.objects.exclude(action="access_denied").count() == events_before
    assert AuditEvent.objects.filter(action="access_denied").exists()


def test_the_vitals_chart_style_carries_the_nonce_the_csp_header_allows(client, nurse, sessions, patient):
    session = sessions.to(patient, "recovery")
    client.force_login(nurse)
    response = client.get(reverse("session_detail", args=[session.pk]))
    nonce = re.search(r'<style[^>]*nonce="([^"]+)"', response.content.decode())
    assert nonce, "the chart's <style> has no nonce, so the browser would drop its styling"
    assert f"'nonce-{nonce.group(1)}'" in response.headers["Content-Security-Policy"]


def test_a_chart_swapped_in_by_htmx_carries_the_nonce_of_the_page_it_lands_in(client, nurse, sessions, patient):
    session = sessions.to(patient, "recovery")
    client.force_login(nurse)
    page = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    page_nonce = re.search(r'"X-Page-Nonce": "([^"]+)"', page).group(1)
    # After a reading is saved, the page asks for its charts again (htmx).
    fragment = client.get(
        reverse("session_vitals_charts", args=[session.pk]), headers={"HX-Request": "true", "X-Page-Nonce": page_nonce}
    ).content.decode()
    assert re.search(rf'<style[^>]*nonce="{page_nonce}"', fragment)
