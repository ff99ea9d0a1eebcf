"""The FHIR read API: tokens, roles, reads, searches with paging, the audit of each, and errors as OperationOutcome."""

import json
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.actions.accounts import account_set_active
from records.actions.context import Actor
from records.actions.fhir import api_token_revoke
from records.models import ApiToken, AuditEvent, OutcomeReport, VitalsReading
from tests.fhir.conftest import bearer, validate

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json; charset=utf-8"


def get(client, path, token=None, **params):
    headers = bearer(token) if token else {}
    return client.get(path, params, **headers)


def body(response) -> dict:
    assert response["Content-Type"] == FHIR_JSON
    return json.loads(response.content)


def outcome(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    data = body(response)
    assert data["resourceType"] == "OperationOutcome"
    validate(data)
    assert data["issue"][0]["code"] == code
    return data


def all_pages(client, token, path, **params) -> tuple[list[dict], list[dict]]:
    """Follow the Bundle's next links; returns (bundles, resources)."""
    bundles, resources = [], []
    response = get(client, path, token, **params)
    while True:
        assert response.status_code == 200, response.content
        bundle = body(response)
        validate(bundle)
        bundles.append(bundle)
        resources += [entry["resource"] for entry in bundle.get("entry", [])]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return bundles, resources
        url = urlsplit(following[0])
        response = client.get(f"{url.path}?{url.query}", **bearer(token))


def test_metadata_is_a_capability_statement_open_without_a_token(client):
    response = client.get(reverse("fhir_metadata"))
    statement = body(response)
    validate(statement)
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"read", "search-type"} == {i["code"] for i in resources["Observation"]["interaction"]}
    assert {p["name"] for p in resources["Observation"]["searchParam"]} == {"patient", "category", "code", "date"}
    assert {p["name"] for p in resources["Patient"]["searchParam"]} == {"_id", "identifier", "name", "birthdate"}
    assert {"read"} == {i["code"] for i in resources["AuditEvent"]["interaction"]}
    assert "Bearer" in statement["rest"][0]["security"]["description"]


def test_a_nurse_token_reads_every_clinical_resource_type_and_each_read_is_audited(
    client, nurse, physician, patient, charted_session, issue_token
):
    from records.actions.sessions import addendum_add, session_cosign
    from tests.charting import SessionBuilder

    token = issue_token(nurse)
    signed = SessionBuilder(nurse, physician, lambda u: Actor.for_user(u)).to(patient, "signed")
    session_cosign(actor=Actor.for_user(physician), session=signed)
    addendum = addendum_add(actor=Actor.for_user(nurse), session=signed, text="Called: fine.", reason="Follow-up")
    reading = VitalsReading.objects.filter(session=charted_session, systolic__isnull=False).first()
    screening = charted_session.screening
    order = charted_session.orders.get()
    administration = charted_session.administrations.get()
    paths = {
        f"Patient/{patient.pk}": patient.pk,
        f"Encounter/{charted_session.pk}": patient.pk,
        f"Observation/vitals-{reading.pk}-bp": patient.pk,
        f"MedicationRequest/{order.pk}": patient.pk,
        f"MedicationAdministration/{administration.pk}": patient.pk,
        f"QuestionnaireResponse/screening-{screening.pk}": patient.pk,
        f"Provenance/session-{signed.pk}-signature": patient.pk,
        f"Provenance/session-{signed.pk}-cosignature": patient.pk,
        f"Provenance/addendum-{addendum.pk}": patient.pk,
        f"DocumentReference/addendum-{addendum.pk}": patient.pk,
        f"Practitioner/{nurse.pk}": None,
    }
    for path, patient_pk in paths.items():
        before = AuditEvent.objects.count()
        response = get(client, f"/fhir/{path}", token)
        assert response.status_code == 200, (path, response.content)
        resource = body(response)
        validate(resource)
        assert f"{resource['resourceType']}/{resource['id']}" == path
        event = AuditEvent.objects.order_by("-seq").first()
        assert AuditEvent.objects.count() == before + 1
        assert (event.action, event.actor, event.actor_role, event.patient_id) == ("view", nurse, "nurse", patient_pk)
        assert event.reason.startswith(f"FHIR API read {path} (token crf_")
    code_system = get(client, "/fhir/CodeSystem/observation", token)
    validate(body(code_system))
    assert ApiToken.objects.get(account=nurse).last_used_at is not None


def test_patient_search_by_identifier_name_and_birthdate(client, nurse, patient, make_patient, issue_token, settings):
    token = issue_token(nurse)
    make_patient(family_name="Testarossa", date_of_birth=patient.date_of_birth.replace(year=1950))

    def ids(**params):
        response = get(client, "/fhir/Patient", token, **params)
        assert response.status_code == 200, response.content
        bundle = body(response)
        validate(bundle)
        assert bundle["type"] == "searchset" and bundle["total"] == len(bundle.get("entry", []))
        return {entry["resource"]["id"] for entry in bundle.get("entry", [])}

    mine = {str(patient.pk)}
    assert ids(identifier=patient.mrn) == mine
    assert ids(identifier=f"{settings.FHIR_MRN_SYSTEM}|{patient.mrn}") == mine
    assert ids(identifier=f"http://another.example/mrn|{patient.mrn}") == set()
    assert ids(name="testw") == mine
    assert len(ids(name="Test")) == 2
    assert ids(**{"name:exact": "Testwood"}) == mine
    assert ids(birthdate=patient.date_of_birth.isoformat()) == mine
    assert ids(birthdate=f"ge{patient.date_of_birth.year}", name="Test") == mine
    assert ids(birthdate=f"lt{patient.date_of_birth.year}") != mine
    search = AuditEvent.objects.filter(action="search", record_type="fhir:Patient").order_by("-seq").first()
    assert search.changes["results"] == [None, 1] and search.actor == nurse


def test_observations_page_through_with_next_links_and_match_the_database(
    client, nurse, patient, charted_session, issue_token
):
    token = issue_token(nurse)
    searches_before = AuditEvent.objects.filter(action="search").count()
    bundles, observations = all_pages(client, token, "/fhir/Observation", patient=patient.pk, _count=4)
    readings = VitalsReading.objects.filter(session__patient=patient)
    expected = sum(
        (r.systolic is not None)
        + sum(getattr(r, f) is not None for f in ("heart_rate", "spo2", "respiratory_rate", "temperature", "weight_kg"))
        + (r.pain is not None)
        + (r.sedation_rass is not None)
        + (r.moaas is not None)
        + bool(r.dissociation)
        + (r.cadss6_total is not None)
        for r in readings
    )
    assert len(observations) == expected == bundles[0]["total"]
    assert len(bundles) == -(-expected // 4)
    assert len({o["id"] for o in observations}) == expected
    effective = [o["effectiveDateTime"] for o in observations]
    assert effective == sorted(effective)
    assert AuditEvent.objects.filter(action="search", patient=patient).count() == searches_before + len(bundles)
    # Filters: category, code (with or without the system), date.
    _, vitals = all_pages(client, token, "/fhir/Observation", patient=f"Patient/{patient.pk}", category="vital-signs")
    assert {o["category"][0]["coding"][0]["code"] for o in vitals} == {"vital-signs"}
    _, heart = all_pages(client, token, "/fhir/Observation", patient=patient.pk, code="http://loinc.org|8867-4")
    assert len(heart) == readings.filter(heart_rate__isnull=False).count()
    _, spo2 = all_pages(client, token, "/fhir/Observation", patient=patient.pk, code="59408-5,9279-1")
    assert (
        len(spo2)
        == readings.filter(spo2__isnull=False).count() + readings.filter(respiratory_rate__isnull=False).count()
    )
    _, none = all_pages(client, token, "/fhir/Observation", patient=patient.pk, date="lt2000")
    assert none == []
    _, today = all_pages(client, token, "/fhir/Observation", patient=patient.pk, date=f"ge{effective[0][:10]}")
    assert len(today) == expected


def test_sedation_and_dissociation_scales_are_survey_observations_as_charted(
    client, nurse, patient, charted_session, issue_token
):
    """MOAA/S as its score; CADSS-6 as its six items, with no total computed for the export."""
    token = issue_token(nurse)
    reading = charted_session.readings.get(cadss_1__isnull=False)
    moaas = client.get(f"/fhir/Observation/vitals-{reading.pk}-moaas", **bearer(token)).json()
    assert moaas["valueInteger"] == 5
    assert moaas["code"]["coding"][0]["code"] == "moaas"
    assert moaas["category"][0]["coding"][0]["code"] == "survey"
    cadss = client.get(f"/fhir/Observation/vitals-{reading.pk}-cadss6", **bearer(token)).json()
    assert "valueInteger" not in cadss and "valueQuantity" not in cadss
    assert [(c["code"]["coding"][0]["code"], c["valueInteger"]) for c in cadss["component"]] == [
        ("cadss-1", 0),
        ("cadss-2", 1),
        ("cadss-6", 0),
        ("cadss-7", 2),
        ("cadss-15", 0),
        ("cadss-22", 0),
    ]
    validate(moaas)
    validate(cadss)
    declared = client.get("/fhir/CodeSystem/observation", **bearer(token)).json()
    concepts = {c["code"] for c in declared["concept"]}
    assert {"moaas", "cadss6", "cadss-1", "cadss-22"} <= concepts


def test_outcome_totals_are_observations_and_encounters_and_administrations_search_by_patient(
    client, nurse, patient, charted_session, issue_token
):
    from datetime import timedelta

    from django.utils import timezone

    from records.actions.outcomes import outcome_record

    token = issue_token(nurse)
    day = timezone.localdate() - timedelta(days=3)
    outcome_record(
        actor=Actor.for_user(nurse),
        patient=patient,
        reported_on=day,
        headache_days=9,
        midas_total=21,
        midas_completed_on=day,
    )
    report = OutcomeReport.objects.get(patient=patient)
    _, surveys = all_pages(client, token, "/fhir/Observation", patient=patient.pk, code="headache-days,midas-total")
    assert {(o["id"], o["valueInteger"]) for o in surveys} == {
        (f"outcome-{report.pk}-headache-days", 9),
        (f"outcome-{report.pk}-midas", 21),
    }
    _, encounters = all_pages(client, token, "/fhir/Encounter", patient=patient.pk)
    assert [e["id"] for e in encounters] == [str(charted_session.pk)]
    assert encounters[0]["status"] == "in-progress" and encounters[0]["class"]["code"] == "AMB"
    _, none = all_pages(client, token, "/fhir/Encounter", patient=patient.pk, date="lt2000-01-01")
    assert none == []
    _, administrations = all_pages(client, token, "/fhir/MedicationAdministration", patient=patient.pk)
    assert [a["status"] for a in administrations] == ["in-progress"]
    questionnaire = body(get(client, f"/fhir/QuestionnaireResponse/outcome-{report.pk}", token))
    validate(questionnaire)


# Bad requests: OperationOutcome with the right status, never a 500 -------------------------


@pytest.fixture
def nurse_token(nurse, issue_token):
    return issue_token(nurse)


BAD_SEARCHES = [
    ("/fhir/Observation", {}),  # the patient is required
    ("/fhir/Observation", {"patient": "abc"}),
    ("/fhir/Observation", {"patient": "Practitioner/1"}),
    ("/fhir/Observation", {"patient": "1", "date": "2026-13-01"}),
    ("/fhir/Observation", {"patient": "1", "date": "2026-02-30"}),
    ("/fhir/Observation", {"patient": "1", "date": "xx2026"}),
    ("/fhir/Observation", {"patient": "1", "date": "ne2026"}),
    ("/fhir/Observation", {"patient": "1", "date": "2026-03-01T10:00"}),  # a time needs its zone
    ("/fhir/Observation", {"patient": "1", "code": "a|b|c"}),
    ("/fhir/Observation", {"patient": "1", "code": "http://loinc.org|"}),
    ("/fhir/Observation", {"patient": "1", "_count": "0"}),
    ("/fhir/Observation", {"patient": "1", "_count": "abc"}),
    ("/fhir/Observation", {"patient": "1", "_count": "100000"}),
    ("/fhir/Observation", {"patient": "1", "_page": "-1"}),
    ("/fhir/Observation", {"patient": "1", "_sort": "date"}),
    ("/fhir/Observation", {"patient": "1", "subject": "1"}),
    ("/fhir/Patient", {"foo": "bar"}),
    ("/fhir/Patient", {"name:contains": "x"}),
    ("/fhir/Patient", {"identifier": "a|b|c"}),
    ("/fhir/Patient", {"birthdate": "yesterday"}),
    ("/fhir/Patient", {"_id": "abc"}),
    ("/fhir/Patient", {"_format": "xml"}),
    ("/fhir/Patient", {"name": " "}),
    ("/fhir/Encounter", {"patient": "1", "date": "2026-1-1"}),
    ("/fhir/MedicationAdministration", {"patient": "1", "date": "2026"}),
    ("/fhir/Observation", {"patient": "1", "_count": "\u00b2"}),  # a superscript two is a digit to str.isdigit
    ("/fhir/Patient", {"identifier": "a\x00b"}),  # PostgreSQL refuses NUL in text
    ("/fhir/AdverseEvent", {}),  # read by id only
]


@pytest.mark.parametrize(("path", "params"), BAD_SEARCHES)
def test_malformed_searches_get_400(client, nurse_token, patient, path, params):
    response = get(client, path, nurse_token, **params)
    code = "not-supported" if path == "/fhir/AdverseEvent" else "invalid"
    outcome(response, 400, code)


def test_a_parameter_repeated_where_it_may_not_be_gets_400(client, nurse_token):
    response = client.get("/fhir/Observation?patient=1&patient=2", **bearer(nurse_token))
    outcome(response, 400, "invalid")


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/Foo/1",
        "/fhir/Foo",
        "/fhir/",
        "/fhir/Patient/1/_history",
        "/fhir/Patient/999999",
        "/fhir/Patient/01",
        "/fhir/Observation/vitals-1-nope",
        "/fhir/Observation/nonsense",
        "/fhir/QuestionnaireResponse/screening-0",
        "/fhir/Provenance/order-1-signature",
        "/fhir/CodeSystem/unknown",
    ],
)
def test_unknown_resources_get_404(client, nurse_token, path):
    response = client.get(path, **bearer(nurse_token))
    assert response.status_code == 404
    assert body(response)["resourceType"] == "OperationOutcome"


def test_tokens_that_do_not_work_get_401(client, nurse, admin_user, issue_token):
    revoked, deactivated = issue_token(nurse, "revoked"), issue_token(admin_user, "deactivated")
    api_token_revoke(actor=Actor.system("tests"), token=ApiToken.objects.get(name="revoked"))
    account_set_active(actor=Actor.system("tests"), account=admin_user, active=False, reason="Left the clinic")
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Basic bnVyc2U6cGFzcw=="},
        {"HTTP_AUTHORIZATION": "Bearer "},
        bearer("crf_not-a-real-token"),
        bearer(revoked),
        bearer(deactivated),
    ):
        response = client.get("/fhir/Patient", **headers)
        outcome(response, 401, "login")
        assert response["WWW-Authenticate"].startswith("Bearer")
    denied = AuditEvent.objects.filter(action="access_denied", reason__startswith="FHIR API:")
    assert {e.actor_username for e in denied} == {nurse.username, admin_user.username}


def test_a_browser_session_alone_does_not_open_the_api(client, nurse, patient):
    client.force_login(nurse)
    outcome(client.get(f"/fhir/Patient/{patient.pk}"), 401, "login")


def test_another_roles_resources_get_403_and_the_refusal_is_audited(client, nurse, admin_user, patient, issue_token):
    admin_token, nurse_token = issue_token(admin_user), issue_token(nurse)
    event = AuditEvent.objects.first()
    for token, path in (
        (admin_token, f"/fhir/Patient/{patient.pk}"),
        (admin_token, "/fhir/Observation?patient=1"),
        (admin_token, "/fhir/Encounter/1"),
        (nurse_token, f"/fhir/AuditEvent/{event.pk}"),
    ):
        before = AuditEvent.objects.filter(action="access_denied").count()
        response = client.get(path, **bearer(token))
        outcome(response, 403, "forbidden")
        assert AuditEvent.objects.filter(action="access_denied").count() == before + 1
    # An admin reads the audit log through the API, as on the pages.
    response = client.get(f"/fhir/AuditEvent/{event.pk}", **bearer(admin_token))
    assert response.status_code == 200
    validate(body(response))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD"])
def test_only_get_is_allowed(client, nurse_token, patient, method):
    response = client.generic(method, f"/fhir/Patient/{patient.pk}", **bearer(nurse_token))
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    if method != "HEAD":
        outcome(response, 405, "not-supported")


def test_requests_past_the_rate_limit_get_429(client, nurse_token, patient, settings):
    settings.FHIR_API_RATE_LIMIT = "3/m"
    statuses = [get(client, f"/fhir/Patient/{patient.pk}", nurse_token).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    response = get(client, f"/fhir/Patient/{patient.pk}", nurse_token)
    outcome(response, 429, "throttled")
    assert response["Retry-After"] == "60"


def test_the_rate_limit_counts_in_the_shared_database_cache():
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    from records.models import RateLimitCounter

    assert isinstance(caches["ratelimit"], DatabaseCache)
    caches["ratelimit"].set("probe", 1)
    assert RateLimitCounter.objects.filter(cache_key__endswith="probe").exists()


PARAMETER_NAMES = ["patient", "subject", "date", "code", "category", "_count", "_page", "name", "identifier", "x"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    resource=st.sampled_from(["Patient", "Observation", "Encounter", "MedicationAdministration"]),
    params=st.lists(st.tuples(st.sampled_from(PARAMETER_NAMES), st.text(max_size=30)), max_size=4),
)
def test_no_query_gets_a_500(client, nurse_token, resource, params):
    from urllib.parse import urlencode

    response = client.get(f"/fhir/{resource}?{urlencode(params)}", **bearer(nurse_token))
    assert response.status_code in (200, 400), response.content
    assert body(response)["resourceType"] in ("Bundle", "OperationOutcome")


def test_a_fault_of_the_server_is_still_an_operation_outcome(client, nurse_token, patient, monkeypatch, caplog):
    from records.views import fhir as views

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "fhir_read", broken)
    response = client.get(f"/fhir/Patient/{patient.pk}", **bearer(nurse_token))
    outcome(response, 500, "exception")
    assert "a bug" not in response.content.decode()
    assert "FHIR API error" in caplog.text
