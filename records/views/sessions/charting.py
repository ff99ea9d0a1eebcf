"""Charting a session: check-in, screening and the physician's decision, orders, administration,
vitals, side effects, discharge and cancellation. Nurses, except the decision on a held screening.

Each view parses one form and runs one action (records/actions/); the action checks the
session's state against records.workflow and refuses with a message the page shows.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from records import discharge_criteria, workflow
from records.actions import medications as med
from records.actions.context import actor_from_request
from records.actions.screening import screening_decide, screening_record
from records.actions.sessions import session_arrive, session_begin_screening, session_cancel, session_view
from records.actions.side_effects import discharge_override, discharge_record, side_effect_record, side_effect_resolve
from records.actions.vitals import vitals_mark_entered_in_error, vitals_record
from records.forms.sessions import (
    AdministrationEventForm,
    AdministrationStartForm,
    AdministrationStopForm,
    CancelForm,
    DischargeForm,
    DischargeOverrideForm,
    EnteredInErrorForm,
    OrderForm,
    ScreeningDecisionForm,
    ScreeningForm,
    SideEffectForm,
    SideEffectResolveForm,
    now_local,
)
from records.models import ScreeningOutcome, SessionStatus
from records.selectors import session_for_vitals_answer, session_for_write, session_get
from records.views.common import permission_required, run_action
from records.views.reauth import reauth_required
from records.views.sessions.page import (
    CHART,
    ONLY_NURSES,
    button_post,
    detail_url,
    form_page_post,
    object_in,
    render_session,
    section_post,
    vitals_answer_context,
    vitals_form,
)


def viewed(request, session, what: str) -> None:
    """A form page of its own shows the session's patient: opening it is a read, audited."""
    if request.method == "GET":
        session_view(actor=actor_from_request(request), session=session, what=what)


# Before the start --------------------------------------------------------------------------


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_arrive_view(request, pk: int):
    return button_post(request, pk, session_arrive, "Patient checked in.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_begin_screening_view(request, pk: int):
    """Begin the screening and go straight to its form."""
    session = session_get(user=request.user, pk=pk)
    if not run_action(request, lambda: session_begin_screening(actor=actor_from_request(request), session=session)):
        return redirect(detail_url(session))
    return redirect("session_screening", pk=session.pk)


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_cancel_view(request, pk: int):
    form = CancelForm(request.POST)
    no_show = form.is_valid() and form.cleaned_data["no_show"]

    def call(actor, session, data):
        session_cancel(actor=actor, session=session, reason=data["reason"], no_show=data["no_show"])

    return section_post(
        request, pk, form, "cancel_form", call, "No-show recorded." if no_show else "Session cancelled."
    )


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_screening(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    viewed(request, session, "screening form")
    form = ScreeningForm(request.POST or None)

    def call(actor, session, data):
        screening = screening_record(actor=actor, session=session, **data)
        if screening.outcome == ScreeningOutcome.HELD:
            messages.warning(request, "Screening held for physician review: nothing may be administered until then.")

    return form_page_post(
        request,
        session,
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
    viewed(request, session, "screening decision form")
    form = ScreeningDecisionForm(request.POST or None)

    def call(actor, session, data):
        screening_decide(actor=actor, screening=screening, **data)

    return form_page_post(
        request,
        session,
        form,
        call,
        "Decision recorded.",
        "Decision on a held screening",
        "Record decision",
        template="records/sessions/decision_form.html",
        screening=screening,
    )


# The order and its administration ---------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_order_new(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    viewed(request, session, "order form")
    form = OrderForm(request.POST or None, initial={"received_at": now_local()})

    def call(actor, session, data):
        try:
            med.order_document(actor=actor, session=session, **data)
        except med.OrderAlreadyRecorded as exc:  # the same form sent twice: one order, and say so
            messages.info(request, str(exc))
        else:
            messages.success(request, "Order documented.")

    return form_page_post(
        request,
        session,
        form,
        call,
        "",
        "Document the order as given",
        "Save order",
        "orders",
        template="records/sessions/order_form.html",
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_administration_start(request, pk: int):
    def call(actor, session, data):
        order = object_in(session.orders.all(), data["order"])
        med.administration_start(actor=actor, order=order, site=data["site"], lot_number=data["lot_number"])

    return section_post(
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
        administration = object_in(session.administrations.all(), data["administration"])
        action(actor=actor, administration=administration, reason=data["reason"])

    return section_post(request, pk, AdministrationEventForm(request.POST), "event_form", call, done, "administration")


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
        administration = object_in(session.administrations.all(), data["administration"])
        med.administration_stop(
            actor=actor,
            administration=administration,
            amount_given_value=data["amount_given_value"],
            amount_given_unit=data["amount_given_unit"],
            early_reason=data["early_reason"],
        )

    return section_post(
        request,
        pk,
        AdministrationStopForm(request.POST),
        "stop_form",
        call,
        "Administration stopped.",
        "administration",
    )


# Vitals -----------------------------------------------------------------------------------


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_vitals_record(request, pk: int):
    """Save one flowsheet row. With htmx, answer with the row and what changed with it.

    The answer is the fresh form, the new row, and out of band the scales' summary, the protocol's
    checkpoints (a saved reading may have done the next one) and the discharge criteria, which follow
    every reading. The charts are asked for by the page afterwards (the "vitals-charted" event), so the
    nurse's answer does not wait for them. A refused reading changes nothing: the form comes back alone.
    """
    session = session_for_write(user=request.user, pk=pk)
    form = vitals_form(session, request.POST)
    result = (
        run_action(
            request,
            lambda: vitals_record(
                actor=actor_from_request(request),
                session=session,
                measured_at=form.cleaned_data["measured_at"],
                phase=form.cleaned_data["phase"],
                **form.values(),
            ),
            form=form,
            # The htmx answer says it in the section itself.
            success="" if request.htmx else "Reading saved.",
        )
        if form.is_valid()
        else None
    )
    saved = bool(result)
    if saved and not request.htmx:
        return redirect(detail_url(session, "vitals"))
    if not request.htmx:
        return render_session(request, pk, status=400, vitals_form=form)
    session = session_for_vitals_answer(user=request.user, pk=pk)
    context = vitals_answer_context(request, session, entry_form=None if saved else form)
    context["vitals_saved"] = saved
    if not result:
        return render(request, "records/sessions/_vitals_entry.html", context)
    readings = context["readings"]
    position = next(i for i, r in enumerate(readings) if r.pk == result.value.pk)
    # The row goes where it belongs in the order measured: at the end (most readings), or before the
    # reading measured after it. The first reading puts the table back whole (its "No readings yet" goes).
    context["new_reading"] = readings[position] if len(readings) > 1 else None
    context["before_reading"] = readings[position + 1] if position + 1 < len(readings) else None
    return trigger_client_event(
        render(request, "records/sessions/_vitals_saved.html", context), "vitals-charted", after="settle"
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_vitals_error(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    form = EnteredInErrorForm(request.POST)
    if form.is_valid():
        reading = next((r for r in session.readings.all() if r.pk == form.cleaned_data["reading"]), None)
        if reading is None:
            raise Http404("No such reading in this session.")
        result = run_action(
            request,
            lambda: vitals_mark_entered_in_error(
                actor=actor_from_request(request), reading=reading, reason=form.cleaned_data["reason"]
            ),
            form=form,
            refusal_as_message=True,
            success="Reading marked entered in error.",
        )
        before = session.status
        session.refresh_from_db(fields=["status"])
        if result and before != session.status == SessionStatus.SCREENING:
            messages.warning(
                request, "That was the screening's blood pressure: the session is back to screening. Screen again."
            )
        if result or result.refused:
            return redirect(detail_url(session, "vitals"))
    messages.error(request, "Not marked: give the reason the reading is wrong.")
    return redirect(detail_url(session, "vitals"))


# Side effects and discharge ---------------------------------------------------------------


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_side_effect_record(request, pk: int):
    def call(actor, session, data):
        side_effect_record(actor=actor, session=session, **data)

    return section_post(
        request, pk, SideEffectForm(request.POST), "side_effect_form", call, "Side effect recorded.", "side-effects"
    )


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_side_effect_resolve(request, pk: int):
    def call(actor, session, data):
        effect = object_in(session.side_effects.all(), data["side_effect"])
        side_effect_resolve(actor=actor, side_effect=effect, resolved_at=data["resolved_at"])

    return section_post(
        request,
        pk,
        SideEffectResolveForm(request.POST),
        "resolve_form",
        call,
        "Resolution recorded.",
        "side-effects",
    )


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_discharge(request, pk: int):
    session = session_get(user=request.user, pk=pk)
    viewed(request, session, "discharge form")
    form = DischargeForm(request.POST or None, initial={"discharged_at": now_local()})

    def call(actor, session, data):
        discharge_record(actor=actor, session=session, **data)

    return form_page_post(
        request,
        session,
        form,
        call,
        "Patient discharged.",
        "Discharge",
        "Discharge patient",
        "discharge",
        template="records/sessions/discharge_form.html",
        discharge_unmet=discharge_criteria.unmet_criteria(session, now=timezone.now())
        if workflow.allowed(session, "discharge")
        else [],
        overridden=session.discharge_overrides.exists(),
    )


@require_POST
@permission_required("override_discharge", "Only a physician may override the discharge criteria.")
@reauth_required("overriding the discharge criteria")
def session_discharge_override(request, pk: int):
    """A physician's written decision that the patient may leave before the criteria are met (re-authenticated)."""

    def call(actor, session, data):
        discharge_override(actor=actor, session=session, reason=data["reason"])

    return section_post(
        request,
        pk,
        DischargeOverrideForm(request.POST),
        "override_form",
        call,
        "Override recorded: the nurse may discharge once the other criteria are met.",
        "discharge-criteria",
    )
