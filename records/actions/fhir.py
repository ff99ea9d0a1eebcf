"""The FHIR API and export: tokens issued and revoked, reads and searches, exports and downloads, all audited."""

import hashlib
import secrets
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from records.actions.context import ActionRefused, Actor
from records.audit import audit_record
from records.models import ApiToken, AuditAction, Patient, User
from records.permissions import require, role_of

TOKEN_PREFIX = "crf_"  # noqa: S105 (a marker that says what the secret is for, not a secret)
# Tokens are 32 random bytes: 256 bits, beyond any guessing.
TOKEN_BYTES = 32
# last_used_at is refreshed at most this often, not on every request.
LAST_USED_PRECISION_SECONDS = 60


def token_hash(token: str) -> str:
    """SHA-256 of the token, as stored (see records.models.api.ApiToken for why not a password hash)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _require_manager(actor: Actor) -> None:
    if not actor.is_system:
        require(actor.user, "manage_accounts", "Only an admin may issue or revoke API tokens.")


@transaction.atomic
def api_token_issue(*, actor: Actor, account: User, name: str) -> tuple[ApiToken, str]:
    """Issue a read-API token for an active account with a role. Admins, or the fhir_token command.

    Returns the token row and the token itself, which is shown once and never stored.
    """
    _require_manager(actor)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Say what the token is for, e.g. the receiving system's name."})
    account = User.objects.select_for_update(no_key=True).get(pk=account.pk)
    if not account.is_active:
        raise ActionRefused(f"{account.printed_name}'s account is deactivated: a token would not work.")
    role = role_of(account)
    if role is None:
        raise ActionRefused(f"{account.printed_name} has no role: a token could read nothing.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(
        account=account,
        name=name[:100],
        token_hash=token_hash(token),
        prefix=token[:10],
        created_by=actor.user if actor.user is not None and actor.user.pk else None,
        created_at=timezone.now(),
    )
    row.full_clean(exclude=["token_hash", "prefix"])
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.API_TOKEN_ISSUE,
        record=row,
        changes={
            "account": [None, account.get_username()],
            "role": [None, role.value],
            "name": [None, row.name],
            "prefix": [None, row.prefix],
        },
    )
    return row, token


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token at once; its row stays. Admins, or the fhir_token command."""
    _require_manager(actor)
    row = ApiToken.objects.select_for_update(no_key=True).select_related("account").get(pk=token.pk)
    if row.revoked_at is not None:
        raise ActionRefused(f"The token {row.prefix}… is already revoked.")
    row.revoked_at = timezone.now()
    row.revoked_by = actor.user if actor.user is not None and actor.user.pk else None
    row.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditAction.API_TOKEN_REVOKE,
        record=row,
        changes={"revoked_at": [None, row.revoked_at.isoformat()], "account": [None, row.account.get_username()]},
        reason=reason.strip(),
    )
    return row


def _require_reader(actor: Actor, token: ApiToken) -> None:
    """A read through the API is made by the token's own account, with a role (the API checked which)."""
    if actor.user is None or actor.user.pk != token.account_id or role_of(actor.user) is None:
        raise ActionRefused("Reads through the API are made with a valid token of an account with a role.")


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    last = token.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_PRECISION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def fhir_read_record(
    *,
    actor: Actor,
    token: ApiToken,
    resource: str,
    patient: Patient | None,
    record: models.Model | None,
) -> None:
    """Record a read through the FHIR API (`resource`: "Observation/vitals-12-bp"), as a page view is recorded.

    The token's own account, with a role; what that role may read was checked by the API's selectors.
    """
    _require_reader(actor, token)
    _touch(token)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        patient=patient,
        record=record,
        record_type="" if record is not None else "fhir",
        record_id="" if record is not None else resource[:64],
        reason=f"FHIR API read {resource} (token {token.prefix}…)",
    )


@transaction.atomic
def fhir_search_record(
    *, actor: Actor, token: ApiToken, resource_type: str, query: str, total: int, patient: Patient | None
) -> None:
    """Record a search through the FHIR API: the query and how many results it had, as a patient search is.

    The token's own account, with a role; what that role may read was checked by the API's selectors.
    """
    _require_reader(actor, token)
    _touch(token)
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        patient=patient,
        record_type=f"fhir:{resource_type}"[:64],
        changes={"query": [None, query[:2000]], "results": [None, total]},
        reason=f"FHIR API search (token {token.prefix}…)",
    )


@transaction.atomic
def fhir_export_record(*, actor: Actor, patient: Patient | None, description: str, counts: Mapping[str, int]) -> None:
    """Record a FHIR bulk export (a disclosure): admins from the page, or the export_fhir command."""
    if not actor.is_system:
        require(actor.user, "export_fhir", "Only an admin may export the clinic's records.")
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        patient=patient,
        record_type="fhir_export",
        changes={"resources": [None, dict(counts)]},
        reason=description[:500],
    )


@transaction.atomic
def fhir_export_download_record(*, actor: Actor, export_name: str, patient: Patient | None) -> None:
    """Record that an admin downloaded a finished export: the records leave the server here."""
    require(actor.user, "export_fhir", "Only an admin may download the clinic's records.")
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSURE,
        patient=patient,
        record_type="fhir_export",
        record_id=export_name,
        changes={"file": [None, f"{export_name}.zip"]},
    )


@transaction.atomic
def fhir_bundle_disclosure(*, actor: Actor, patient: Patient, filename: str, resources: int) -> None:
    """Record that one patient's record was downloaded as a FHIR Bundle, like a printed summary. Physicians."""
    if actor.user is None:
        raise ActionRefused("Downloads are made by a signed-in person.")
    require(actor.user, "download_fhir_record", "Only a physician may download a patient's record as FHIR.")
    audit_record(
        actor=actor,
        action=AuditAction.DISCLOSURE,
        patient=patient,
        record_type="patient",
        record_id=patient.pk,
        changes={
            "document": [None, "Patient record (FHIR Bundle)"],
            "file": [None, filename],
            "resources": [None, resources],
        },
    )
