"""Pages for bedside monitors: registering them (admins), and the readings they send (nurses).

The session page and the board include a section that polls every 2-3 seconds as a
background refresh (records.middleware.BACKGROUND_HEADER): an unchanged section is
answered 204 and not swapped, so a nurse's focus and half-filled reason survive.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.actions.context import ActionRefused, actor_from_request
from records.actions.devices import (
    board_device_readings_view,
    device_reading_accept,
    device_reading_assign,
    device_reading_dismiss,
    device_reading_reject,
    device_readings_view,
    monitor_register,
    monitor_set_active,
    unmatched_readings_view,
)
from records.devices import selectors
from records.forms.devices import AssignForm, DismissForm, MonitorActiveForm, MonitorForm, ReadingForm, RejectForm
from records.models import RejectReason
from records.permissions import can
from records.selectors import session_get
from records.views.common import apply_action_errors, permission_required
from records.workflow import IN_CHAIR

CHART = "chart_session"
ONLY_NURSES = "Only a nurse may accept or reject readings from a monitor."
ONLY_ADMINS = "Only an admin may register monitors."


def _messages_of(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", [str(exc)]))


# Monitors (admins) -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("add_monitor", ONLY_ADMINS)
def monitor_list(request):
    """Registered monitors and the form to register one at a chair (or move one)."""
    form = MonitorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            monitor = monitor_register(actor=actor_from_request(request), **form.cleaned_data)
        except ValidationError as exc:
            apply_action_errors(form, exc)
        else:
            messages.success(request, f"Monitor {monitor.device_id} registered at {monitor.chair}.")
            return redirect("monitor_list")
    context = {"form": form, "monitors": selectors.monitors_list(user=request.user)}
    return render(request, "records/devices/monitors.html", context, status=400 if form.errors else 200)


@require_POST
@permission_required("change_monitor", ONLY_ADMINS)
def monitor_set_active_view(request, pk: int):
    monitor = selectors.monitor_get(user=request.user, pk=pk)
    form = MonitorActiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: say whether the monitor is in use.")
        return redirect("monitor_list")
    try:
        monitor_set_active(actor=actor_from_request(request), monitor=monitor, active=form.cleaned_data["active"])
    except ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        state = "back in use" if form.cleaned_data["active"] else "out of use"
        messages.success(request, f"Monitor {monitor.device_id} is {state}.")
    return redirect("monitor_list")


# A session's readings -------------------------------------------------------------


def readings_context(request, session, **extra) -> dict:
    pending, decided = selectors.session_device_readings(user=request.user, session=session)
    can_decide = not session.is_locked
    return {
        "session": session,
        "pending": pending,
        "decided": decided,
        "can_decide": can_decide,
        "can_accept": can_decide and session.status in IN_CHAIR,
        "reject_reasons": RejectReason.choices,
        "device_version": selectors.version_of([*pending, *decided], session.status),
        **extra,
    }


def _section(request, session, **extra) -> HttpResponse:
    return render(request, "records/devices/_session_readings.html", readings_context(request, session, **extra))


@require_GET
@permission_required("view_session")
def session_device_readings(request, pk: int):
    """The session page's "From the monitor" section, polled. 204 when nothing changed since `v`."""
    session = session_get(user=request.user, pk=pk)
    context = readings_context(request, session)
    if request.GET.get("v") == context["device_version"]:
        return HttpResponse(status=204)
    device_readings_view(actor=actor_from_request(request), session=session, pending=len(context["pending"]))
    return render(request, "records/devices/_session_readings.html", context)


def _decision(request, pk: int, form, decide, done: str):
    session = session_get(user=request.user, pk=pk)
    error, vitals_changed = "", False
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
    else:
        reading = selectors.device_reading_of_session(
            user=request.user, session=session, pk=form.cleaned_data["reading"]
        )
        try:
            decide(actor_from_request(request), reading, form.cleaned_data)
        except (ActionRefused, ValidationError) as exc:
            error = _messages_of(exc)
        else:
            vitals_changed = decide is _accept
    if not request.htmx:
        if error:
            messages.error(request, f"Not done: {error}")
        else:
            messages.success(request, done)
        return redirect(reverse("session_detail", args=[session.pk]) + "#device-readings")
    session = session_get(user=request.user, pk=pk)
    # 200 with the message even on a refusal: htmx swaps only successful responses.
    response = _section(request, session, device_error=error, device_done="" if error else done)
    if vitals_changed:
        # The flowsheet gains a row: send its section too, swapped in by its id.
        from records.views.sessions.page import session_context

        vitals = render_to_string("records/sessions/_vitals.html", session_context(request, session), request=request)
        response.content += vitals.replace("<section ", '<section hx-swap-oob="true" ', 1).encode()
    return response


def _accept(actor, reading, data) -> None:
    device_reading_accept(actor=actor, reading=reading)


def _reject(actor, reading, data) -> None:
    device_reading_reject(actor=actor, reading=reading, reason=data["reason"], note=data.get("note") or "")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_device_reading_accept(request, pk: int):
    """Chart one pending reading (through the same action as a typed one)."""
    return _decision(request, pk, ReadingForm(request.POST), _accept, "Reading from the monitor accepted and charted.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_device_reading_reject(request, pk: int):
    return _decision(request, pk, RejectForm(request.POST), _reject, "Reading from the monitor rejected; not charted.")


# Unmatched readings (nurses) --------------------------------------------------------


@require_GET
@permission_required("view_devicereading", "Only nurses see readings no session has claimed.")
def device_readings_unmatched(request):
    readings = list(selectors.unmatched_readings(user=request.user)[:200])
    sessions = list(selectors.sessions_in_chair(user=request.user)) if readings else []
    unmatched_readings_view(actor=actor_from_request(request), session_count=len(sessions))
    return render(
        request,
        "records/devices/unmatched.html",
        {"readings": readings, "sessions": sessions, "can_chart": can(request.user, CHART)},
    )


def _unmatched_post(request, form, act, done: str):
    if form.is_valid():
        reading = selectors.unmatched_reading_get(user=request.user, pk=form.cleaned_data["reading"])
        try:
            act(actor_from_request(request), reading, form.cleaned_data)
        except (ActionRefused, ValidationError) as exc:
            messages.error(request, f"Not done: {_messages_of(exc)}")
        else:
            messages.success(request, done)
    else:
        messages.error(request, "Not done: " + " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("device_readings_unmatched")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def device_reading_assign_view(request):
    def act(actor, reading, data):
        session = next((s for s in selectors.sessions_in_chair(user=request.user) if s.pk == data["session"]), None)
        if session is None:
            raise Http404("No such session in a chair.")
        device_reading_assign(actor=actor, reading=reading, session=session)

    return _unmatched_post(request, AssignForm(request.POST), act, "Reading offered to the session for acceptance.")


@require_POST
@permission_required(CHART, ONLY_NURSES)
def device_reading_dismiss_view(request):
    def act(actor, reading, data):
        device_reading_dismiss(actor=actor, reading=reading, reason=data["reason"])

    return _unmatched_post(request, DismissForm(request.POST), act, "Reading dismissed; not charted.")


# The board ------------------------------------------------------------------------------


@require_GET
@permission_required("view_session")
def session_board_device_readings(request):
    """The board's "From the monitors" panel, polled. 204 when nothing changed since `v`."""
    context = board_context(request)
    if request.GET.get("v") == context["board_version"]:
        return HttpResponse(status=204)
    board_device_readings_view(
        actor=actor_from_request(request), pending=sum(len(items) for _, items in context["board_pending"])
    )
    return render(request, "records/devices/_board_readings.html", context)


def board_context(request) -> dict:
    pending = selectors.board_pending(user=request.user)
    show_unmatched = can(request.user, "view_devicereading")
    unmatched = selectors.unmatched_count(user=request.user) if show_unmatched else 0
    return {
        "board_pending": pending,
        "unmatched_count": unmatched,
        "show_unmatched": show_unmatched,
        "board_version": selectors.version_of([r for _, items in pending for r in items], unmatched),
    }
