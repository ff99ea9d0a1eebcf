"""Monitoring protocols: admins edit them (each change audited, each edit a new version); nurses and
physicians read them. And the nurse's reason for a checkpoint missed in a session."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.actions.context import actor_from_request
from records.actions.protocols import checkpoint_missed_reason, protocol_create, protocol_update
from records.forms.protocols import CheckpointFormSet, ProtocolForm, checkpoints_from, checkpoints_initial
from records.models import MonitoringProtocol, ProtocolVersion
from records.monitoring import REQUIREMENT_SHORT, in_flowsheet_order
from records.permissions import can
from records.selectors import session_get
from records.views.common import permission_required, run_action
from records.views.sessions.page import CHART, ONLY_NURSES, detail_url

ADMINS_ONLY = "Only an admin may change the monitoring protocols."


@require_GET
@permission_required("view_monitoringprotocol")
def protocol_list(request):
    """Every protocol with its current version and its history of versions."""
    protocols = list(MonitoringProtocol.objects.prefetch_related("versions__created_by"))
    for protocol in protocols:
        protocol.history = sorted(protocol.versions.all(), key=lambda v: -v.number)
        protocol.current = protocol.history[0] if protocol.history else None
        if protocol.current:
            for checkpoint in protocol.current.checkpoints:
                checkpoint["requires_text"] = ", ".join(
                    REQUIREMENT_SHORT[r] for r in in_flowsheet_order(checkpoint["requires"])
                )
    return render(
        request,
        "records/protocols/list.html",
        {"protocols": protocols, "editable": can(request.user, "change_monitoringprotocol")},
    )


def _protocol_form_page(request, protocol: MonitoringProtocol | None):
    current: ProtocolVersion | None = protocol.versions.order_by("-number").first() if protocol else None
    initial = (
        {
            "name": protocol.name,
            "active": protocol.active,
            "routes": current.routes if current else [],
            "min_observation_minutes": current.min_observation_minutes if current else 0,
        }
        if protocol
        else {"active": True}
    )
    data = request.POST if request.method == "POST" else None
    form = ProtocolForm(data, initial=initial)
    formset = CheckpointFormSet(
        data, initial=checkpoints_initial(current.checkpoints) if current else None, prefix="cp"
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        values = {
            "name": data["name"],
            "routes": data["routes"],
            "min_observation_minutes": data["min_observation_minutes"],
            "checkpoints": checkpoints_from(formset),
            "reason": data["reason"],
        }
        actor = actor_from_request(request)
        if protocol is None:
            result = run_action(
                request, lambda: protocol_create(actor=actor, **values), form=form, success="Protocol added."
            )
        else:
            result = run_action(
                request,
                lambda: protocol_update(actor=actor, protocol=protocol, active=data["active"], **values),
                form=form,
                success="Protocol saved.",
            )
        if result:
            return redirect("protocol_list")
    return render(
        request,
        "records/protocols/form.html",
        {"form": form, "formset": formset, "protocol": protocol, "current": current},
        status=400 if form.errors or formset.total_error_count() else 200,
    )


@require_http_methods(["GET", "POST"])
@permission_required("change_monitoringprotocol", ADMINS_ONLY)
def protocol_new(request):
    return _protocol_form_page(request, None)


@require_http_methods(["GET", "POST"])
@permission_required("change_monitoringprotocol", ADMINS_ONLY)
def protocol_edit(request, pk: int):
    return _protocol_form_page(request, get_object_or_404(MonitoringProtocol, pk=pk))


@require_POST
@permission_required(CHART, ONLY_NURSES)
def session_checkpoint_missed(request, pk: int):
    """The nurse's reason for an overdue checkpoint; back to the session's checkpoints."""
    session = session_get(user=request.user, pk=pk)
    key = request.POST.get("checkpoint", "")[:20]
    reason = request.POST.get("reason", "")
    if not reason.strip():
        messages.error(request, "Reason: enter why the checkpoint was missed (up to 500 characters).")
    else:
        run_action(
            request,
            lambda: checkpoint_missed_reason(
                actor=actor_from_request(request), session=session, checkpoint_key=key, reason=reason
            ),
            success="Reason for the missed checkpoint recorded.",
        )
    return redirect(detail_url(session, "monitoring"))
