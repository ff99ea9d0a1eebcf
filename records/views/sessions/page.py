"""The session page: the chairside chart, what its sections show and offer, and how a POST from it answers.

A POST from the page runs one action. It answers with a redirect back to the page (with
a message) when the action worked or was refused, and with the whole page and the
section's form and field messages when the input was wrong. A form on a page of its own
(screening, order, discharge ...) is shown again with its messages.
"""

from datetime import timedelta

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from records import discharge_criteria, monitoring, rems, scales, workflow
from records.actions.context import actor_from_request
from records.actions.rems import AFTER_DISCHARGE
from records.actions.sessions import session_view
from records.doses import DoseUnit
from records.forms.sessions import (
    AddendumForm,
    CancelForm,
    DischargeOverrideForm,
    SideEffectForm,
    VitalsForm,
    now_local,
)
from records.models import AdministrationState, ClinicSettings, RemsMonitoringForm
from records.models.clinic import REFERENCE_RANGE_FIELDS
from records.models.vitals import SCALE_FIELDS
from records.selectors import session_get
from records.views.common import permission_required, run_action

CHART = "chart_session"
ONLY_NURSES = "Only a nurse may chart a session."


def detail_url(session, anchor: str = "") -> str:
    return reverse("session_detail", args=[session.pk]) + (f"#{anchor}" if anchor else "")


def vitals_form(session, data=None) -> VitalsForm:
    return VitalsForm(data, initial={"measured_at": now_local(), "phase": workflow.vitals_phase(session)})


def flag_readings(readings, clinic: ClinicSettings) -> None:
    """Mark each reading's values outside the clinic's reference ranges (flagged, never refused)."""
    for reading in readings:
        reading.flags = {}
        for vital in REFERENCE_RANGE_FIELDS:
            value = getattr(reading, vital)
            if value is None:
                continue
            low, high = clinic.reference_range(vital)
            if value < low:
                reading.flags[vital] = "low"
            elif value > high:
                reading.flags[vital] = "high"


def vitals_answer_context(request, session, *, entry_form=None, override_form=None) -> dict:
    """What a saved reading changes on the page: the vitals entry and rows, the scales' summary, the
    protocol's checkpoints and the discharge criteria (`_vitals_saved.html`). The session needs only what
    `session_for_vitals_answer` reads; `session_context` is this and the rest of the page, so the two
    cannot show a section differently (tests/views/test_vitals_answer.py renders both)."""
    clinic = ClinicSettings.current()
    readings = list(session.readings.all())
    flag_readings(readings, clinic)
    valid = [r for r in readings if not r.in_error]
    steps = workflow.available_steps(session)
    last = max((r.measured_at for r in valid), default=None)
    now = timezone.now()
    checkpoints = monitoring.session_monitoring(session, now)
    following = checkpoints.next if checkpoints else None
    can_discharge = "discharge" in steps
    unmet = discharge_criteria.unmet_criteria(session, now=now) if can_discharge else []
    esketamine = rems.is_esketamine(session)
    return {
        "session": session,
        "patient": session.patient,
        "clinic": clinic,
        "readings": readings,
        "valid_readings": valid,
        "can_chart_vitals": "chart_vitals" in steps,
        "can_discharge": can_discharge,
        # Discharge that waits (records.discharge_criteria) and the physician's overrides.
        "discharge_unmet": unmet,
        "discharge_overridable": any(u.overridable for u in unmet),
        "discharge_overrides": list(session.discharge_overrides.all()),
        "override_form": override_form or DischargeOverrideForm(),
        "lowest_moaas": scales.lowest_moaas(readings),
        "highest_cadss6": scales.highest_cadss6(readings),
        "is_esketamine": esketamine,
        "rems_form": RemsMonitoringForm.objects.select_related("recorded_by", "submitted_by")
        .filter(session=session)
        .first()
        if esketamine
        else None,
        "rems_due_on": rems.due_on(session) if esketamine else None,
        "rems_recordable": session.status in AFTER_DISCHARGE,
        # The clinic's fixed interval only where no monitoring protocol applies.
        "vitals_due_at": (last + timedelta(minutes=clinic.vitals_interval_minutes))
        if last and workflow.monitored(session) and checkpoints is None
        else None,
        "monitoring": checkpoints,
        "next_checkpoint": following,
        # The quick-entry row asks for what the next checkpoint requires, in flowsheet order.
        "asked_fields": (asked := monitoring.requirement_field_names(following.requires) if following else []),
        "scales_asked": any(name in SCALE_FIELDS for name in asked),
        "can_record_missed": "chart_vitals" in steps and not session.is_locked,
        "now": now,
        "vitals_form": entry_form or vitals_form(session),
    }


def session_context(request, session, **forms) -> dict:
    """Everything the session page and its sections show; the `can_*` flags are records.workflow's answers."""
    context = vitals_answer_context(
        request, session, entry_form=forms.get("vitals_form"), override_form=forms.get("override_form")
    )
    steps = workflow.available_steps(session)
    events = list(session.administration_events.all())
    administrations = list(session.administrations.all())
    given_orders = {a.order_id for a in administrations}
    orders = list(session.orders.all())
    screening = getattr(session, "screening", None)
    return {
        **context,
        "age": session.patient.age_on(timezone.localdate()),
        "events": events,
        "orders": orders,
        "orders_not_started": [o for o in orders if o.pk not in given_orders],
        "administrations": administrations,
        "active_administrations": [a for a in administrations if a.state != AdministrationState.STOPPED],
        "side_effects": list(session.side_effects.all()),
        "addenda": list(session.addenda.all()),
        "screening": screening,
        "discharge": getattr(session, "discharge", None),
        "can_arrive": "arrive" in steps,
        "can_begin_screening": "begin_screening" in steps,
        "can_screen": "screen" in steps,
        "can_decide": "decide_proceed" in steps,
        "can_cancel": "cancel" in steps,
        "can_order": "document_order" in steps,
        # The action also refuses until the screening allows it; the page offers what the action would accept.
        "can_start": "administer" in steps and screening is not None and screening.allows_administration,
        "can_side_effect": "record_side_effect" in steps,
        "can_sign": "sign" in steps,
        "can_cosign": "cosign" in steps,
        "dose_units": DoseUnit.choices,
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "start_form": forms.get("start_form"),
        "event_form": forms.get("event_form"),
        "stop_form": forms.get("stop_form"),
        "side_effect_form": forms.get("side_effect_form") or SideEffectForm(initial={"onset_at": now_local()}),
        "addendum_form": forms.get("addendum_form") or AddendumForm(),
        "error_form": forms.get("error_form"),
        "resolve_form": forms.get("resolve_form"),
        "form_error": forms.get("form_error"),
    }


def render_session(request, pk: int, status: int = 200, **forms):
    """The whole session page, read afresh, with the given sections' forms (and their messages)."""
    session = session_get(user=request.user, pk=pk)
    return render(request, "records/sessions/detail.html", session_context(request, session, **forms), status=status)


@require_GET
@permission_required("view_session")
def session_detail(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    session_view(actor=actor_from_request(request), session=session)
    return render(request, "records/sessions/detail.html", session_context(request, session))


@require_GET
@permission_required("view_session")
def session_vitals_charts(request, pk: int):
    """The session's charts alone: the page asks for them again after a reading is saved."""
    session = session_get(user=request.user, pk=pk)
    session_view(actor=actor_from_request(request), session=session, what="vitals charts")
    return render(
        request,
        "records/sessions/_vitals_charts.html",
        {
            "session": session,
            "valid_readings": [r for r in session.readings.all() if not r.in_error],
            "events": list(session.administration_events.all()),
        },
    )


# How a POST from the page answers ------------------------------------------------------


def object_in(collection, pk):
    """The order, administration or side effect `pk` of this session, or 404."""
    found = next((item for item in collection if item.pk == pk), None)
    if found is None:
        raise Http404("Not part of this session.")
    return found


def button_post(request, pk: int, call, done: str, anchor: str = ""):
    """A button with no fields (check in, sign ...): run the action `call`, then back to the page."""
    session = session_get(user=request.user, pk=pk)
    run_action(request, lambda: call(actor=actor_from_request(request), session=session), success=done)
    return redirect(detail_url(session, anchor))


def section_post(request, pk: int, form, form_key: str, call, done: str, anchor: str = ""):
    """A form in a section of the page: run `call(actor, session, cleaned_data)`.

    Back to the page when it worked or was refused (the refusal as a message); the page
    again, with this form's messages under `form_key`, when the input was wrong.
    """
    session = session_get(user=request.user, pk=pk)
    if form.is_valid():
        result = run_action(
            request,
            lambda: call(actor_from_request(request), session, form.cleaned_data),
            form=form,
            refusal_as_message=True,
            success=done,
        )
        if result or result.refused:
            return redirect(detail_url(session, anchor))
    return render_session(request, pk, status=400, **{form_key: form})


def form_page(request, session, form, title: str, submit: str, template="records/sessions/form.html", **extra):
    return render(
        request,
        template,
        {
            "form": form,
            "session": session,
            "patient": session.patient,
            "age": session.patient.age_on(timezone.localdate()),
            "title": title,
            "submit": submit,
            "cancel_url": detail_url(session),
            **extra,
        },
        status=400 if form.errors else 200,
    )


def form_page_post(request, session, form, call, done: str, title: str, submit: str, anchor: str = "", **extra):
    """A form on a page of its own: on a valid POST run `call(actor, session, cleaned_data)`.

    Back to the session page when it worked; otherwise the form again with the
    field messages, or the refusal above the form.
    """
    if request.method == "POST" and form.is_valid():
        result = run_action(
            request, lambda: call(actor_from_request(request), session, form.cleaned_data), form=form, success=done
        )
        if result:
            return redirect(detail_url(session, anchor))
    return form_page(request, session, form, title, submit, **extra)
