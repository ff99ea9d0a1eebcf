from django.conf import settings

from records.middleware import mfa_exempt, page_of
from records.permissions import ROLE_PERMISSIONS, role_of


def clinic(request):
    """The signed-in user's role and what it allows, for templates to show (never to decide)."""
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    # Until the authenticator code is given, show no way into the records.
    fully_signed_in = role is not None and (getattr(user, "is_verified", lambda: False)() or mfa_exempt(user))
    allowed = ROLE_PERMISSIONS[role] if fully_signed_in else frozenset()
    return {
        "fully_signed_in": fully_signed_in,
        "clinic_role": role,
        "user_can": dict.fromkeys(allowed, True),
        "demo_mode": settings.DEMO_MODE,
        "idle_timeout_seconds": settings.IDLE_TIMEOUT_SECONDS,
        "idle_warning_seconds": settings.IDLE_WARNING_SECONDS,
        # The page as a GET opens it again; a form shown again after a POST belongs to the page it was sent from.
        "page_url": page_of(request),
    }
