"""Today's board (every session of the day by chair and state) and scheduling a session."""

from datetime import timedelta

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from records import monitoring, workflow
from records.actions.context import actor_from_request
from records.actions.patients import patient_view
from records.actions.sessions import session_board_view, session_schedule
from records.forms.sessions import SessionScheduleForm
from records.models import ClinicSettings
from records.selectors import board_sessions, patient_get
from records.views.common import permission_required, run_action

# Sessions whose chair needs no checkpoint: not yet here, or gone.
BEFORE_ARRIVAL_OR_AFTER_DISCHARGE = {"scheduled", "cancelled", "no_show", "discharged", "signed", "cosigned"}


def next_up(sessions) -> list:
    """Chairs with a checkpoint to chart, the most pressing first: overdue, then by the next due time."""
    waiting = [s for s in sessions if s.monitoring is not None and (s.overdue or s.monitoring.next)]

    def urgency(s):
        if s.overdue:
            return (0, min(c.window_close or c.due_at for c in s.overdue))
        return (1, s.monitoring.next.due_at)

    return sorted(waiting, key=urgency)


@require_GET
@permission_required("view_session")
def session_board(request):
    """Today's sessions in records.workflow's board columns; the board element re-fetches itself with htmx."""
    sessions = list(board_sessions(user=request.user))
    clinic = ClinicSettings.current()
    now = timezone.now()
    interval = timedelta(minutes=clinic.vitals_interval_minutes)
    current = monitoring.current_versions()
    for s in sessions:
        s.monitored = workflow.monitored(s)
        s.awaiting_decision = workflow.awaiting_decision(s)
        # The protocol's checkpoints from arrival to discharge; the clinic's interval where none applies.
        s.monitoring = monitoring.session_monitoring(s, now, current=current) if s.arrived_at else None
        if s.monitoring is not None and s.status in BEFORE_ARRIVAL_OR_AFTER_DISCHARGE:
            s.monitoring = None
        s.vitals_due_at = (s.last_vitals_at + interval) if s.last_vitals_at else None
        s.vitals_due = s.monitoring is None and s.monitored and (s.vitals_due_at is None or s.vitals_due_at <= now)
        # A missed checkpoint with the nurse's reason stays on the session page; the board no longer calls for it.
        s.overdue = [c for c in s.monitoring.overdue if c.miss is None] if s.monitoring else []
    context = {
        "columns": workflow.board_columns(sessions),
        "next_up": next_up(sessions),
        "session_count": len(sessions),
        "held_count": sum(1 for s in sessions if s.awaiting_decision),
        "due_count": sum(1 for s in sessions if s.vitals_due),
        "overdue_count": sum(1 for s in sessions if s.overdue),
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
    if request.method == "GET":
        patient_view(actor=actor_from_request(request), patient=patient, what="session scheduling form")
    form = SessionScheduleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = run_action(
            request,
            lambda: session_schedule(actor=actor_from_request(request), patient=patient, **form.cleaned_data),
            form=form,
            success="Session scheduled.",
        )
        if result:
            return redirect("session_detail", pk=result.value.pk)
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
