"""The ordering physician's co-signature of a verbal or telephone order."""

from django.db import transaction
from django.utils import timezone

from records.actions.audit import audit_record
from records.actions.context import ActionRefused, Actor
from records.models import AuditAction, Order, ReceivedAs
from records.permissions import require


@transaction.atomic
def order_cosign(*, actor: Actor, order: Order) -> Order:
    """Co-sign a verbal or telephone order. Only its ordering physician, once.

    Allowed after the nurse has signed the session: the database lets exactly the
    co-signature columns of a signed session's order be filled, once.
    """
    if actor.user is None:
        raise ActionRefused("Cannot co-sign: a signature needs a signed-in person.")
    require(actor.user, "cosign_order", "Only a physician may co-sign an order.")
    current = (
        Order.objects.select_for_update(of=("self",)).select_related("session__patient", "cosigned_by").get(pk=order.pk)
    )
    if current.received_as == ReceivedAs.WRITTEN:
        raise ActionRefused("Cannot co-sign: a written order needs no co-signature.")
    if current.ordering_physician_id != actor.user.pk:
        raise ActionRefused("Cannot co-sign: only the ordering physician may co-sign this order.")
    if current.cosigned_at is not None:
        raise ActionRefused(
            f"Cannot co-sign: already co-signed by {current.cosigned_by.printed_name} "
            f"on {timezone.localtime(current.cosigned_at):%Y-%m-%d %H:%M}."
        )
    now = timezone.now()
    overdue = current.cosign_due_at is not None and now > current.cosign_due_at
    current.cosigned_by = actor.user
    current.cosigned_at = now
    current.save(update_fields=["cosigned_by", "cosigned_at"])
    audit_record(
        actor=actor,
        action=AuditAction.COSIGN,
        patient=current.session.patient,
        record=current,
        changes={
            "cosigned_by": [None, actor.user.printed_name],
            "cosigned_at": [None, now.isoformat()],
            "overdue": [None, overdue],
        },
        reason="ordered by",
    )
    return current
