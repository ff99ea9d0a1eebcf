"""Signatures and corrections: the nurse signs ("charted by", which locks the chart), a physician
co-signs ("reviewed by"), and later information goes into an addendum beneath the original."""

from django.views.decorators.http import require_POST

from records.actions.sessions import addendum_add, session_cosign, session_sign
from records.forms.sessions import AddendumForm
from records.views.common import permission_required
from records.views.reauth import reauth_required
from records.views.sessions.page import CHART, ONLY_NURSES, button_post, section_post


@require_POST
@permission_required(CHART, ONLY_NURSES)
@reauth_required("signing the session")
def session_sign_view(request, pk: int):
    """The nurse's signature: its own POST URL, behind re-authentication."""
    return button_post(request, pk, session_sign, "Session signed and locked.", "signatures")


@require_POST
@permission_required("cosign_session", "Only a physician may co-sign a session.")
@reauth_required("co-signing the session")
def session_cosign_view(request, pk: int):
    """The physician's co-signature: its own POST URL, behind re-authentication."""
    return button_post(request, pk, session_cosign, "Session co-signed.", "signatures")


@require_POST
@permission_required("write_addendum")
def session_addendum(request, pk: int):
    def call(actor, session, data):
        addendum_add(actor=actor, session=session, **data)

    return section_post(request, pk, AddendumForm(request.POST), "addendum_form", call, "Addendum added.", "addenda")
