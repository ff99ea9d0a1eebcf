"""Provenance: each signature and co-signature (who, when, the meaning), and each addendum's authorship.

Ids: `session-<pk>-signature` (the nurse's signature, "charted by"),
`session-<pk>-cosignature` (the physician's review, "reviewed by"),
`order-<pk>-cosignature` (the ordering physician's co-signature of a verbal or
telephone order) and `addendum-<pk>`. A session's signature covers the whole
chart of the session: the Encounter and every resource whose encounter it is.
The name shown is the printed name at the moment of signing.
"""

import re
from typing import Any, NamedTuple

from django.db.models import QuerySet

from records.fhir import codes
from records.fhir.common import People, Resource, instant, prune, ref
from records.models import Addendum, Order, Session

RESOURCE_TYPE = "Provenance"
ID_PATTERN = re.compile(
    r"^(?:(session|order)-([1-9][0-9]{0,17})-(signature|cosignature)|(addendum)-([1-9][0-9]{0,17}))$"
)


class ProvenanceId(NamedTuple):
    source: str  # "session", "order" or "addendum"
    pk: int
    kind: str  # "signature", "cosignature" or "addendum"


def parse_id(resource_id: str) -> ProvenanceId | None:
    match = ID_PATTERN.match(resource_id)
    if match is None:
        return None
    if match.group(4):
        return ProvenanceId("addendum", int(match.group(5)), "addendum")
    source, pk, kind = match.group(1), int(match.group(2)), match.group(3)
    if source == "order" and kind != "cosignature":
        return None
    return ProvenanceId(source, pk, kind)


def signed_sessions() -> QuerySet[Session]:
    return Session.objects.filter(signed_at__isnull=False).order_by("pk")


def cosigned_orders() -> QuerySet[Order]:
    return Order.objects.filter(cosigned_at__isnull=False).select_related("session").order_by("pk")


def addenda() -> QuerySet[Addendum]:
    return Addendum.objects.select_related("session").order_by("pk")


def _signed(
    resource_id: str,
    targets: list[dict[str, str]],
    when: Any,
    who: dict[str, str] | None,
    printed_name: str,
    meaning: codes.SignatureMeaning,
) -> Resource:
    signer = {**who, "display": printed_name or who.get("display", "")} if who else None
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": resource_id,
            "target": targets,
            "recorded": instant(when),
            "activity": {"text": meaning.meaning},
            "agent": [
                {
                    "type": {"coding": [codes.coding(codes.PROVENANCE_PARTICIPANT, meaning.participant)]},
                    "who": signer,
                }
            ],
            "signature": [
                {
                    "type": [codes.coding(codes.SIGNATURE_TYPE, meaning.code, meaning.display)],
                    "when": instant(when),
                    "who": signer,
                }
            ],
        }
    )


def session_signatures(session: Session, people: People) -> list[Resource]:
    """The nurse's signature and, once reviewed, the physician's co-signature."""
    result = []
    if session.signed_at is not None:
        result.append(
            _signed(
                f"session-{session.pk}-signature",
                [ref("Encounter", session.pk)],
                session.signed_at,
                people.ref(session.signed_by_id),
                session.signed_name,
                codes.AUTHOR_SIGNATURE,
            )
        )
    if session.cosigned_at is not None:
        result.append(
            _signed(
                f"session-{session.pk}-cosignature",
                [ref("Encounter", session.pk)],
                session.cosigned_at,
                people.ref(session.cosigned_by_id),
                session.cosigned_name,
                codes.VERIFICATION_SIGNATURE,
            )
        )
    return result


def order_cosignature(order: Order, people: People) -> Resource:
    return _signed(
        f"order-{order.pk}-cosignature",
        [ref("MedicationRequest", order.pk)],
        order.cosigned_at,
        people.ref(order.cosigned_by_id),
        people.name(order.cosigned_by_id),
        codes.ORDER_COSIGNATURE,
    )


def addendum_provenance(addendum: Addendum, people: People) -> Resource:
    author = people.ref(addendum.author_id)
    return prune(
        {
            "resourceType": RESOURCE_TYPE,
            "id": f"addendum-{addendum.pk}",
            "target": [ref("DocumentReference", f"addendum-{addendum.pk}"), ref("Encounter", addendum.session_id)],
            "recorded": instant(addendum.written_at),
            "reason": [{"text": addendum.reason}],
            "activity": {"text": "addendum"},
            "agent": [
                {
                    "type": {"coding": [codes.coding(codes.PROVENANCE_PARTICIPANT, "author")]},
                    "who": {**author, "display": addendum.author_name} if author else None,
                }
            ],
        }
    )
