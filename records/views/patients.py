from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from records.actions.context import actor_from_request
from records.actions.patients import (
    patient_create,
    patient_deactivate,
    patient_reactivate,
    patient_search_record,
    patient_update,
    patient_view,
)
from records.forms.patients import PatientForm, PatientSearchForm, ReasonForm
from records.permissions import can
from records.selectors import patient_get, patients_search, sessions_of_patient
from records.views.common import permission_required, run_action


@require_GET
@permission_required("view_patient")
def patient_list(request):
    form = PatientSearchForm(request.GET or None)
    query, include_inactive = "", False
    if form.is_valid():
        query = form.cleaned_data["q"]
        include_inactive = form.cleaned_data["inactive"]
    patients = patients_search(user=request.user, query=query, include_inactive=include_inactive)
    page = Paginator(patients, settings.PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    patient_search_record(actor=actor_from_request(request), query=query, result_count=page.paginator.count)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "records/patients/list.html",
        {"form": form, "page": page, "query": query, "querystring": params.urlencode()},
    )


@require_http_methods(["GET", "POST"])
@permission_required("add_patient")
def patient_register(request):
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = run_action(
            request, lambda: patient_create(actor=actor_from_request(request), **form.demographics()), form=form
        )
        if result:
            patient = result.value
            messages.success(request, f"Registered {patient.display_name}, MRN {patient.mrn}.")
            return redirect("patient_detail", pk=patient.pk)
    return render(request, "records/patients/form.html", {"form": form, "title": "Register a patient"})


@require_GET
@permission_required("view_patient")
def patient_detail(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    patient_view(actor=actor_from_request(request), patient=patient)
    return render(
        request,
        "records/patients/detail.html",
        {
            "patient": patient,
            "age": patient.age_on(timezone.localdate()),
            "reason_form": ReasonForm(),
            "patient_sessions": sessions_of_patient(user=request.user, patient=patient)
            if can(request.user, "view_session")
            else [],
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("change_patient")
def patient_edit(request, pk: int):
    patient = patient_get(user=request.user, pk=pk)
    if not patient.is_active:
        messages.error(request, "This patient is deactivated; reactivate the record before changing it.")
        return redirect("patient_detail", pk=patient.pk)
    if request.method == "GET":
        patient_view(actor=actor_from_request(request), patient=patient, what="patient edit form")
    form = PatientForm(request.POST or None, instance=patient, initial={"version": patient.version})
    if request.method == "POST" and form.is_valid():
        saved = run_action(
            request,
            lambda: patient_update(
                actor=actor_from_request(request),
                patient=patient,
                expected_version=form.cleaned_data["version"] or 0,
                **form.demographics(),
            ),
            form=form,
            success="Demographics saved.",
        )
        if saved:
            return redirect("patient_detail", pk=patient.pk)
    return render(
        request,
        "records/patients/form.html",
        {"form": form, "patient": patient, "title": f"Edit {patient.display_name}"},
    )


def _set_active(request, pk: int, action, done: str):
    patient = patient_get(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: " + " ".join(map(str, form.errors["reason"])))
        return redirect("patient_detail", pk=patient.pk)
    run_action(
        request,
        lambda: action(actor=actor_from_request(request), patient=patient, reason=form.cleaned_data["reason"]),
        success=done,
    )
    return redirect("patient_detail", pk=patient.pk)


@require_POST
@permission_required("deactivate_patient")
def patient_deactivate_view(request, pk: int):
    return _set_active(request, pk, patient_deactivate, "Patient record deactivated.")


@require_POST
@permission_required("deactivate_patient")
def patient_reactivate_view(request, pk: int):
    return _set_active(request, pk, patient_reactivate, "Patient record reactivated.")
