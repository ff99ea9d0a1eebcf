"""The physician's home page: what waits for a physician, theirs first."""

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from records.actions.context import actor_from_request
from records.actions.medications import order_cosign
from records.actions.sessions import physician_worklist_view
from records.models import Order
from records.selectors import (
    held_screenings_worklist,
    orders_awaiting_cosign_worklist,
    sessions_awaiting_cosign_worklist,
)
from records.views.common import permission_required, run_action
from records.views.reauth import reauth_required

ONLY_PHYSICIANS = "The worklists are a physician's."
# Worklists are short by nature; past this the page says how many more there are.
WORKLIST_LIMIT = 100


def _limited(queryset) -> tuple[list, int]:
    rows = list(queryset[: WORKLIST_LIMIT + 1])
    return rows[:WORKLIST_LIMIT], max(0, len(rows) - WORKLIST_LIMIT)


@require_GET
@permission_required("decide_screening", ONLY_PHYSICIANS)
@permission_required("cosign_session", ONLY_PHYSICIANS)
def physician_worklist(request):
    everyone = request.GET.get("all") == "1"
    user = request.user
    now = timezone.now()
    held, held_more = _limited(held_screenings_worklist(user=user, everyone=everyone))
    orders, orders_more = _limited(orders_awaiting_cosign_worklist(user=user, everyone=everyone))
    signed, signed_more = _limited(sessions_awaiting_cosign_worklist(user=user, everyone=everyone))
    for order in orders:
        order.overdue = order.cosign_due_at is not None and order.cosign_due_at < now
        order.mine = order.ordering_physician_id == user.pk
    for screening in held:
        screening.waiting = now - screening.screened_at
    physician_worklist_view(
        actor=actor_from_request(request),
        held=len(held),
        orders=len(orders),
        signed=len(signed),
        everyone=everyone,
    )
    return render(
        request,
        "records/worklists/physician.html",
        {
            "everyone": everyone,
            "held": held,
            "held_more": held_more,
            "orders": orders,
            "orders_more": orders_more,
            "signed": signed,
            "signed_more": signed_more,
            "now": now,
        },
    )


@require_POST
@permission_required("cosign_session", "Only a physician may co-sign an order.")
@reauth_required("co-signing the order")
def order_cosign_view(request, pk: int):
    """The ordering physician's co-signature: its own POST URL, so re-authentication can be required here later."""
    order = get_object_or_404(Order.objects.select_related("session"), pk=pk)
    day = timezone.localtime(order.session.scheduled_at)
    run_action(
        request,
        lambda: order_cosign(actor=actor_from_request(request), order=order),
        success=f"Order co-signed: {order.medication}, session of {day:%Y-%m-%d}.",
    )
    back = request.POST.get("next", "")
    # A path on this site only: redirect() would take any other word for a view's name (a 500).
    if back.startswith("/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("physician_worklist")
