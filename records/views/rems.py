"""The esketamine REMS Patient Monitoring Form: the nurse's form, its print (HTML and PDF), and the
list of forms due, where an admin records the submission. The product sends nothing out."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records import rems
from records.actions.context import actor_from_request
from records.actions.rems import (
    AFTER_DISCHARGE,
    rems_form_record,
    rems_form_submit,
    rems_form_view,
    rems_worklist_view,
)
from records.forms.sessions import RemsForm, RemsSubmittedForm
from records.models import RemsMonitoringForm, Session
from records.rendering.pdf import render_pdf
from records.views.common import permission_required, run_action
from records.views.sessions.page import CHART, ONLY_NURSES, detail_url, form_page

READ = "view_remsmonitoringform"
# The list shows forms of sessions up to this long ago that are not yet marked submitted.
WORKLIST_LIMIT = 200


def _session(pk: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related("patient", "discharge").prefetch_related(
            "orders", "administrations", "readings"
        ),
        pk=pk,
    )


def _form_of(session: Session) -> RemsMonitoringForm | None:
    return RemsMonitoringForm.objects.select_related("recorded_by", "submitted_by").filter(session=session).first()


@require_http_methods(["GET", "POST"])
@permission_required(CHART, ONLY_NURSES)
def session_rems_form(request, pk: int):
    """The nurse records the form, once, after the discharge; nothing is filled in from an earlier session."""
    session = _session(pk)
    existing = _form_of(session)
    if request.method == "GET":
        rems_form_view(actor=actor_from_request(request), session=session, what="REMS monitoring form")
    form = RemsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        result = run_action(
            request,
            lambda: rems_form_record(actor=actor_from_request(request), session=session, **form.cleaned_data),
            form=form,
            success="REMS monitoring form recorded.",
        )
        if result:
            return redirect(detail_url(session, "rems"))
    return form_page(
        request,
        session,
        form,
        "REMS Patient Monitoring Form",
        "Record the form",
        template="records/rems/form.html",
        charted=rems.charted_values(session),
        due_on=rems.due_on(session),
        existing=existing,
        esketamine=rems.is_esketamine(session),
        after_discharge=session.status in AFTER_DISCHARGE,
    )


def _print_context(request, session: Session) -> dict:
    return {
        "session": session,
        "patient": session.patient,
        "age": session.patient.age_on(timezone.localdate()),
        "form": _form_of(session),
        "charted": rems.charted_values(session),
        "due_on": rems.due_on(session),
        "esketamine": rems.is_esketamine(session),
        "printed_at": timezone.now(),
        "printed_by": request.user,
    }


@require_GET
@permission_required(READ)
def session_rems_print(request, pk: int):
    """The printable form, as a page (the browser prints it)."""
    session = _session(pk)
    rems_form_view(actor=actor_from_request(request), session=session, what="REMS monitoring form (print page)")
    return render(request, "records/rems/print_page.html", _print_context(request, session))


@require_GET
@permission_required(READ)
def session_rems_pdf(request, pk: int):
    """The printable form as a PDF; the print is audited."""
    session = _session(pk)
    day = timezone.localtime(session.scheduled_at)
    filename = f"rems-monitoring-{session.patient.mrn}-{day:%Y%m%d}-{session.pk}.pdf"
    pdf = render_pdf("records/rems/print.html", _print_context(request, session), request=request)
    rems_form_view(
        actor=actor_from_request(request), session=session, what=f"REMS monitoring form (PDF) {filename}", printed=True
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@permission_required(READ)
def rems_worklist(request):
    """Forms of esketamine sessions not yet marked submitted, earliest due first (due 7 days after the session)."""
    today = timezone.localdate()
    sessions = list(
        rems.esketamine_sessions(
            Session.objects.filter(discharge__isnull=False)
            .exclude(rems_form__submitted_at__isnull=False)
            .select_related("patient", "discharge")
            .prefetch_related("orders")
        ).order_by("scheduled_at", "pk")[:WORKLIST_LIMIT]
    )
    forms = {
        f.session_id: f for f in RemsMonitoringForm.objects.select_related("recorded_by").filter(session__in=sessions)
    }
    rows = []
    for session in sessions:
        due = rems.due_on(session)
        rows.append(
            {
                "session": session,
                "form": forms.get(session.pk),
                "due_on": due,
                "overdue": due < today,
                "due_soon": today <= due <= today + timedelta(days=2),
            }
        )
    rems_worklist_view(actor=actor_from_request(request), listed=len(rows))
    return render(
        request,
        "records/worklists/rems.html",
        {"rows": rows, "today": today},
    )


@require_POST
@permission_required("submit_rems_form", "Only an admin may mark a REMS monitoring form submitted.")
def session_rems_submit(request, pk: int):
    """The admin records the date the clinic submitted the form, and is recorded as the one who did."""
    session = _session(pk)
    form_row = _form_of(session)
    form = RemsSubmittedForm(request.POST)
    if form_row is None:
        messages.error(request, "The nurse has not recorded this session's REMS form yet.")
    elif form.is_valid():
        run_action(
            request,
            lambda: rems_form_submit(
                actor=actor_from_request(request), form=form_row, submitted_on=form.cleaned_data["submitted_on"]
            ),
            success=f"Marked submitted: {session.patient.display_name}, session of {session.scheduled_at:%Y-%m-%d}.",
        )
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(reverse("rems_worklist"))
