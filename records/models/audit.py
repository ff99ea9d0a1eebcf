from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    VIEW = "view", "View"
    DEACTIVATE = "deactivate", "Deactivate"
    REACTIVATE = "reactivate", "Reactivate"
    LOGIN = "login", "Log in"
    LOGOUT = "logout", "Log out"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    ACCESS_DENIED = "access_denied", "Access denied"
    PASSWORD_CHANGE = "password_change", "Password change"
    ROLE_CHANGE = "role_change", "Role change"
    SEARCH = "search", "Search"
    # A print or download of a record: the accounting of disclosures reads these.
    PRINT = "print", "Print"
    ARRIVE = "arrive", "Arrive"
    BEGIN_SCREENING = "begin_screening", "Begin screening"
    SCREEN = "screen", "Screen"
    SCREENING_DECISION = "screening_decision", "Screening decision"
    CANCEL = "cancel", "Cancel"
    NO_SHOW = "no_show", "No-show"
    ADMINISTRATION_START = "administration_start", "Start administration"
    ADMINISTRATION_PAUSE = "administration_pause", "Pause administration"
    ADMINISTRATION_RESUME = "administration_resume", "Resume administration"
    ADMINISTRATION_STOP = "administration_stop", "Stop administration"
    DISCHARGE = "discharge", "Discharge"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"
    SIGN = "sign", "Sign"
    COSIGN = "cosign", "Co-sign"
    ADDENDUM = "addendum", "Addendum"


class AuditEvent(models.Model):
    """One entry of the append-only audit log (FHIR AuditEvent; ASTM E2147).

    The database refuses UPDATE and DELETE on this table (see the migration that
    installs the triggers). Rows are only ever written by records.actions.audit.
    """

    occurred_at = models.DateTimeField(db_index=True, help_text="Server time, stored in UTC.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too: a failed log-in has no account, and names outlive renames.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True, help_text="The actor's role at that moment.")
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    patient = models.ForeignKey("records.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    record_type = models.CharField(max_length=64, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "occurred_at"], name="audit_patient_time_idx"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_time_idx"),
        ]
        permissions = [
            ("view_audit_log", "Can read the audit log"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.record_type}"
