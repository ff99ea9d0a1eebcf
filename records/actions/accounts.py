from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record
from records.models import AuditAction, User
from records.permissions import Role, require, role_of


def _require_manager(actor: Actor) -> None:
    if not actor.is_system:
        require(actor.user, "manage_accounts", "Only an admin may manage accounts.")


@transaction.atomic
def account_create(
    *,
    actor: Actor,
    username: str,
    first_name: str,
    last_name: str,
    email: str = "",
    role: Role,
    password: str,
) -> User:
    """Create an account with one role. Admins, or a set-up command.

    An account an admin creates gets a temporary password that its owner must
    change at the first sign-in; set-up commands (demo data, tests) skip that.
    """
    _require_manager(actor)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username {username} is taken."})
    # is_staff marks the admin role; no Django admin site is served (clinic/urls.py).
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        is_staff=Role(role) == Role.ADMIN,
        must_change_password=not actor.is_system,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    user.groups.set([Group.objects.get(name=Role(role).value)])
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        record=user,
        changes={
            "username": [None, username],
            "name": [None, user.printed_name],
            "role": [None, Role(role).value],
            "must_change_password": [None, user.must_change_password],
        },
    )
    return user


@transaction.atomic
def account_set_role(*, actor: Actor, account: User, role: Role, reason: str) -> User:
    """Give an account a different role. Admins; not on their own account."""
    _require_manager(actor)
    if actor.user is not None and actor.user.pk == account.pk:
        raise ActionRefused("You cannot change your own role; ask another admin.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the role change."})
    before = role_of(account)
    new = Role(role)
    if before == new:
        raise ActionRefused(f"{account.printed_name} already has the role {new.label}.")
    account.groups.set([Group.objects.get(name=new.value)])
    account.is_staff = new == Role.ADMIN
    account.save(update_fields=["is_staff"])
    account._clinic_role = new
    audit_record(
        actor=actor,
        action=AuditAction.ROLE_CHANGE,
        record=account,
        changes={"role": [before.value if before else None, new.value]},
        reason=reason,
    )
    return account


@transaction.atomic
def account_set_active(*, actor: Actor, account: User, active: bool, reason: str) -> User:
    """Deactivate or reactivate an account (never deleted). Admins; not their own account."""
    _require_manager(actor)
    if actor.user is not None and actor.user.pk == account.pk:
        raise ActionRefused("You cannot deactivate your own account.")
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for this change."})
    account = User.objects.select_for_update(no_key=True).get(pk=account.pk)
    if account.is_active == active:
        raise ActionRefused(f"{account.printed_name} is already " + ("active." if active else "deactivated."))
    account.is_active = active
    account.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action=AuditAction.REACTIVATE if active else AuditAction.DEACTIVATE,
        record=account,
        changes={"is_active": [not active, active]},
        reason=reason,
    )
    return account


@transaction.atomic
def account_change_password(*, actor: Actor, account: User, new_password: str) -> User:
    """A user changes their own password (the form has checked the old one).

    Also ends the obligation to change an admin-given temporary password.
    """
    if actor.user is None or actor.user.pk != account.pk:
        raise ActionRefused("A password can only be changed by its owner.")
    validate_password(new_password, account)
    if account.check_password(new_password):
        raise ValidationError("Choose a password different from the current one.")
    account.set_password(new_password)
    account.must_change_password = False
    account.save(update_fields=["password", "must_change_password"])
    audit_record(actor=actor, action=AuditAction.PASSWORD_CHANGE, record=account)
    return account


def audit_login(*, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.LOGIN, record=actor.user)


def audit_logout(*, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.LOGOUT, record=actor.user)


def audit_login_failed(*, actor: Actor, username: str) -> None:
    # No hint in the log's shape whether the username exists: record the text typed.
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.LOGIN_FAILED, username=username, record_type="user")


def audit_access_denied(*, actor: Actor, path: str, method: str, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.ACCESS_DENIED,
            record_type="url",
            record_id=f"{method} {path}"[:64],
            reason=reason,
        )


def audit_lockout(*, actor: Actor, username: str) -> None:
    # The typed username, as for a failed log-in: no hint whether it exists.
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.LOCKOUT,
            username=username,
            record_type="user",
            reason="Too many failed log-ins from this address; locked for the cool-off period.",
        )


def audit_idle_timeout(*, actor: Actor) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.TIMEOUT, record=actor.user)


def audit_reauth(*, actor: Actor, succeeded: bool, method: str, purpose: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.REAUTH if succeeded else AuditAction.REAUTH_FAILED,
            record=actor.user,
            reason=f"{method} for {purpose}"[:500],
        )
