from django.shortcuts import render

from records.actions.accounts import audit_access_denied
from records.actions.context import Actor, actor_from_request


def permission_denied(request, exception=None):
    """403 with a plain explanation; every refusal is written to the audit log."""
    reason = str(exception) if exception and str(exception) else "Your role does not give access to this page."
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    actor = actor_from_request(request) if signed_in else Actor.anonymous(request)
    audit_access_denied(actor=actor, path=request.path, method=request.method, reason=reason)
    return render(request, "403.html", {"reason": reason}, status=403)
