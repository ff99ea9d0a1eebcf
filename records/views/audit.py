from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from records.forms.audit import AuditFilterForm
from records.selectors import audit_events
from records.views.common import permission_required


@require_GET
@permission_required("view_audit_log", "Only admins may read the audit log.")
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    filters = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "actor_id": data["actor"].pk if data["actor"] else None,
            "patient_id": data["patient"].pk if data["patient"] else None,
            "action": data["action"],
            "date_from": data["date_from"],
            "date_to": data["date_to"],
        }
    events = audit_events(user=request.user, **filters)
    if form.is_bound and not form.is_valid():
        events = events.none()
    page = Paginator(events, settings.AUDIT_EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "records/audit/log.html", {"form": form, "page": page, "querystring": params.urlencode()})
