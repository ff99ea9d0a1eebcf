"""The FHIR read API, included under /fhir/ (names without a namespace, as every other page's)."""

from django.urls import path, re_path

from records.views import fhir

urlpatterns = [
    path("metadata", fhir.fhir_metadata, name="fhir_metadata"),
    path("<str:resource_type>", fhir.fhir_search_view, name="fhir_search"),
    path("<str:resource_type>/<str:resource_id>", fhir.fhir_read_view, name="fhir_read"),
    # Anything else under /fhir/ (including /fhir/ itself) gets an OperationOutcome, not an HTML page.
    re_path(r"^(?P<rest>.*)$", fhir.fhir_unknown, name="fhir_unknown"),
]
