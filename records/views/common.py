from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet

from records.actions.context import ActionRefused
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


def apply_action_errors(form, exc: ValidationError) -> None:
    """Show a ValidationError raised by an action on the form's fields."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@dataclass(frozen=True)
class ActionResult:
    """What became of an action a view ran: true when it succeeded."""

    ok: bool
    value: Any = None  # what the action returned
    # Refused by the record's state or a rule (ActionRefused), as opposed to bad input.
    refused: bool = False

    def __bool__(self) -> bool:
        return self.ok


def run_action(
    request,
    call: Callable[[], object],
    *,
    form=None,
    refusal_as_message: bool = False,
    field: str | None = None,
    success: str = "",
) -> ActionResult:
    """Run one action for a view and turn what it refuses into words for the person.

    Bad input (ValidationError) goes onto `form`'s fields, an error that names no field
    onto `field` if given (else above the form); a refusal (ActionRefused) goes above the
    form. Without a form, or for a refusal with `refusal_as_message`, the message is shown
    on the next page instead (for a view that redirects). `success` is shown when it worked.
    """
    try:
        value = call()
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
        else:
            if field is not None and not hasattr(exc, "error_dict"):
                exc = ValidationError({field: exc.messages})
            apply_action_errors(form, exc)
        return ActionResult(ok=False)
    except ActionRefused as exc:
        if form is None or refusal_as_message:
            messages.error(request, str(exc))
        else:
            form.add_error(None, str(exc))
        return ActionResult(ok=False, refused=True)
    if success:
        messages.success(request, success)
    return ActionResult(ok=True, value=value)


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
        bounded_count = getattr(self.object_list, "bounded_count", None)
        if bounded_count is not None:
            return int(bounded_count(self.cap))
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.cap)

    @property
    def capped(self) -> bool:
        return self._bounded_count > self.cap
