"""API tokens (issued, revoked, stored hashed, audited), the physician's Bundle download and the admin's export page."""

import hashlib
import io
import json
import re
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from records.actions.accounts import account_set_active
from records.actions.context import ActionRefused, Actor
from records.actions.fhir import api_token_issue, api_token_revoke
from records.models import ApiToken, AuditEvent
from tests.conftest import PASSWORD
from tests.fhir.conftest import bearer, validate

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_sha256_and_its_issue_and_revocation_are_audited(admin_user, nurse, client):
    actor = Actor.for_user(admin_user)
    row, token = api_token_issue(actor=actor, account=nurse, name="Registry")
    assert token.startswith("crf_") and len(token) > 40
    stored = ApiToken.objects.get(pk=row.pk)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(list(ApiToken.objects.values()), default=str)
    issued = AuditEvent.objects.get(action="api_token_issue")
    assert (issued.actor, issued.record_id, issued.changes["account"]) == (admin_user, str(row.pk), [None, "nurse_a"])
    assert token not in json.dumps(issued.changes)
    assert client.get("/fhir/Patient", **bearer(token)).status_code == 200

    api_token_revoke(actor=actor, token=row, reason="System retired")
    revoked = AuditEvent.objects.get(action="api_token_revoke")
    assert (revoked.actor, revoked.reason) == (admin_user, "System retired")
    assert client.get("/fhir/Patient", **bearer(token)).status_code == 401
    with pytest.raises(ActionRefused, match="already revoked"):
        api_token_revoke(actor=actor, token=row)


def test_only_admins_issue_tokens_and_only_for_active_accounts_with_a_role(admin_user, nurse, physician):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        api_token_issue(actor=Actor.for_user(nurse), account=nurse, name="Mine")
    with pytest.raises(ValidationError):
        api_token_issue(actor=Actor.for_user(admin_user), account=physician, name="  ")
    account_set_active(actor=Actor.for_user(admin_user), account=physician, active=False, reason="Left")
    with pytest.raises(ActionRefused, match="deactivated"):
        api_token_issue(actor=Actor.for_user(admin_user), account=physician, name="Registry")
    assert not ApiToken.objects.exists()


def test_fhir_token_command_prints_the_token_once_and_revokes(nurse, capsys, client):
    call_command("fhir_token", nurse.username, name="Neurology clinic")
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("crf_") and "shown once" in out.err
    assert client.get("/fhir/Patient", **bearer(token)).status_code == 200
    assert AuditEvent.objects.get(action="api_token_issue").actor_role == "system"

    call_command("fhir_token", nurse.username, revoke=True, reason="Contract ended")
    assert "Revoked" in capsys.readouterr().out
    assert client.get("/fhir/Patient", **bearer(token)).status_code == 401
    with pytest.raises(CommandError, match="no token to revoke"):
        call_command("fhir_token", nurse.username, revoke=True)
    with pytest.raises(CommandError, match="No account"):
        call_command("fhir_token", "nobody")


def test_an_admin_issues_and_revokes_tokens_on_the_accounts_page_after_confirming_it_is_them(client, admin_user, nurse):
    client.force_login(admin_user)
    response = client.post(reverse("account_token_issue"), {"account": nurse.pk, "name": "Registry"})
    assert response.status_code == 200 and "Confirm" in response.content.decode()  # re-authentication first
    assert not ApiToken.objects.exists()
    response = client.post(
        reverse("account_token_issue"), {"account": nurse.pk, "name": "Registry", "reauth_password": PASSWORD}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    token = response.content.decode().split('id="api-token" value="')[1].split('"')[0]
    row = ApiToken.objects.get(account=nurse)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    listing = client.get(reverse("account_list")).content.decode()
    assert row.prefix in listing and token not in listing

    response = client.post(reverse("account_token_revoke"), {"token": row.pk, "reason": "Lost"})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None and row.revoked_by == admin_user


def test_a_physician_downloads_a_patients_record_as_a_bundle_audited_as_a_disclosure(
    client, physician, nurse, patient, charted_session
):
    client.force_login(physician)
    page = client.get(reverse("patient_detail", args=[patient.pk])).content.decode()
    assert reverse("patient_fhir_bundle", args=[patient.pk]) in page
    response = client.get(reverse("patient_fhir_bundle", args=[patient.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="patient-record-{patient.mrn}-')
    bundle = json.loads(response.content)
    validate(bundle)
    assert bundle["type"] == "collection"
    types = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    assert {"Patient", "Encounter", "Observation", "MedicationRequest", "Practitioner", "CodeSystem"} <= types
    assert "AuditEvent" not in types
    for entry in bundle["entry"]:
        validate(entry["resource"])
        assert entry["fullUrl"].endswith(f"/fhir/{entry['resource']['resourceType']}/{entry['resource']['id']}")
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"] if "subject" in e["resource"]}
    assert subjects == {f"Patient/{patient.pk}"}
    present = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}
    references = set(re.findall(r'"reference": ?"([^"]+)"', response.content.decode()))
    assert references and references <= present  # the Bundle stands on its own
    disclosure = AuditEvent.objects.get(action="disclosure", patient=patient)
    assert disclosure.actor == physician
    assert disclosure.changes["document"] == [None, "Patient record (FHIR Bundle)"]
    assert disclosure.changes["resources"] == [None, len(bundle["entry"])]

    client.force_login(nurse)
    assert client.get(reverse("patient_fhir_bundle", args=[patient.pk])).status_code == 403


# Committed, as the worker (its own loop, its own connections) needs on PostgreSQL.
@pytest.mark.django_db(transaction=True)
def test_the_admin_exports_from_the_page_and_downloads_the_zip_each_audited(
    client, admin_user, patient, sessions, settings, tmp_path
):
    settings.FHIR_EXPORT_DIR = tmp_path / "exports"
    sessions.to(patient, "signed")
    client.force_login(admin_user)
    assert client.get(reverse("fhir_export")).status_code == 302  # confirm it is you first
    response = client.post(reverse("fhir_export"), {"audit": "on", "reauth_password": PASSWORD})
    assert response.status_code == 302
    # Queued, then written by the worker (records.tasks.fhir_export_task); its page shows the result.
    assert "Queued" in client.get(response.url).content.decode()
    started = AuditEvent.objects.get(action="create", record_type="background_task")
    assert started.changes["task"] == [None, "FHIR export"] and started.actor == admin_user
    call_command("task_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    assert "is ready" in client.get(response.url).content.decode()
    export = AuditEvent.objects.get(action="export", record_type="fhir_export")
    assert export.actor == admin_user and export.changes["resources"][1]["Encounter"] == 1
    page = client.get(reverse("fhir_export")).content.decode()
    name = next((tmp_path / "exports").glob("*.zip")).stem
    assert reverse("fhir_export_download", args=[name]) in page

    download = client.get(reverse("fhir_export_download", args=[name]))
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = {n.split("/", 1)[1] for n in archive.namelist()}
    assert {"manifest.json", "Patient.ndjson", "Encounter.ndjson", "AuditEvent.ndjson"} <= names
    assert AuditEvent.objects.get(action="disclosure", record_type="fhir_export").record_id == name

    assert client.get(reverse("fhir_export_download", args=["..%2F..%2Fetc"])).status_code == 404
    assert client.get(reverse("fhir_export_download", args=["20260101-000000-deadbeef"])).status_code == 404
    response = client.post(reverse("fhir_export"), {"patient_mrn": "NOPE"})
    assert "No patient has the MRN NOPE" in response.content.decode()
