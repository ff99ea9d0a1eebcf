"""The physician's review of a patient: intake assessment, outcomes, history page and printed summary."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from records.actions.context import actor_from_request
from records.actions.disclosures import disclosure_record
from records.actions.intake import intake_record, intake_update
from records.actions.outcomes import outcome_record
from records.actions.patients import patient_view
from records.forms.review import HistoryFilterForm, IntakeForm, OutcomeForm, PreventiveTreatmentFormSet
from records.models import ClinicSettings
from records.monitoring import session_monitoring
from records.rendering.charts import scales_chart, vitals_chart
from records.rendering.pdf import render_pdf
from records.rendering.trends import bp_chart, headache_days_chart, pain_chart
from records.replica import reads_from_replica
from records.scales import highest_cadss6, lowest_moaas
from records.seals import record_to_print
from records.selectors import (
    intake_for_patient,
    intake_revisions,
    outcome_reports,
    patient_get,
    patient_history_sessions,
    session_get,
    session_trends,
    timeline_prefetch,
    trend_window,
)
from records.views.common import permission_required, run_action
from records.views.sessions.page import flag_readings

SESSIONS_PER_PAGE = 20
# The trends plot this many sessions at a time; their tables and the outcomes list follow the same period.
TREND_SESSIONS = 20
# Outcomes are reported at a recent session; older ones are not offered.
OUTCOME_SESSION_CHOICES = 12


def csp_nonce_of(request) -> str:
    nonce = get_nonce(request)
    return str(nonce) if nonce is not None else ""


def _header_context(request, patient) -> dict:
    return {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "intake": intake_for_patient(user=request.user, patient=patient),
    }


@require_GET
@permission_required("view_patient")
@permission_required("view_intakeassessment")
@permission_required("view_session")
def patient_history(request, pk: int):
    """One page for the whole course: header, intake summary, trends, outcomes and the session timeline.

    The timeline shows SESSIONS_PER_PAGE sessions a page; the trends, their tables and the outcomes show one
    period of TREND_SESSIONS sessions (`?trends=N`, 1 being the latest), each period named by its days.
    """
    patient = patient_get(user=request.user, pk=pk)
    patient_view(actor=actor_from_request(request), patient=patient, what="patient history")
    # The whole course, charts included: reads that may lag a moment, so the replica's when
    # one is configured and has the user's own last write (records.replica).
    with reads_from_replica(request):
        return _patient_history_page(request, patient)


def _patient_history_page(request, patient):
    context = _header_context(request, patient)
    form = HistoryFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    sessions = patient_history_sessions(user=request.user, patient=patient, **filters)
    if form.is_bound and not form.is_valid():
        sessions = sessions.none()
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    timeline_prefetch(list(page.object_list))  # the page's own instances, now loaded
    # The trends, their tables and the outcomes show one period of TREND_SESSIONS sessions (the latest
    # unless another is chosen), so that the page's work does not grow with the course.
    window = trend_window(user=request.user, patient=patient, number=request.GET.get("trends"), size=TREND_SESSIONS)
    outcomes = list(
        outcome_reports(
            user=request.user, patient=patient, reported_from=window.reported_from, reported_to=window.reported_to
        )
    )
    trends = session_trends(user=request.user, patient=patient, session_ids=window.session_ids)
    intake = context["intake"]
    nonce = csp_nonce_of(request)
    params = request.GET.copy()
    params.pop("page", None)
    others = request.GET.copy()  # what a change of period keeps: the filters and the timeline's page
    others.pop("trends", None)
    context.update(
        form=form,
        page=page,
        querystring=params.urlencode(),
        filtered=bool(filters),
        trend=window,
        trend_querystring=others.urlencode(),
        trend_kept=[(name, value) for name, values in others.lists() for value in values],
        outcomes=outcomes,
        headache_chart=headache_days_chart(
            [(o.reported_on, o.headache_days) for o in outcomes],
            intake.baseline_headache_days if intake else None,
            nonce=nonce,
        ),
        pain_chart=pain_chart(trends["pain"], nonce=nonce),
        bp_chart=bp_chart(trends["bp"], nonce=nonce),
        pain_points=trends["pain"],
        bp_points=trends["bp"],
    )
    return render(request, "records/review/history.html", context)


@require_GET
@permission_required("view_intakeassessment")
def patient_intake(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    patient_view(actor=actor_from_request(request), patient=patient, what="intake assessment")
    context = _header_context(request, patient)
    context["revisions"] = intake_revisions(user=request.user, intake=context["intake"]) if context["intake"] else []
    return render(request, "records/review/intake.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("add_intakeassessment", "Only a physician records the intake assessment.")
@permission_required("change_intakeassessment", "Only a physician records the intake assessment.")
def patient_intake_edit(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    intake = intake_for_patient(user=request.user, patient=patient)
    if not patient.is_active:
        messages.error(request, "This patient is deactivated; reactivate the record first.")
        return redirect("patient_intake", pk=patient.pk)
    if request.method == "GET":
        patient_view(actor=actor_from_request(request), patient=patient, what="intake assessment form")
    initial, treatments = {}, []
    if intake is not None:
        initial = {
            "diagnosis": intake.diagnosis,
            "baseline_headache_days": intake.baseline_headache_days,
            "relevant_history": intake.relevant_history,
            "notes": intake.notes,
            "version": intake.version,
        }
        treatments = intake.preventive_treatments
    form = IntakeForm(request.POST or None, initial=initial, revising=intake is not None)
    formset = PreventiveTreatmentFormSet(request.POST or None, initial=treatments, prefix="treatments")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        fields = {
            "diagnosis": data["diagnosis"],
            "baseline_headache_days": data["baseline_headache_days"],
            "relevant_history": data["relevant_history"],
            "notes": data["notes"],
            "preventive_treatments": [
                {"name": row.get("name", ""), "why_stopped": row.get("why_stopped", "")}
                for row in formset.cleaned_data
                if row
            ],
        }
        actor = actor_from_request(request)

        def save():
            if intake is None:
                return intake_record(actor=actor, patient=patient, **fields)
            return intake_update(
                actor=actor, intake=intake, expected_version=data["version"] or 0, reason=data["reason"], **fields
            )

        if run_action(request, save, form=form, success="Intake assessment saved."):
            return redirect("patient_intake", pk=patient.pk)
    return render(
        request,
        "records/review/intake_form.html",
        {**_header_context(request, patient), "form": form, "formset": formset},
    )


@require_http_methods(["GET", "POST"])
@permission_required("add_outcomereport", "Your role does not record patient outcomes.")
def patient_outcome_new(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    if request.method == "GET":
        patient_view(actor=actor_from_request(request), patient=patient, what="outcome form")
    history = patient_history_sessions(user=request.user, patient=patient)
    recent = history.filter(pk__in=list(history.values_list("pk", flat=True)[:OUTCOME_SESSION_CHOICES]))
    form = OutcomeForm(request.POST or None, sessions=recent)
    if request.method == "POST" and form.is_valid():
        recorded = run_action(
            request,
            lambda: outcome_record(actor=actor_from_request(request), patient=patient, **form.cleaned_data),
            form=form,
            success="Outcomes recorded.",
        )
        if recorded:
            return redirect("patient_history", pk=patient.pk)
    return render(request, "records/review/outcome_form.html", {**_header_context(request, patient), "form": form})


@require_GET
@permission_required("view_patient")
@permission_required("view_intakeassessment")
@permission_required("view_outcomereport")
@permission_required("view_session")
def patient_summary_pdf(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    context = _header_context(request, patient)
    outcomes = list(outcome_reports(user=request.user, patient=patient))
    intake = context["intake"]
    now = timezone.now()
    filename = f"patient-summary-{patient.mrn}-{timezone.localtime(now):%Y%m%d-%H%M}.pdf"
    trends = session_trends(user=request.user, patient=patient)
    context.update(
        sessions=list(patient_history_sessions(user=request.user, patient=patient)),
        pain_chart=pain_chart(trends["pain"]),
        bp_chart=bp_chart(trends["bp"]),
        outcomes=outcomes,
        printed_at=now,
        printed_by=request.user,
        headache_chart=headache_days_chart(
            [(o.reported_on, o.headache_days) for o in outcomes],
            intake.baseline_headache_days if intake else None,
        ),
    )
    pdf = render_pdf("records/print/patient_summary.html", context, request=request)
    # Recorded once the document exists and before it is handed over.
    disclosure_record(
        actor=actor_from_request(request),
        patient=patient,
        document="Patient summary (PDF)",
        record_type="patient",
        record_id=patient.pk,
        filename=filename,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required("view_session")
def session_pdf(request, pk: int):
    """The printable record of one session, with the signatures' manifestation; the print is audited."""
    session = session_get(user=request.user, pk=pk)
    patient = session.patient
    now = timezone.now()
    local_day = timezone.localtime(session.scheduled_at)
    filename = f"session-{patient.mrn}-{local_day:%Y%m%d}-{session.pk}.pdf"
    # A signed session prints what was true when it was signed: the rows of its signature's seal.
    record, seals = record_to_print(session)
    readings, events = record.readings, record.events
    flag_readings(readings, ClinicSettings.current())
    context = {
        "patient": patient,
        "age": patient.age_on(timezone.localdate()),
        "session": record.session,
        "screening": record.screening,
        "orders": record.orders,
        "administrations": record.administrations,
        "events": events,
        "readings": readings,
        "side_effects": record.side_effects,
        "discharge": record.discharge,
        "seals": seals,
        "vitals_chart": vitals_chart([r for r in readings if not r.in_error], events) if readings else None,
        "scales_chart": scales_chart([r for r in readings if not r.in_error], events)
        if any(r.moaas is not None or r.cadss6_total is not None for r in readings)
        else None,
        "lowest_moaas": lowest_moaas(readings),
        "highest_cadss6": highest_cadss6(readings),
        # Insert-only and locked with the session once signed: the rows now are the rows signed.
        "discharge_overrides": list(session.discharge_overrides.all()),
        "addenda": list(session.addenda.all()),
        # The protocol's checkpoints with their state and any missed one's reason, as of the print.
        "monitoring": session_monitoring(session, now),
        "printed_at": now,
        "printed_by": request.user,
    }
    pdf = render_pdf("records/print/session.html", context, request=request)
    # Recorded once the document exists and before it is handed over.
    disclosure_record(
        actor=actor_from_request(request),
        patient=patient,
        document=f"Session record of {local_day:%Y-%m-%d} (PDF)",
        record_type="session",
        record_id=session.pk,
        filename=filename,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
