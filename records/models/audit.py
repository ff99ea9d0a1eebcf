from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Left

from records.models.base import RecordModel

if TYPE_CHECKING:
    from records.audit.chain import ChainReport


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
    ARRIVE = "arrive", "Arrive"
    BEGIN_SCREENING = "begin_screening", "Begin screening"
    SCREEN = "screen", "Screen"
    SCREENING_DECISION = "screening_decision", "Screening decision"
    RESCREEN = "rescreen", "Screening reopened"
    CANCEL = "cancel", "Cancel"
    NO_SHOW = "no_show", "No-show"
    ADMINISTRATION_START = "administration_start", "Start administration"
    # Rule R3's hard stop refused a start (written even though the refused action rolled back).
    START_REFUSED = "start_refused", "Start refused by the screening"
    ADMINISTRATION_PAUSE = "administration_pause", "Pause administration"
    ADMINISTRATION_RESUME = "administration_resume", "Resume administration"
    ADMINISTRATION_STOP = "administration_stop", "Stop administration"
    DISCHARGE = "discharge", "Discharge"
    DISCHARGE_OVERRIDE = "discharge_override", "Discharge criteria overridden"
    REMS_FORM_SUBMITTED = "rems_form_submitted", "REMS form marked submitted"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"
    SIGN = "sign", "Sign"
    COSIGN = "cosign", "Co-sign"
    ADDENDUM = "addendum", "Addendum"
    LOCKOUT = "lockout", "Log-in locked out"
    MFA_ENROL = "mfa_enrol", "Two-factor enrolment"
    MFA_VERIFY = "mfa_verify", "Two-factor sign-in"
    MFA_FAILED = "mfa_failed", "Failed two-factor code"
    MFA_RESET = "mfa_reset", "Two-factor re-enrolment required"
    REAUTH = "reauth", "Re-authentication"
    REAUTH_FAILED = "reauth_failed", "Failed re-authentication"
    TIMEOUT = "timeout", "Signed out when idle"
    # Disclosures (45 CFR 170.315(d)(11)): a patient's records leaving the system.
    PRINT = "print", "Print"
    EXPORT = "export", "Export"
    DISCLOSURE = "disclosure", "Disclosure"
    VERIFY = "verify", "Chain verification"
    # Readings from bedside monitors (records.actions.devices).
    DEVICE_ACCEPT = "device_accept", "Accept device reading"
    DEVICE_REJECT = "device_reject", "Reject device reading"
    DEVICE_ASSIGN = "device_assign", "Assign device reading"
    DEVICE_DISMISS = "device_dismiss", "Dismiss device reading"
    API_TOKEN_ISSUE = "api_token_issue", "API token issued"
    API_TOKEN_REVOKE = "api_token_revoke", "API token revoked"
    # Monitoring protocols (records.actions.protocols): why a checkpoint was not charted in its window.
    CHECKPOINT_MISSED = "checkpoint_missed", "Checkpoint missed"


# The kinds that make up the accounting of disclosures.
DISCLOSURE_ACTIONS = (AuditAction.PRINT, AuditAction.EXPORT, AuditAction.DISCLOSURE)


class AuditEvent(RecordModel):
    """One entry of the append-only audit log (FHIR AuditEvent; ASTM E2147).

    The database refuses UPDATE and DELETE on this table (see the migration that
    installs the triggers). Rows are only ever written by records.actions.audit,
    which also links each event to the previous one (records.audit.chain).
    """

    # Position in the hash chain: 1, 2, 3 ... in the order the events were written.
    seq = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(help_text="Server time, stored in UTC.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too: a failed log-in has no account, and names outlive renames.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=32, blank=True, help_text="The actor's role at that moment.")
    # One of AuditAction, checked by the one writer (records.audit.audit_record).
    # Not a field choice: a new kind of event must not need a schema migration.
    action = models.CharField(max_length=32)
    patient = models.ForeignKey("records.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    record_type = models.CharField(max_length=64, blank=True)
    record_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="{field: [before, after]}")
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    prev_hash = models.CharField(max_length=64, editable=False, help_text="entry_hash of the event at seq - 1.")
    entry_hash = models.CharField(max_length=64, editable=False, help_text="SHA-256 of this event's content.")

    class Meta:
        ordering = ["-occurred_at", "-seq"]
        # Reports filter by one of these and a period, newest first with seq as the
        # tie-breaker, so each index ends in (occurred_at, seq) and serves the sort too.
        indexes = [
            models.Index(fields=["occurred_at", "seq"], name="audit_time_idx"),
            models.Index(fields=["patient", "occurred_at", "seq"], name="audit_patient_time_idx"),
            models.Index(fields=["actor", "occurred_at", "seq"], name="audit_actor_time_idx"),
            models.Index(fields=["action", "occurred_at", "seq"], name="audit_action_time_idx"),
            models.Index(fields=["record_type", "record_id", "occurred_at"], name="audit_record_time_idx"),
            # The report's sorts by user, role and address (records.selectors.AUDIT_SORTS), each
            # with seq as its tie-break, read in either direction.
            models.Index(fields=["actor_username", "seq"], name="audit_user_sort_idx"),
            models.Index(fields=["actor_role", "seq"], name="audit_role_sort_idx"),
            models.Index(fields=["ip_address", "seq"], name="audit_address_sort_idx"),
            # The sort by details: the reason's first 200 characters (selectors.DETAILS_SORT_CHARS),
            # as a B-tree entry holds a bounded value and a reason may be long.
            models.Index(Left("reason", 200), F("seq"), name="audit_details_sort_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(seq__gte=1), name="audit_seq_positive"),
        ]
        permissions = [
            ("view_audit_log", "Can read the audit log"),
            ("verify_audit_chain", "Can start a verification of the audit chain"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.record_type}"

    def get_action_display(self) -> str:
        try:
            return str(AuditAction(self.action).label)
        except ValueError:
            return self.action


class VerificationResult(models.TextChoices):
    INTACT = "intact", "Intact"
    TAMPERED = "tampered", "Tampering detected"


class AuditVerification(RecordModel):
    """One run of the audit chain's verification (append-only, like the log itself)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "verify_audit command" or the admin's username.
    started_by_name = models.CharField(max_length=150)
    result = models.CharField(max_length=16, choices=VerificationResult.choices)
    events_checked = models.PositiveBigIntegerField()
    rows_per_second = models.PositiveIntegerField()
    # The last good position and its hash: the next run checks they are unchanged.
    head_seq = models.PositiveBigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    first_bad_seq = models.PositiveBigIntegerField(null=True, blank=True)
    first_bad_event_id = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)
    # Not a column: the full report of the run, set by audit_chain_verify on the row it returns.
    report: "ChainReport"

    class Meta:
        ordering = ["-finished_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(result="intact", problem="") | models.Q(result="tampered") & ~models.Q(problem=""),
                name="verification_result_matches_problem",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M:%S} {self.result} ({self.events_checked} events)"
