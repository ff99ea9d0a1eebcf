from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from records.permissions import can


@require_GET
def home(request):
    """Send each role to where its work starts."""
    if can(request.user, "cosign_session"):
        return redirect("physician_worklist")
    if can(request.user, "view_patient"):
        return redirect("patient_list")
    if can(request.user, "view_audit_log"):
        return redirect("audit_log")
    return render(request, "records/no_role.html", status=403)
