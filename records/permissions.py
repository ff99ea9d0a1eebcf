"""Who may do what: the one place that answers it.

Each role is a Django group holding the permissions listed here; the data
migrations call `sync_role_groups` so that the groups match this table. Views
and actions ask `can()`; templates only show its answer (`perms` / `user_can`).
"""

from enum import StrEnum

from django.core.exceptions import PermissionDenied


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
        }
    ),
    Role.ADMIN: frozenset(
        {"view_audit_log", "verify_audit_chain", "manage_accounts", "view_clinicsettings", "change_clinicsettings"}
    ),
}


def role_of(user) -> Role | None:
    """The user's role, or None for an anonymous user or an account without one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_clinic_role", False)
    if cached is not False:
        return cached
    names = {g.name for g in user.groups.all()}
    role = next((r for r in Role if r.value in names), None)
    user._clinic_role = role
    return role


def can(user, permission: str) -> bool:
    """Whether an active account's role grants `permission` (a records codename)."""
    role = role_of(user)
    return role is not None and permission in ROLE_PERMISSIONS[role]


def require(user, permission: str, message: str | None = None) -> None:
    if not can(user, permission):
        raise PermissionDenied(message or "Your role does not allow this.")


def sync_role_groups(apps) -> None:
    """Make the three role groups hold exactly the permissions in ROLE_PERMISSIONS.

    Called from data migrations with the historical app registry.
    """
    from django.contrib.auth.management import create_permissions

    records = apps.get_app_config("records")
    records.models_module = True  # let create_permissions run inside a migration
    create_permissions(records, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = Permission.objects.filter(content_type__app_label="records", codename__in=codenames)
        missing = set(codenames) - set(wanted.values_list("codename", flat=True))
        # A permission of a model that a later migration creates is granted by that
        # migration's own call; only a codename no model defines at all is an error.
        undefined = missing - _defined_codenames()
        if undefined:
            raise RuntimeError(f"Permissions not defined on any model: {sorted(undefined)}")
        group.permissions.set(wanted)


def _defined_codenames() -> set[str]:
    """Every permission codename the records app's current models define."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import _get_all_permissions

    return {
        codename
        for model in global_apps.get_app_config("records").get_models()
        for codename, _ in _get_all_permissions(model._meta)
    }
