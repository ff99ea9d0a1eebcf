from functools import wraps

from django.core.exceptions import PermissionDenied

from records.permissions import can


def permission_required(permission: str, message: str | None = None):
    """Refuse (403) a signed-in user whose role lacks `permission`."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not can(request.user, permission):
                raise PermissionDenied(message or "Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def apply_action_errors(form, exc) -> None:
    """Show a ValidationError raised by an action on the form's fields."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)
