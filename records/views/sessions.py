"""Session pages: the chairside chart, today's board, and the forms that chart a session.

Every POST view calls one action; on bad input it re-renders with field messages
(the whole page without JavaScript, the section only for an htmx request).
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records import workflow
from records.actions import medications as med
from records.actions.context import ActionRefused, actor_from_request
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import (
    addendum_add,
    session_arrive,
    session_begin_screening,
    session_board_view,
    session_cancel,
    session_cosign,
    session_schedule,
    session_sign,
    session_view,
)
from records.actions.side_effects import discharge_record, side_effect_record, side_effect_resolve
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.doses import DoseUnit
from records.forms.sessions import (
    AddendumForm,
    AdministrationEventForm,
    AdministrationStartForm,
    AdministrationStopForm,
    CancelForm,
    DischargeForm,
    EnteredInErrorForm,
    OrderForm,
    ScreeningDecisionForm,
    ScreeningForm,
    SessionScheduleForm,
    SideEffectForm,
    SideEffectResolveForm,
    VitalsForm,
    now_local,
)
from records.models import AdministrationState, ClinicSettings, Phase, SessionStatus
from records.models.clinic import REFERENCE_RANGE_FIELDS
from records.selectors import patient_get, session_get, sessions_for_day
from records.views.common import apply_action_errors, permission_required
from records.views.reauth import reauth_required

CHART = "chart_session"
ONLY_NURSES = "Only a nurse may chart a session."


def _detail_url(session, anchor: str = "") -> str:
    return reverse("session_detail", args=[session.pk]) + (f"#{anchor}" if anchor else "")


def _default_phase(session) -> str:
    if session.status in workflow.BEFORE_START:
        return Phase.PRE
    if session.status == SessionStatus.IN_PROGRESS:
        return Phase.DURING
    return Phase.POST


def _vitals_form(session, data=None) -> VitalsForm:
    return VitalsForm(data, initial={"measured_at": now_local(), "phase": _default_phase(session)})


def _flag_readings(readings, clinic: ClinicSettings) -> None:
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


def session_context(request, session, **forms) -> dict:
    """Everything the session page and its sections show."""
    clinic = ClinicSettings.current()
    readings = list(session.readings.all())
    _flag_readings(readings, clinic)
    valid = [r for r in readings if not r.in_error]
    events = list(session.administration_events.all())
    administrations = list(session.administrations.all())
    given_orders = {a.order_id for a in administrations}
    orders = list(session.orders.all())
    screening = getattr(session, "screening", None)
    open_chart = not session.is_locked
    last = max((r.measured_at for r in valid), default=None)
    context = {
        "session": session,
        "patient": session.patient,
        "age": session.patient.age_on(timezone.localdate()),
        "clinic": clinic,
        "readings": readings,
        "valid_readings": valid,
        "events": events,
        "orders": orders,
        "orders_not_started": [o for o in orders if o.pk not in given_orders],
        "administrations": administrations,
        "active_administrations": [a for a in administrations if a.state != AdministrationState.STOPPED],
        "side_effects": list(session.side_effects.all()),
        "addenda": list(session.addenda.all()),
        "screening": screening,
        "discharge": getattr(session, "discharge", None),
        "can_chart_vitals": open_chart and session.status in workflow.IN_CHAIR,
        "can_cancel": open_chart and session.status in workflow.BEFORE_START,
        "can_order": open_chart and session.status in workflow.ORDER_STATES,
        "can_start": open_chart
        and session.status in workflow.ADMINISTRATION_STATES
        and screening is not None
        and screening.allows_administration,
        "can_side_effect": open_chart and session.status in (SessionStatus.CLEARED, *workflow.MONITORED),
        "can_discharge": open_chart and session.status in (SessionStatus.RECOVERY, SessionStatus.STOPPED_EARLY),
        "can_sign": open_chart
        and session.status in (SessionStatus.DISCHARGED, SessionStatus.CANCELLED, SessionStatus.NO_SHOW),
        "vitals_due_at": (last + timedelta(minutes=clinic.vitals_interval_minutes))
        if last and session.status in workflow.MONITORED
        else None,
        "now": timezone.now(),
        "dose_units": DoseUnit.choices,
        "vitals_form": forms.get("vitals_form") or _vitals_form(session),
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
    return context


def _render_session(request, pk: int, status: int = 200, **forms):
    session = session_get(user=request.user, pk=pk)
    return render(request, "records/sessions/detail.html", session_context(request, session, **forms), status=status)


def _refused(request, session, exc) -> None:
    messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))


# Pages ---------------------------------------------------------------------------


@require_GET
@permission_required("view_session")
def session_board(request):
    """Today's sessions by chair and state; the board element re-fetches itself with htmx."""
    sessions = list(sessions_for_day(user=request.user))
    clinic = ClinicSettings.current()
    now = timezone.now()
    interval = timedelta(minutes=clinic.vitals_interval_minutes)
    for s in sessions:
        s.monitored = s.status in workflow.MONITORED
        s.vitals_due_at = (s.last_vitals_at + interval) if s.last_vitals_at else None
        s.vitals_due = s.monitored and (s.vitals_due_at is None or s.vitals_due_at <= now)
    columns = [
        ("Waiting", [s for s in sessions if s.status in (SessionStatus.SCHEDULED, SessionStatus.ARRIVED)]),
        (
            "Screening",
            [s for s in sessions if s.status in (SessionStatus.SCREENING, SessionStatus.HELD, SessionStatus.CLEARED)],
        ),
        ("In chair", [s for s in sessions if s.status in workflow.MONITORED]),
        (
            "Done",
            [
                s
                for s in sessions
                if s.status
                in (
                    SessionStatus.DISCHARGED,
                    SessionStatus.SIGNED,
                    SessionStatus.COSIGNED,
                    SessionStatus.CANCELLED,
                    SessionStatus.NO_SHOW,
                )
            ],
        ),
    ]
    context = {
        "columns": columns,
        "session_count": len(sessions),
        "held_count": sum(1 for s in sessions if s.status == SessionStatus.HELD),
        "due_count": sum(1 for s in sessions if s.vitals_due),
        "clinic": clinic,
        "now": now,
        "today": timezone.localdate(),
    }
    if request.htmx:
        return render(request, "records/sessions/_board.html", context)
    session_board_view(actor=actor_from_request(request), session_count=len(sessions))
    return render(request, "records/sessions/board.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("add_session")
def patient_session_new(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    form = SessionScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = session_schedule(actor=actor_from_request(request), patient=patient, **form.cleaned_data)
        except ValidationError as exc:
            apply_action_errors(form, exc)
        except ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Session scheduled.")
            return redirect("session_detail", pk=session.pk)
    return render(
        request,
        "records/sessions/form.html",
        {
            "form": form,
            "patient": patient,
            "title": f"Schedule a session for {patient.display_name}",
            "submit": "Schedule session",
            "cancel_url": reverse("patient_detail", args=[patient.pk]),
        },
        status=400 if form.errors else 200,
    )


@require_GET
@permission_required("view_session")
def session_detail(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    session_view(actor=actor_from_request(request), session=session)
    return render(request, "records/sessions/detail.html", session_context(request, session))


# State transitions ----------------------------------------------------------------


def _simple_transition(request, pk: int, call, done: str, anchor: str = ""):
    session = session_get(user=request.user, pk=pk)
    try:
        call(actor=actor_from_request(request), session=session)
    except (ActionRefused, ValidationError) as exc:
        _refused(request, session, exc)
    else:
        messages.success(request, done)
    return redirect(_detail_url(session, anchor))


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_arrive_view(request, pk: int):
    return _simple_transition(request, pk, session_arrive, "Patient checked in.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_begin_screening_view(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    try:
        session_begin_screening(actor=actor_from_request(request), session=session)
    except ActionRefused as exc:
        _refused(request, session, exc)
        return redirect(_detail_url(session))
    return redirect("session_screening", pk=session.pk)


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_cancel_view(request, pk: int):
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_session(request, pk, status=400, cancel_form=form)
    session = session_get(user=request.user, pk=pk)
    try:
        session_cancel(
            actor=actor_from_request(request),
            session=session,
            reason=form.cleaned_data["reason"],
            no_show=form.cleaned_data["no_show"],
        )
    except ValidationError as exc:
        apply_action_errors(form, exc)
        return _render_session(request, pk, status=400, cancel_form=form)
    except ActionRefused as exc:
        _refused(request, session, exc)
    else:
        messages.success(request, "No-show recorded." if form.cleaned_data["no_show"] else "Session cancelled.")
    return redirect(_detail_url(session))


@require_POST
@permission_required(CHART, ONLY_NURSES)
@reauth_required("signing the session")
def session_sign_view(request, pk: int):
    """The nurse's signature: its own POST URL, so re-authentication can be required here later."""
    return _simple_transition(request, pk, session_sign, "Session signed and locked.", "signatures")


@require_POST
@permission_required("cosign_session", "Only a physician may co-sign a session.")
@reauth_required("co-signing the session")
def session_cosign_view(request, pk: int):
    """The physician's co-signature: its own POST URL, so re-authentication can be required here later."""
    return _simple_transition(request, pk, session_cosign, "Session co-signed.", "signatures")


# Forms on their own pages ------------------------------------------------------------


def _form_page(request, session, form, title: str, submit: str, template="records/sessions/form.html", **extra):
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
            "cancel_url": _detail_url(session),
            **extra,
        },
        status=400 if form.errors else 200,
    )


def _form_view(request, pk: int, form, call, done: str, title: str, submit: str, anchor: str = "", **extra):
    session = session_get(user=request.user, pk=pk)
    if request.method == "POST" and form.is_valid():
        try:
            call(actor_from_request(request), session, form.cleaned_data)
        except ValidationError as exc:
            apply_action_errors(form, exc)
        except ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect(_detail_url(session, anchor))
    return _form_page(request, session, form, title, submit, **extra)


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_screening(request, pk: int):
    form = ScreeningForm(request.POST or None)

    def call(actor, session, data):
        screening = screening_record(actor=actor, session=session, **data)
        if screening.outcome == "held":
            messages.warning(request, "Screening held for physician review: nothing may be administered until then.")

    return _form_view(
        request,
        pk,
        form,
        call,
        "Screening recorded.",
        "Contraindication screening",
        "Record screening",
        template="records/sessions/screening_form.html",
    )


@require_http_methods(["GET", "POST"])
@permission_required("decide_screening", "Only a physician may decide on a held screening.")
def session_screening_decision(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    screening = getattr(session, "screening", None)
    if screening is None:
        raise Http404("This session has no screening.")
    form = ScreeningDecisionForm(request.POST or None)

    def call(actor, session, data):
        screening_decide(actor=actor, screening=screening, **data)

    return _form_view(
        request,
        pk,
        form,
        call,
        "Decision recorded.",
        "Decision on a held screening",
        "Record decision",
        template="records/sessions/decision_form.html",
        screening=screening,
    )


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_order_new(request, pk: int):
    form = OrderForm(request.POST or None, initial={"received_at": now_local()})

    def call(actor, session, data):
        med.order_document(actor=actor, session=session, **data)

    return _form_view(
        request,
        pk,
        form,
        call,
        "Order documented.",
        "Document the order as given",
        "Save order",
        "orders",
        template="records/sessions/order_form.html",
    )


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_discharge(request, pk: int):
    form = DischargeForm(request.POST or None, initial={"discharged_at": now_local()})

    def call(actor, session, data):
        discharge_record(actor=actor, session=session, **data)

    return _form_view(request, pk, form, call, "Patient discharged.", "Discharge", "Discharge patient", "discharge")


# Charting on the session page ---------------------------------------------------------


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_vitals_record(request, pk: int):
    """Save one flowsheet row. With htmx, answer with the vitals section (new row, fresh form)."""
    session = session_get(user=request.user, pk=pk)
    form = _vitals_form(session, request.POST)
    saved = False
    if form.is_valid():
        try:
            vitals_record(
                actor=actor_from_request(request),
                session=session,
                measured_at=form.cleaned_data["measured_at"],
                phase=form.cleaned_data["phase"],
                **form.values(),
            )
        except ValidationError as exc:
            apply_action_errors(form, exc)
        except ActionRefused as exc:
            form.add_error(None, str(exc))
        else:
            saved = True
    if saved and not request.htmx:
        messages.success(request, "Reading saved.")
        return redirect(_detail_url(session, "vitals"))
    if request.htmx:
        session = session_get(user=request.user, pk=pk)
        context = session_context(request, session, vitals_form=None if saved else form)
        context["vitals_saved"] = saved
        return render(request, "records/sessions/_vitals.html", context)
    return _render_session(request, pk, status=400, vitals_form=form)


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_vitals_error(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    form = EnteredInErrorForm(request.POST)
    reading = None
    if form.is_valid():
        reading = next((r for r in session.readings.all() if r.pk == form.cleaned_data["reading"]), None)
        if reading is None:
            raise Http404("No such reading in this session.")
        try:
            vitals_mark_entered_in_error(
                actor=actor_from_request(request), reading=reading, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_action_errors(form, exc)
        except ActionRefused as exc:
            _refused(request, session, exc)
            return redirect(_detail_url(session, "vitals"))
        else:
            messages.success(request, "Reading marked entered in error.")
            return redirect(_detail_url(session, "vitals"))
    messages.error(request, "Not marked: give the reason the reading is wrong.")
    return redirect(_detail_url(session, "vitals"))


def _object_in(collection, pk):
    found = next((item for item in collection if item.pk == pk), None)
    if found is None:
        raise Http404("Not part of this session.")
    return found


def _session_form_post(request, pk: int, form, form_key: str, call, done: str, anchor: str):
    session = session_get(user=request.user, pk=pk)
    if form.is_valid():
        try:
            call(actor_from_request(request), session, form.cleaned_data)
        except ValidationError as exc:
            apply_action_errors(form, exc)
        except ActionRefused as exc:
            _refused(request, session, exc)
            return redirect(_detail_url(session, anchor))
        else:
            messages.success(request, done)
            return redirect(_detail_url(session, anchor))
    return _render_session(request, pk, status=400, **{form_key: form})


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_administration_start(request, pk: int):
    def call(actor, session, data):
        order = _object_in(session.orders.all(), data["order"])
        med.administration_start(actor=actor, order=order, site=data["site"], lot_number=data["lot_number"])

    return _session_form_post(
        request,
        pk,
        AdministrationStartForm(request.POST),
        "start_form",
        call,
        "Administration started.",
        "administration",
    )


def _pause_or_resume(request, pk: int, action, done: str):
    def call(actor, session, data):
        administration = _object_in(session.administrations.all(), data["administration"])
        action(actor=actor, administration=administration, reason=data["reason"])

    return _session_form_post(
        request, pk, AdministrationEventForm(request.POST), "event_form", call, done, "administration"
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_administration_pause(request, pk: int):
    return _pause_or_resume(request, pk, med.administration_pause, "Administration paused.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_administration_resume(request, pk: int):
    return _pause_or_resume(request, pk, med.administration_resume, "Administration resumed.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_administration_stop(request, pk: int):
    def call(actor, session, data):
        administration = _object_in(session.administrations.all(), data["administration"])
        med.administration_stop(
            actor=actor,
            administration=administration,
            amount_given_value=data["amount_given_value"],
            amount_given_unit=data["amount_given_unit"],
            early_reason=data["early_reason"],
        )

    return _session_form_post(
        request,
        pk,
        AdministrationStopForm(request.POST),
        "stop_form",
        call,
        "Administration stopped.",
        "administration",
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_side_effect_record(request, pk: int):
    def call(actor, session, data):
        side_effect_record(actor=actor, session=session, **data)

    return _session_form_post(
        request, pk, SideEffectForm(request.POST), "side_effect_form", call, "Side effect recorded.", "side-effects"
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_side_effect_resolve(request, pk: int):
    def call(actor, session, data):
        effect = _object_in(session.side_effects.all(), data["side_effect"])
        side_effect_resolve(actor=actor, side_effect=effect, resolved_at=data["resolved_at"])

    return _session_form_post(
        request,
        pk,
        SideEffectResolveForm(request.POST),
        "resolve_form",
        call,
        "Resolution recorded.",
        "side-effects",
    )


@require_POST
@permission_required("write_addendum")
def session_addendum(request, pk: int):
    def call(actor, session, data):
        addendum_add(actor=actor, session=session, **data)

    return _session_form_post(
        request, pk, AddendumForm(request.POST), "addendum_form", call, "Addendum added.", "addenda"
    )
