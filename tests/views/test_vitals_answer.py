"""The answer to a saved reading shows each section exactly as the whole page would.

The vitals POST answers (htmx) with what a reading changes: the entry form, the new row, the scales'
summary, the protocol's checkpoints and the discharge criteria (`_vitals_saved.html`). It reads the
session narrowly (`session_for_vitals_answer`, `vitals_answer_context`), not as the page does
(`session_get`, `session_context`). Rendered from both, on a stopped clock, the answer must be the same
HTML in every state a reading can be saved in: an infusion running on a protocol, one stopped with the
discharge waiting and a checkpoint missed, an esketamine session with its REMS form pending, a refused
reading's form, a physician's override.
"""

import re

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from records.actions.medications import administration_stop
from records.actions.protocols import checkpoint_missed_reason
from records.models import Administration, Session
from records.selectors import session_for_vitals_answer, session_get
from records.views.sessions.page import session_context, vitals_answer_context, vitals_form
from tests.charting import esketamine_session
from tests.conftest import actor_for
from tests.views.test_protocol_views import FULL, chart, later, running
from tests.views.test_rems_form import at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_protocols")]

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def answers(user, session: Session, **forms) -> tuple[str, str]:
    """The answer rendered from the page's context and from the answer's own, at the same instant."""
    request = RequestFactory().post("/")
    request.user = user
    user.is_verified = lambda: True  # signed in with the authenticator code, as django-otp's middleware marks it
    request.htmx = True
    rendered = []
    with time_machine.travel(timezone.now(), tick=False):
        for context in (
            session_context(request, session_get(user=user, pk=session.pk), **forms),
            vitals_answer_context(
                request, session_for_vitals_answer(user=user, pk=session.pk), entry_form=forms.get("vitals_form")
            ),
        ):
            context["vitals_saved"] = True
            context["new_reading"] = context["readings"][-1] if context["readings"] else None
            context["before_reading"] = None
            rendered.append(CSRF.sub("", render_to_string("records/sessions/_vitals_saved.html", context, request)))
    return rendered[0], rendered[1]


def test_an_infusion_running_on_its_protocol(nurse, sessions, patient):
    session = running(sessions, patient, nurse)
    with later(12):
        chart(session, nurse)
        page, answer = answers(nurse, session)
    assert "Every 15 min while running" in answer and 'id="monitoring"' in answer and 'name="systolic"' in answer
    assert answer == page


def test_a_stopped_infusion_with_the_discharge_waiting_and_a_checkpoint_missed(nurse, physician, sessions, patient):
    session = running(sessions, patient, nurse)
    with later(25):
        checkpoint_missed_reason(
            actor=actor_for(nurse), session=session, checkpoint_key="1.1", reason="Cuff cycling failed"
        )
    with later(40):
        administration_stop(
            actor=actor_for(nurse),
            administration=Administration.objects.get(session=session),
            amount_given_value="35",
            amount_given_unit="mg",
        )
        chart(session, nurse, phase="post", systolic=150, diastolic=95, heart_rate=80, moaas=4)
        nurse_answer = answers(nurse, Session.objects.get(pk=session.pk))
        physician_answer = answers(physician, Session.objects.get(pk=session.pk))
    assert "The discharge waits for" in nurse_answer[1] and "Cuff cycling failed" in nurse_answer[1]
    assert nurse_answer[1] == nurse_answer[0]
    # The physician is offered the override (with its form) in the same section.
    assert "Override as" in physician_answer[1]
    assert physician_answer[1] == physician_answer[0]


def test_an_esketamine_session_before_its_discharge(nurse, sessions, patient):
    with time_machine.travel(at("09:40"), tick=False) as clock:
        session = esketamine_session(sessions, patient, clock, at, discharge=False)
        clock.move_to(at("12:00"))
        page, answer = answers(nurse, session)
    assert "Discharge criteria" in answer or "Before the patient leaves" in answer
    assert answer == page


def test_a_refused_readings_form_comes_back_the_same(nurse, sessions, patient):
    session = running(sessions, patient, nurse)
    refused = vitals_form(session, {"measured_at": "", "phase": "during", "systolic": "400", "diastolic": "x"})
    assert not refused.is_valid()
    with later(5):
        page, answer = answers(nurse, session, vitals_form=refused)
    assert "is-invalid" in answer or "invalid-feedback" in answer
    assert answer == page


def test_the_comparison_sees_a_section_that_differs(nurse, sessions, patient):
    """A control: with one reading fewer in the answer's context, the two are not the same."""
    session = running(sessions, patient, nurse)
    with later(12):
        chart(session, nurse, **{**FULL, "moaas": 3})
        page, _ = answers(nurse, session)
        request = RequestFactory().post("/")
        request.user = nurse
        narrow = session_for_vitals_answer(user=nurse, pk=session.pk)
        context = vitals_answer_context(request, narrow)
        context.update(vitals_saved=True, new_reading=context["readings"][-1], before_reading=None)
        context["readings"] = context["readings"][:-1]
        context["lowest_moaas"] = None
        other = CSRF.sub("", render_to_string("records/sessions/_vitals_saved.html", context, request))
    assert other != page
