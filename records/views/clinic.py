from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from records.actions.clinic import clinic_settings_update
from records.actions.context import actor_from_request
from records.forms.sessions import ClinicSettingsForm
from records.models import ClinicSettings
from records.models.clinic import REFERENCE_RANGE_FIELDS
from records.permissions import can
from records.views.common import permission_required, run_action
from records.vital_limits import IMPOSSIBLE


@require_http_methods(["GET", "POST"])
@permission_required("view_clinicsettings")
def clinic_settings(request):
    """Admins see and change the clinic's thresholds; nurses and physicians read them."""
    current = ClinicSettings.current()
    editable = can(request.user, "change_clinicsettings")
    if request.method == "POST" and not editable:
        raise PermissionDenied("Only an admin may change the clinic settings.")
    form = ClinicSettingsForm(request.POST or None, instance=current) if editable else None
    if form is not None and request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ClinicSettingsForm.Meta.fields}
        saved = run_action(
            request,
            lambda: clinic_settings_update(
                actor=actor_from_request(request), reason=form.cleaned_data["reason"], **values
            ),
            form=form,
            success="Clinic settings saved.",
        )
        if saved:
            return redirect("clinic_settings")
    ranges = [
        (IMPOSSIBLE[vital].label, *current.reference_range(vital), IMPOSSIBLE[vital].unit)
        for vital in REFERENCE_RANGE_FIELDS
    ]
    return render(
        request,
        "records/clinic/settings.html",
        {"form": form, "clinic": current, "ranges": ranges, "limits": IMPOSSIBLE.values()},
        status=400 if form is not None and form.errors else 200,
    )
