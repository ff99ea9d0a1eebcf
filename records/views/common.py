from functools import cached_property, wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet

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


class CappedPaginator(Paginator):
    """Counts at most `cap` rows.

    An exact COUNT(*) over a million audit events costs more than the page itself;
    past the cap the page says "more than N" and asks for narrower filters.
    """

    object_list: "QuerySet[Any]"

    def __init__(self, object_list, per_page, *, cap: int):
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def _bounded_count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._bounded_count > self.cap
