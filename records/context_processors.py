from django.conf import settings

from records.permissions import ROLE_PERMISSIONS, role_of


def clinic(request):
    """The signed-in user's role and what it allows, for templates to show (never to decide)."""
    user = getattr(request, "user", None)
    role = role_of(user) if user is not None else None
    allowed = ROLE_PERMISSIONS[role] if role else frozenset()
    return {
        "clinic_role": role,
        "user_can": dict.fromkeys(allowed, True),
        "demo_mode": settings.DEMO_MODE,
        "idle_timeout_seconds": settings.IDLE_TIMEOUT_SECONDS,
        "idle_warning_seconds": settings.IDLE_WARNING_SECONDS,
    }
