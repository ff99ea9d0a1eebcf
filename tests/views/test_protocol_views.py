"""Monitoring protocols on the pages: the session page's checkpoints and countdown, the board's next and
overdue checkpoints, the missed-checkpoint reason, the print, and the admins' protocol pages."""

from datetime import timedelta

import factory
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from records.actions.medications import administration_start
from records.actions.vitals import vitals_record
from records.models import AuditEvent, CheckpointMiss, MonitoringProtocol, Session
from records.models.vitals import CADSS6_ITEMS
from tests.conftest import actor_for, confirm_identity
from tests.factories import SessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_protocols")]

FULL = {
    "systolic": 124,
    "diastolic": 78,
    "heart_rate": 72,
    "spo2": 98,
    "respiratory_rate": 14,
    "pain": 2,
    "moaas": 5,
    **dict.fromkeys(CADSS6_ITEMS, 0),
}


def later(minutes: float) -> time_machine.travel:
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def chart(session, nurse, phase: str = "during", **values) -> None:
    vitals_record(actor=actor_for(nurse), session=session, measured_at=timezone.now(), phase=phase, **(values or FULL))


def running(sessions, patient, nurse, chair: str = "Chair 1") -> Session:
    """An IV session that arrived 20 min ago, charted its pre reading 10 min ago and started now."""
    with later(-20):
        session = sessions.to(patient, "cleared", chair=chair)
    with later(-10):
        chart(session, nurse, phase="pre")
    administration_start(
        actor=actor_for(nurse), order=sessions.order(session), site="L forearm 22G", lot_number="LOT-1"
    )
    return Session.objects.get(pk=session.pk)


# The session page ---------------------------------------------------------------------------


def test_the_session_page_shows_elapsed_checkpoints_and_the_next_with_its_countdown(client, nurse, sessions, patient):
    session = running(sessions, patient, nurse)
    client.force_login(nurse)
    with later(12):
        html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert "Monitoring: IV ketamine infusion" in html and "version 1" in html
    assert "Since the first start" in html and ">12 min<" in html
    assert "Next: Every 15 min while running" in html
    assert ">in 3 min<" in html  # server-rendered; countdown.js keeps it current from data-due / data-now
    assert 'data-due="' in html and 'data-now="' in html
    # The quick-entry row asks for what the next checkpoint requires, in flowsheet order; the rest are folded away.
    assert "For <strong>Every 15 min while running</strong>" in html
    assert "BP, HR, SpO2, RR, MOAA/S" in html
    entry = html[html.index('class="vitals-entry') : html.index("Other values (not asked by this checkpoint)")]
    asked = [
        name
        for name in ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")
        if f'name="{name}"' in entry
    ]
    assert asked == ["systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate"]
    assert 'name="temperature"' not in entry and 'name="pain"' not in entry
    assert "dose" not in html[html.index('id="monitoring"') : html.index('id="vitals"')].lower()


def test_an_overdue_checkpoint_takes_the_nurses_reason_shown_on_the_page_and_in_the_print(
    client, nurse, sessions, patient
):
    session = running(sessions, patient, nurse)
    client.force_login(nurse)
    with later(25):
        html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
        assert "Overdue: Every 15 min while running" in html
        assert "Record why it was missed" in html
        response = client.post(
            reverse("session_checkpoint_missed", args=[session.pk]),
            {"checkpoint": "1.1", "reason": "Patient asleep, cuff cycling failed"},
        )
        assert response.status_code == 302 and response.url.endswith("#monitoring")
        html = client.get(reverse("session_detail", args=[session.pk])).content.decode()
    assert "Missed: Patient asleep, cuff cycling failed" in html
    assert CheckpointMiss.objects.get(session=session).checkpoint_name == "Every 15 min while running"
    with later(26):
        empty = client.post(reverse("session_checkpoint_missed", args=[session.pk]), {"checkpoint": "1.1"})
    assert empty.status_code == 302
    assert CheckpointMiss.objects.count() == 1

    from records.monitoring import session_monitoring

    with later(27):
        monitoring = session_monitoring(Session.objects.get(pk=session.pk), timezone.now())
    assert (
        next(c for c in monitoring.checkpoints if c.key == "1.1").miss.reason == "Patient asleep, cuff cycling failed"
    )
    with later(27):
        pdf = client.get(reverse("session_pdf", args=[session.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_the_print_lists_the_checkpoints_with_the_missed_reason(client, nurse, sessions, patient):
    from records.actions.protocols import checkpoint_missed_reason
    from records.monitoring import session_monitoring

    session = running(sessions, patient, nurse)
    with later(25):
        checkpoint_missed_reason(actor=actor_for(nurse), session=session, checkpoint_key="1.1", reason="Cuff failed")
        from django.template.loader import render_to_string

        session = Session.objects.get(pk=session.pk)
        html = render_to_string(
            "records/print/session.html",
            {
                "session": session,
                "patient": session.patient,
                "monitoring": session_monitoring(session, timezone.now()),
                "readings": [],
            },
        )
    assert "Monitoring protocol: IV ketamine infusion, version 1" in html
    assert "Missed: Cuff failed" in html
    assert "Overdue" in html


def _page_queries(client, session) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("session_detail", args=[session.pk]))
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_session_page_runs_the_same_queries_for_3_and_60_readings(client, nurse, sessions, patient, make_patient):
    small = sessions.to(patient, "in_progress")
    large = sessions.to(make_patient(), "in_progress", chair="Chair 2")
    with later(70):
        chart(small, nurse)
        for minutes in range(58):
            with time_machine.travel(timezone.now() - timedelta(minutes=60 - minutes), tick=False):
                chart(large, nurse)
        assert (small.readings.count(), large.readings.count()) == (3, 60)
        client.force_login(nurse)
        assert _page_queries(client, small) == _page_queries(client, large)


# The board ----------------------------------------------------------------------------------


def test_the_board_shows_elapsed_next_and_overdue_in_words(client, nurse, sessions, patient, make_patient):
    on_time = running(sessions, patient, nurse, "Chair 1")
    late = running(sessions, make_patient(), nurse, "Chair 2")
    client.force_login(nurse)
    with later(14):
        chart(on_time, nurse)
    with later(24):
        html = client.get(reverse("session_board")).content.decode()
    assert "Since the start: <strong" in html and ">24 min<" in html
    assert "checkpoint overdue at 2 chairs" not in html
    # Chair 2 never charted its 15-minute reading: overdue, in words and first in the list.
    assert "Overdue: Every 15 min while running" in html
    assert "checkpoint overdue at 1 chair" in html
    next_up = html[html.index('class="next-up-list') : html.index("</ol>")]
    assert next_up.index("Chair 2") < next_up.index("Chair 1")
    assert "in 6 min" in next_up  # Chair 1's next, at 30 min
    assert late.pk and on_time.pk


def _board_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("session_board"))
    assert response.status_code == 200
    return len(captured.captured_queries), response.content.decode()


def test_the_board_runs_the_same_queries_for_2_and_40_sessions(client, nurse, physician):
    staff = {"nurse": nurse, "physician": physician}
    client.force_login(nurse)
    SessionFactory.create_batch(2, state="in_progress", chair=factory.Sequence(lambda n: f"Chair {n}"), **staff)
    with later(20):
        few, _ = _board_queries(client)
    SessionFactory.create_batch(
        38,
        state=factory.Iterator(["arrived", "in_progress", "recovery", "held"]),
        chair=factory.Sequence(lambda n: f"Chair {n + 2}"),
        **staff,
    )
    with later(20):
        many, html = _board_queries(client)
    assert few == many
    assert html.count("board-card") == 40
    assert "Overdue: Every 15 min while running" in html


def test_the_board_updates_without_a_reload(client, nurse, sessions, patient):
    sessions.to(patient, "in_progress")
    client.force_login(nurse)
    with later(5):
        fragment = client.get(reverse("session_board"), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div id="board"') and 'hx-trigger="every' in fragment
    assert "Next: Every 15 min while running" in fragment


# The protocol pages -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["nurse", "physician"])
def test_clinicians_read_the_protocols_without_an_edit(client, make_user, role):
    client.force_login(make_user(role))
    html = client.get(reverse("protocol_list")).content.decode()
    for name in ("IV ketamine infusion", "Intranasal esketamine", "IM ketamine injection", "Oral ketamine troche"):
        assert name in html
    assert "40 min after the first device" in html and "minimum observation 120 min" in html
    assert "Edit" not in html and "New protocol" not in html
    assert client.get(reverse("protocol_edit", args=[MonitoringProtocol.objects.first().pk])).status_code == 403


def _form_post(protocol, **changes) -> dict:
    version = protocol.versions.order_by("-number").first()
    data = {
        "name": protocol.name,
        "active": "on",
        "routes": version.routes,
        "min_observation_minutes": str(version.min_observation_minutes),
        "reason": "Clinic policy",
        "cp-TOTAL_FORMS": str(len(version.checkpoints)),
        "cp-INITIAL_FORMS": str(len(version.checkpoints)),
        "cp-MIN_NUM_FORMS": "0",
        "cp-MAX_NUM_FORMS": "1000",
    }
    for i, c in enumerate(version.checkpoints):
        for key, value in c.items():
            if value is None:
                continue
            data[f"cp-{i}-{key}"] = value if key == "requires" else str(value)
    data.update(changes)
    return data


def test_an_admin_edits_a_protocol_into_a_new_version_audited(client, admin_user):
    protocol = MonitoringProtocol.objects.get(name="Intranasal esketamine")
    client.force_login(admin_user)
    confirm_identity(client)
    page = client.get(reverse("protocol_edit", args=[protocol.pk])).content.decode()
    assert "40 min after the first device" in page and "version 1" in page
    assert "dose" not in page.lower()
    response = client.post(
        reverse("protocol_edit", args=[protocol.pk]),
        _form_post(protocol, **{"cp-1-offset": "45", "cp-1-window_end": "55", "min_observation_minutes": "150"}),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    current = protocol.versions.order_by("-number").first()
    assert current.number == 2
    assert current.checkpoints[1]["offset"] == 45 and current.min_observation_minutes == 150
    assert protocol.versions.get(number=1).checkpoints[1]["offset"] == 40  # kept as it was
    event = AuditEvent.objects.get(record_type="monitoringprotocol", action="update")
    assert event.changes["min_observation_minutes"] == [120, 150]
    assert event.reason == "Clinic policy"


def test_a_bad_protocol_edit_names_the_field_and_changes_nothing(client, admin_user):
    protocol = MonitoringProtocol.objects.get(name="Intranasal esketamine")
    client.force_login(admin_user)
    response = client.post(
        reverse("protocol_edit", args=[protocol.pk]),
        _form_post(protocol, **{"cp-1-window_start": "45", "min_observation_minutes": "900"}),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "less than or equal to 720" in html
    assert protocol.versions.count() == 1
    response = client.post(
        reverse("protocol_edit", args=[protocol.pk]), _form_post(protocol, **{"cp-1-window_start": "45"})
    )
    assert response.status_code == 400
    assert "Checkpoint 2: the window must open at or before the checkpoint" in response.content.decode()
    assert protocol.versions.count() == 1
    assert not AuditEvent.objects.filter(record_type="monitoringprotocol").exists()


def test_a_reading_saved_from_the_quick_entry_row_updates_the_checkpoints_too(client, nurse, sessions, patient):
    session = running(sessions, patient, nurse)
    client.force_login(nurse)
    with later(15):
        now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        response = client.post(
            reverse("session_vitals_record", args=[session.pk]),
            {
                "measured_at": now,
                "phase": "during",
                "systolic": "130",
                "diastolic": "80",
                "heart_rate": "80",
                "spo2": "97",
                "respiratory_rate": "14",
            },
            headers={"HX-Request": "true"},
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="vitals-entry">')
    oob = html[html.index('id="monitoring"') :]
    assert 'hx-swap-oob="true"' in html[html.index('id="monitoring"') - 120 : html.index('id="monitoring"') + 120]
    # Without MOAA/S the 15-minute checkpoint still waits for a reading with everything it asks for.
    assert 'id="checkpoint-1.1"' in oob and "state-due" in oob[oob.index('id="checkpoint-1.1"') :][:600]


def test_an_admin_adds_a_protocol_for_a_route_without_one(client, admin_user):
    oral = MonitoringProtocol.objects.get(name="Oral ketamine troche")
    version = oral.versions.get()
    client.force_login(admin_user)
    deactivate = _form_post(oral)
    del deactivate["active"]
    assert client.post(reverse("protocol_edit", args=[oral.pk]), deactivate).status_code == 302
    response = client.post(
        reverse("protocol_new"),
        {
            "name": "Troche, short stay",
            "active": "on",
            "routes": ["oral_troche"],
            "min_observation_minutes": "45",
            "cp-TOTAL_FORMS": "1",
            "cp-INITIAL_FORMS": "0",
            "cp-MIN_NUM_FORMS": "0",
            "cp-MAX_NUM_FORMS": "1000",
            "cp-0-name": "30 min after the troche",
            "cp-0-anchor": "start",
            "cp-0-offset": "30",
            "cp-0-window_start": "25",
            "cp-0-window_end": "40",
            "cp-0-requires": ["bp", "spo2"],
        },
    )
    assert response.status_code == 302
    added = MonitoringProtocol.objects.get(name="Troche, short stay")
    assert added.versions.get().checkpoints[0]["requires"] == ["bp", "spo2"]
    assert version.pk == oral.versions.get().pk  # deactivating made no new version
    assert AuditEvent.objects.filter(record_type="monitoringprotocol", action="create").count() == 1


def test_a_form_claiming_a_thousand_checkpoints_is_refused_and_builds_no_more_than_forty(client, admin_user):
    """The row count comes from the form itself: a claim past the limit gets the message, not 1,000 rows rendered."""
    protocol = MonitoringProtocol.objects.get(name="Intranasal esketamine")
    client.force_login(admin_user)
    confirm_identity(client)
    versions = protocol.versions.count()

    response = client.post(
        reverse("protocol_edit", args=[protocol.pk]), _form_post(protocol, **{"cp-TOTAL_FORMS": "1000"})
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Please submit at most 40 forms." in html
    assert html.count('class="border rounded p-2 mb-2 checkpoint-row"') <= 40
    assert protocol.versions.count() == versions
