"""Second sign-in factor: authenticator-app (TOTP) devices and one-time recovery codes.

django-otp holds the TOTP devices and checks their codes (with replay refusal
and throttling). Recovery codes are ours because django-otp's static tokens are
stored in clear; ours are stored as Django password hashes.
"""

import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record
from records.models import AuditAction, RecoveryCode, User
from records.permissions import require

# No 0/O or 1/I/L: codes are read off paper and typed by hand.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ENROLMENT_DEVICE_NAME = "Authenticator app"
# An authenticator key's length, as django-otp makes them.
KEY_BYTES = 20


def _own_account(actor: Actor, account: User) -> None:
    if not actor.is_system and (actor.user is None or actor.user.pk != account.pk):
        raise ActionRefused("Only the account's owner can set up its authenticator app.")


def normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def confirmed_device(account: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=account, confirmed=True).order_by("-id").first()


def mfa_enrol_new_key(*, actor: Actor, account: User) -> str:
    """Begin setting up an authenticator app: a new secret key, not saved anywhere.

    The set-up page shows it (as a QR code and typed) and keeps it in the login session;
    only `mfa_enrol_confirm`, on the POST with a code from the app, saves it. Opening the
    page writes nothing. The account's owner (or a set-up command); only while the account
    has no confirmed device (losing the device is handled by an admin's `mfa_reset`).
    """
    _own_account(actor, account)
    if confirmed_device(account) is not None:
        raise ActionRefused("An authenticator app is already set up for this account.")
    key: str = random_hex(KEY_BYTES)
    return key


def enrolment_device(account: User, key: str) -> TOTPDevice:
    """The device a key would make, unsaved: for the set-up page's QR code and typed key."""
    return TOTPDevice(user=account, name=ENROLMENT_DEVICE_NAME, key=key, confirmed=False)


@transaction.atomic
def mfa_enrol_confirm(*, actor: Actor, account: User, key: str, token: str) -> list[str]:
    """Save the app's key once it shows a matching code; returns the recovery codes (to be shown once).

    The account's owner (or a set-up command); `key` is the one `mfa_enrol_new_key` gave,
    kept by the set-up page. A wrong code saves nothing.
    """
    _own_account(actor, account)
    if confirmed_device(account) is not None:
        raise ActionRefused("An authenticator app is already set up for this account.")
    try:
        if len(bytes.fromhex(key)) != KEY_BYTES:
            raise ValueError(key)
    except ValueError:
        raise ActionRefused("This set-up has expired; start again.") from None
    device = enrolment_device(account, key)
    token = "".join(token.split())
    if not token.isdigit() or len(token) != device.digits:
        raise ValidationError({"token": f"Enter the {device.digits}-digit code your authenticator app shows."})
    # django-otp's check (drift, replay); on a wrong code it counts a failure on the device,
    # which the refusal's rollback discards with the device itself.
    if not device.verify_token(token):
        raise ValidationError(
            {"token": "That code does not match. Check the phone's clock and type the code shown now."}
        )
    TOTPDevice.objects.filter(user=account).exclude(pk=device.pk).delete()  # any left by an earlier version
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(account)
    audit_record(actor=actor, action=AuditAction.MFA_ENROL, record=account, changes={"mfa": [None, "totp"]})
    return codes


def _new_recovery_codes(account: User) -> list[str]:
    RecoveryCode.objects.filter(user=account).delete()
    codes = []
    for _ in range(settings.RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=account, code_hash=make_password(normalise_recovery_code(code))) for code in codes
    )
    return codes


@transaction.atomic
def mfa_verify(*, actor: Actor, account: User, token: str) -> TOTPDevice | RecoveryCode | None:
    """Check the second factor at sign-in or re-authentication: a TOTP code or a recovery code.

    The account's owner. Returns what matched (a used recovery code is spent),
    or None; either way the attempt is audited.
    """
    _own_account(actor, account)
    token = token.strip()
    matched = None
    digits = "".join(token.split())
    device = confirmed_device(account)
    if device is not None and digits.isdigit() and len(digits) == device.digits:
        device = TOTPDevice.objects.select_for_update(no_key=True).get(pk=device.pk)
        if device.verify_token(digits):
            matched = device
    elif token:
        matched = _spend_recovery_code(account, token)
    if matched is None:
        audit_record(actor=actor, action=AuditAction.MFA_FAILED, record=account)
    else:
        how = "recovery code" if isinstance(matched, RecoveryCode) else "authenticator app"
        audit_record(actor=actor, action=AuditAction.MFA_VERIFY, record=account, reason=how)
    return matched


def _spend_recovery_code(account: User, code: str) -> RecoveryCode | None:
    wanted = normalise_recovery_code(code)
    if len(wanted) != 10:
        return None
    for candidate in RecoveryCode.objects.select_for_update(no_key=True).filter(user=account, used_at__isnull=True):
        if check_password(wanted, candidate.code_hash):
            candidate.used_at = timezone.now()
            candidate.save(update_fields=["used_at"])
            return candidate
    return None


def recovery_codes_left(account: User) -> int:
    return RecoveryCode.objects.filter(user=account, used_at__isnull=True).count()


@transaction.atomic
def mfa_reset(*, actor: Actor, account: User, reason: str) -> User:
    """Require an account to set up its authenticator app again (a lost or replaced phone).

    Admins, not on their own account; a reason is required. The account's app
    and recovery codes stop working at once; at the next sign-in its owner
    enrols a new app.
    """
    if not actor.is_system:
        require(actor.user, "manage_accounts", "Only an admin may require re-enrolment.")
    if actor.user is not None and actor.user.pk == account.pk:
        raise ActionRefused("You cannot reset your own authenticator app; ask another admin.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for requiring re-enrolment."})
    devices = TOTPDevice.objects.filter(user=account)
    had_device = devices.filter(confirmed=True).exists()
    devices.delete()
    RecoveryCode.objects.filter(user=account).delete()
    audit_record(
        actor=actor,
        action=AuditAction.MFA_RESET,
        record=account,
        changes={"mfa": ["totp" if had_device else None, None]},
        reason=reason,
    )
    return account
