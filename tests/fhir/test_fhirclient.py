"""A real FHIR client (SMART on FHIR's `fhirclient`) reads the API through a live test server."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from records.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

# Columns of the session page's flowsheet, and the Observation each comes from (key, component).
PAGE_COLUMNS = (
    "time",
    "phase",
    "bp",
    "heart-rate",
    "spo2",
    "resp-rate",
    "temperature",
    "pain",
    "rass",
    "moaas",
    "dissociation",
    "cadss6",
    "weight",
)


class FlowsheetParser(HTMLParser):
    """The session page's vitals table: {reading id: [the text of each cell]}."""

    def __init__(self):
        super().__init__()
        self.rows: dict[int, list[str]] = {}
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and (attrs.get("id") or "").startswith("reading-"):
            self.row = self.rows.setdefault(int(attrs["id"].removeprefix("reading-")), [])
        elif tag == "td" and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def page_values(html: str) -> dict[tuple[int, str], str]:
    """{(reading id, kind): value as the page shows it} for every value shown (a flag's word left out)."""
    parser = FlowsheetParser()
    parser.feed(html)
    values = {}
    for reading, cells in parser.rows.items():
        for column, text in zip(PAGE_COLUMNS, cells, strict=False):
            if column in ("time", "phase") or not text:
                continue
            values[(reading, column)] = text.split()[0]
    return values


def shown(observation) -> str:
    """An Observation's value written as the session page writes it."""
    if observation.component:
        systolic, diastolic = (c.valueQuantity.value for c in observation.component)
        return f"{systolic}/{diastolic}"
    if observation.valueInteger is not None:
        return str(observation.valueInteger)
    value = observation.valueQuantity.value
    return str(Decimal(str(value)).quantize(Decimal("0.1")) if isinstance(value, float) else value)


def test_fhirclient_reads_the_capability_statement_finds_the_patient_and_pages_through_the_vitals(
    live_server, client, nurse, patient, charted_session, issue_token
):
    from fhirclient import client as smart_client
    from fhirclient.models.observation import Observation
    from fhirclient.models.patient import Patient

    token = issue_token(nurse, "fhirclient test")
    smart = smart_client.FHIRClient(settings={"app_id": "clinic-tests", "api_base": f"{live_server.url}/fhir/"})
    smart.server.session.headers["Authorization"] = f"Bearer {token}"

    statement = smart.server.capabilityStatement
    assert statement.fhirVersion == "4.0.1"
    assert {r.type for r in statement.rest[0].resource} >= {"Patient", "Observation", "Encounter"}

    found = list(Patient.where({"identifier": patient.mrn}).perform_resources_iter(smart.server))
    assert [(p.id, p.name[0].family, p.identifier[0].value) for p in found] == [
        (str(patient.pk), patient.family_name, patient.mrn)
    ]

    search = Observation.where({"patient": found[0].id, "category": "vital-signs", "_count": "4"})
    bundles = list(search.perform_iter(smart.server))
    observations = [entry.resource for bundle in bundles for entry in bundle.entry or []]
    assert len(bundles) > 2  # it really paged
    assert len(observations) == bundles[0].total
    assert all(o.subject.reference == f"Patient/{patient.pk}" for o in observations)

    from_api = {}
    for obs in observations:
        _, reading, key = obs.id.split("-", 2)
        from_api[(int(reading), key)] = shown(obs)
    client.force_login(nurse)
    html = client.get(reverse("session_detail", args=[charted_session.pk])).content.decode()
    on_page = page_values(html)
    assert on_page  # the page shows the flowsheet
    # The vital signs the page shows are exactly those the client got (sedation and dissociation are surveys).
    vital_signs = {k: v for k, v in on_page.items() if k[1] not in ("rass", "moaas", "dissociation", "cadss6")}
    assert vital_signs == from_api
    assert ("temperature" in {k for _, k in from_api}) and ("weight" in {k for _, k in from_api})
    # Every read and search the client made is in the audit log, under the nurse's name.
    searches = AuditEvent.objects.filter(action="search", actor=nurse, reason__contains="FHIR API")
    assert searches.filter(record_type="fhir:Observation", patient=patient).count() == len(bundles)
    assert searches.filter(record_type="fhir:Patient").count() == 1
