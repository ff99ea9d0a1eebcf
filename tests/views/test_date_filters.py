"""Impossible dates are refused with a message, never a 500: generated from the forms and the URL list.

An audit report "to 9999-12-31" asked for the day after the last one there is; a year-1
time east of Greenwich has no UTC equivalent. Every date and date-time field of every
form accepts records.forms.dates' range only, and every page that reads the query
string is asked for the extreme dates with every date parameter any form knows.
"""

import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse

import records.forms
from records.forms.dates import EARLIEST, LATEST
from tests.views.test_access_matrix import ACCESS, ADMIN, NURSE, PHYSICIAN, url_kwargs  # noqa: F401  (fixture)

EXTREME_DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"]
NOT_DAYS = ["99999-01-01", "2026-02-30", "-1", "0000-00-00"]


def forms_with_dates() -> list[tuple[type, str, forms.Field]]:
    """(form class, field name, field) for every date or date-time field of every form in records.forms."""
    found = []
    for module_info in pkgutil.iter_modules(records.forms.__path__):
        module = importlib.import_module(f"records.forms.{module_info.name}")
        for _, form_class in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form_class, forms.BaseForm) or form_class.__module__ != module.__name__:
                continue
            for name, field in form_class.base_fields.items():
                if isinstance(field, forms.DateField | forms.DateTimeField):
                    found.append((form_class, name, field))
    return found


DATE_FIELDS = forms_with_dates()
DATE_PARAMS = sorted({name for _, name, _ in DATE_FIELDS})


def test_the_forms_with_dates_are_found():
    names = {(form_class.__name__, name) for form_class, name, _ in DATE_FIELDS}
    assert {("AuditFilterForm", "date_to"), ("HistoryFilterForm", "date_from"), ("OutcomeForm", "reported_on")} <= names
    assert {
        ("PatientForm", "date_of_birth"),
        ("VitalsForm", "measured_at"),
        ("DischargeForm", "discharged_at"),
    } <= names


def typed(field: forms.Field, day: str) -> str:
    return f"{day}T09:30" if isinstance(field, forms.DateTimeField) else day


@pytest.mark.django_db
@pytest.mark.parametrize("day", EXTREME_DAYS + NOT_DAYS)
@pytest.mark.parametrize(
    ("form_class", "name", "field"), DATE_FIELDS, ids=[f"{f.__name__}.{n}" for f, n, _ in DATE_FIELDS]
)
def test_every_date_field_refuses_an_impossible_date_with_a_message_naming_it(form_class, name, field, day):
    form = form_class(data={name: typed(field, day)})

    assert not form.is_valid()
    messages = form.errors[name]
    label = str(field.label or name.replace("_", " "))
    assert any(label.lower() in message.lower() for message in messages), messages
    if day in EXTREME_DAYS and name != "date_of_birth":
        assert f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}" in messages[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form_class", "name", "field"), DATE_FIELDS, ids=[f"{f.__name__}.{n}" for f, n, _ in DATE_FIELDS]
)
def test_every_date_field_accepts_today(form_class, name, field):
    form = form_class(data={name: typed(field, "2026-11-25")})
    form.is_valid()
    assert name not in form.errors


def allowed_role(name: str) -> str | None:
    """A signed-in role that may GET the page (None: no role gets further than a redirect or a refusal)."""
    for role in (NURSE, PHYSICIAN, ADMIN):
        if ACCESS[name][role] in (200, 302):
            return role
    return None


GET_PAGES = sorted(name for name in ACCESS if allowed_role(name))


class QueryStringReads:
    """Whether anything (a middleware, the view, a form, a template) read a request's query string.

    Installed in place of WSGIRequest.GET, which Django builds on first reading (a cached property);
    this builds it the same way and notes that it was read.
    """

    def __init__(self):
        self.built = WSGIRequest.__dict__["GET"]
        self.read = False

    def __get__(self, request, owner=None):
        if request is None:
            return self
        self.read = True
        value = self.built.func(request)
        request.__dict__["GET"] = value
        return value


@pytest.fixture
def query_string_reads(monkeypatch) -> QueryStringReads:
    reads = QueryStringReads()
    monkeypatch.setattr(WSGIRequest, "GET", reads)
    return reads


def test_a_page_that_never_reads_its_query_string_is_told_apart(client_for, admin_user, query_string_reads):
    client = client_for(admin_user)
    client.get(reverse("audit_log"), {"date_from": "2026-01-01"})
    assert query_string_reads.read
    query_string_reads.read = False
    client.get(reverse("clinic_settings"), {"date_from": "2026-01-01"})
    assert not query_string_reads.read


@pytest.mark.django_db
@pytest.mark.parametrize("name", GET_PAGES)
def test_every_page_answers_impossible_dates_without_a_500(
    client_for,
    url_world,
    url_kwargs,  # noqa: F811
    world_patient,
    world_nurse,
    query_string_reads,
    name,
):
    patient, nurse = world_patient, world_nurse
    client = client_for(url_world.user(allowed_role(name)))
    url = reverse(name, kwargs=url_kwargs(name))
    # The other filters valid, so the dates are what is judged.
    others = {"patient": patient.mrn, "user": nurse.pk, "actor": nurse.pk}
    for day in EXTREME_DAYS + NOT_DAYS:
        params = {**others, **dict.fromkeys(DATE_PARAMS, day), "q": day, "date": day, "day": day}

        response = client.get(url, params)
        if not query_string_reads.read:
            # Nothing read the query string: no other date can change the answer (a PDF's is 0.5 s).
            assert response.status_code < 500, f"GET {url} with {day}"
            break

        assert response.status_code < 500, f"GET {url} with {day}"
        form = (response.context or {}).get("form") if response.status_code in (200, 400) else None
        if form is not None and form.is_bound and any(n in form.fields for n in DATE_PARAMS):
            assert "enter a date" in response.content.decode(), f"GET {url} with {day}: no message"


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30"])
def test_the_audit_export_refuses_impossible_dates_with_a_message(client_for, admin_user, day):
    client = client_for(admin_user)
    response = client.get(reverse("audit_export"), {"date_from": "2026-01-01", "date_to": day}, follow=True)
    assert response.status_code == 200
    assert "Not exported: correct the filters first." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["9999-12-31", "0001-01-01", "0000-01-01", "2026-02-30"])
def test_patient_search_by_an_impossible_date_of_birth_finds_nobody(client_for, nurse, patient, query):
    response = client_for(nurse).get(reverse("patient_list"), {"q": query})
    assert response.status_code == 200
    assert patient.mrn not in response.content.decode()
