"""Who may do what: the one place that answers it.

Each role is a Django group holding the permissions listed here; after every
migrate, `sync_role_groups` makes the groups match this table. Views
and actions ask `can()`; templates only show its answer (`perms` / `user_can`).
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Literal, cast

from django.core.exceptions import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from records.models import User


class Role(StrEnum):
    NURSE = "nurse"
    PHYSICIAN = "physician"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"nurse": "Nurse", "physician": "Physician", "admin": "Admin (auditor)"}[self.value]


# Permission codenames of the `records` app, by role. Admins audit and manage
# accounts; they do not chart or read clinical records.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.NURSE: frozenset(
        {
            "view_patient",
            "add_patient",
            "change_patient",
            "deactivate_patient",
            "view_session",
            "add_session",
            "chart_session",
            "write_addendum",
            "view_clinicsettings",
            "view_intakeassessment",
            "view_outcomereport",
            "add_outcomereport",
            # Readings from bedside monitors: the unmatched list (accepting one is charting).
            "view_devicereading",
            "view_monitoringprotocol",
            # The esketamine REMS monitoring form: nurses record it (charting) and print it.
            "view_remsmonitoringform",
        }
    ),
    # The candidacy assessment is the physician's: nurses read it.
    Role.PHYSICIAN: frozenset(
        {
            "view_patient",
            "add_patient",
            "change_patient",
            "deactivate_patient",
            "view_session",
            "add_session",
            "decide_screening",
            "cosign_session",
            "write_addendum",
            "view_clinicsettings",
            "view_intakeassessment",
            "add_intakeassessment",
            "change_intakeassessment",
            "view_outcomereport",
            "add_outcomereport",
            "download_fhir_record",
            "view_monitoringprotocol",
            # Discharge before the criteria of clinical judgement are met, with a written reason.
            "override_discharge",
            "view_remsmonitoringform",
        }
    ),
    # The bulk export is the clinic's data leaving with it (data portability): the
    # admin starts it without reading any record on a page.
    Role.ADMIN: frozenset(
        {
            "view_audit_log",
            "verify_audit_chain",
            "manage_accounts",
            "view_clinicsettings",
            "change_clinicsettings",
            # Registering bedside monitors at chairs (no patient data).
            "view_monitor",
            "add_monitor",
            "change_monitor",
            "export_fhir",
            # Monitoring protocols: when to look and what to measure (clinic configuration, no patient data).
            "view_monitoringprotocol",
            "change_monitoringprotocol",
            # The REMS monitoring forms due: the admin prints them, sends them outside the product and
            # records the submission. The forms and their list are the only patient data an admin reads.
            "view_remsmonitoringform",
            "submit_rems_form",
        }
    ),
}


def role_of(user: "User | AnonymousUser | None") -> Role | None:
    """The user's role, or None for an anonymous user or an account without one."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = cast(Role | Literal[False] | None, getattr(user, "_clinic_role", False))
    if cached is not False:
        return cached
    names = {g.name for g in user.groups.all()}
    role = next((r for r in Role if r.value in names), None)
    user._clinic_role = role
    return role


def can(user: "User | AnonymousUser | None", permission: str) -> bool:
    """Whether an active account's role grants `permission` (a records codename)."""
    role = role_of(user)
    return role is not None and permission in ROLE_PERMISSIONS[role]


def require(user: "User | AnonymousUser | None", permission: str, message: str | None = None) -> None:
    if not can(user, permission):
        raise PermissionDenied(message or "Your role does not allow this.")


def sync_role_groups(*, using: str = "default", **kwargs: object) -> None:
    """Make the three role groups hold exactly the permissions in ROLE_PERMISSIONS.

    Connected to post_migrate (records.apps), so every `migrate` (and every test
    database flush) leaves the groups matching this table; no migration holds a copy.
    """
    from django.contrib.auth.models import Group, Permission

    permissions = Permission.objects.using(using).filter(content_type__app_label="records")
    defined = set(permissions.values_list("codename", flat=True))
    for role, codenames in ROLE_PERMISSIONS.items():
        undefined = codenames - defined
        if undefined:
            raise RuntimeError(f"Permissions not defined on any model: {sorted(undefined)}")
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(permissions.filter(codename__in=codenames))
