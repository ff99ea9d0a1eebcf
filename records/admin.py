from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group

from records.models import AuditEvent
from records.permissions import can

# Sign-in happens on the clinic's own (audited) log-in page only.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]
admin.site.site_header = "Clinic records: audit (read-only)"
admin.site.unregister(Group)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Audit events, read-only, for admins. Every other change goes through the app's actions."""

    list_display = [
        "seq",
        "occurred_at",
        "actor_username",
        "actor_role",
        "action",
        "patient",
        "record_type",
        "record_id",
    ]
    list_filter = ["action", "actor_role"]
    search_fields = ["actor_username", "record_id", "patient__mrn"]
    date_hierarchy = "occurred_at"
    list_select_related = ["patient"]

    def has_view_permission(self, request, obj=None):
        return can(request.user, "view_audit_log")

    def has_module_permission(self, request):
        return can(request.user, "view_audit_log")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
