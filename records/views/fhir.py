"""The FHIR R4 read API under /fhir/, the physician's Bundle download and the admin's bulk export page.

The API authenticates with personal tokens only (`Authorization: Bearer ...`), in
one place: the `fhir_api` decorator. It ignores the browser's session cookie on
purpose: a page's session is for a person at a screen, with its idle time-out and
second factor; a token is for a system, issued and revoked by an admin. A logged-in
browser tab therefore cannot be made to read the API (no cross-site request can
carry a token), which is also why the API needs no CSRF protection: it is read-only
(GET only, everything else 405) and no credential of a browser counts here.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import is_ratelimited

from records.actions.accounts import audit_access_denied
from records.actions.context import ActionRefused, Actor, actor_from_request, client_ip
from records.actions.fhir import (
    fhir_bundle_disclosure,
    fhir_export_download_record,
    fhir_read_record,
    fhir_search_record,
    token_hash,
)
from records.actions.tasks import fhir_export_enqueue
from records.fhir import bundle
from records.fhir.capability import capability_statement
from records.fhir.common import to_json
from records.fhir.export import EXPORT_ID
from records.fhir.search import SearchError, parse_search
from records.fhir.selectors import (
    RESOURCE_SOURCES,
    SEARCHABLE,
    NotFound,
    fhir_patient_for_download,
    fhir_read,
    fhir_search,
    patient_for_audit,
)
from records.forms.fhir import FhirExportForm
from records.models import ApiToken, Patient
from records.permissions import role_of
from records.views.common import permission_required
from records.views.reauth import reauth_required

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json; charset=utf-8"
RESOURCE_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class ApiError(Exception):
    """An error the API answers with an OperationOutcome and this HTTP status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def fhir_response(resource: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(to_json(resource), content_type=FHIR_JSON, status=status)
    response["Cache-Control"] = "no-store"
    return response


def operation_outcome(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HttpResponse:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = fhir_response(outcome, status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _address_key(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _token_key(group: str, request: HttpRequest) -> str:
    return str(request.fhir_token.pk)  # type: ignore[attr-defined]


def _throttled() -> ApiError:
    return ApiError(429, "throttled", "Too many requests; wait a minute and try again.", {"Retry-After": "60"})


UNAUTHORIZED = {"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_token"'}


def _authenticate(request: HttpRequest) -> ApiToken:
    """The request's token, or a 401: unknown, revoked, or its account deactivated (one message for all)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(401, "login", "Send a personal API token: Authorization: Bearer <token>.", UNAUTHORIZED)
    token = ApiToken.objects.select_related("account").filter(token_hash=token_hash(value.strip())).first()
    if token is None or token.revoked_at is not None or not token.account.is_active:
        if token is not None:
            why = "revoked token" if token.revoked_at is not None else "token of a deactivated account"
            audit_access_denied(
                actor=Actor(
                    user=token.account,
                    role="",
                    ip_address=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
                    username=token.account.get_username(),
                ),
                path=request.path,
                method=request.method or "GET",
                reason=f"FHIR API: {why} ({token.prefix}…)",
            )
        raise ApiError(
            401, "login", "The token is not valid: unknown, revoked, or its account is deactivated.", UNAUTHORIZED
        )
    return token


def _api_actor(request: HttpRequest, token: ApiToken) -> Actor:
    return Actor.for_user(
        token.account, ip_address=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
    )


def fhir_api(*, authenticated: bool = True) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The API's one gate: GET only, rate limits, the token, and errors as OperationOutcome (never an HTML page).

    The wrapped view receives the token's account as `request.fhir_account` (never
    `request.user`, which would be a browser session's) and its Actor as `request.fhir_actor`.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_not_required
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method != "GET":
                    raise ApiError(
                        405,
                        "not-supported",
                        f"{request.method} is not supported: this API only reads (GET).",
                        {"Allow": "GET"},
                    )
                rate = settings.FHIR_API_RATE_LIMIT_PER_ADDRESS
                if is_ratelimited(request, group="fhir-address", key=_address_key, rate=rate, increment=True):
                    raise _throttled()
                if authenticated:
                    token = _authenticate(request)
                    request.fhir_token = token  # type: ignore[attr-defined]
                    rate = settings.FHIR_API_RATE_LIMIT
                    if is_ratelimited(request, group="fhir-token", key=_token_key, rate=rate, increment=True):
                        raise _throttled()
                    request.fhir_account = token.account  # type: ignore[attr-defined]
                    request.fhir_actor = _api_actor(request, token)  # type: ignore[attr-defined]
                    if role_of(token.account) is None:
                        raise PermissionDenied("This token's account has no role.")
                return view(request, *args, **kwargs)
            except ApiError as error:
                return operation_outcome(error.status, error.code, error.message, error.headers)
            except PermissionDenied as denied:
                reason = str(denied) or "Your role does not give access to these records."
                actor = getattr(request, "fhir_actor", None) or Actor.anonymous(request)
                audit_access_denied(actor=actor, path=request.path, method=request.method or "GET", reason=reason)
                return operation_outcome(403, "forbidden", reason)
            except NotFound:
                return operation_outcome(404, "not-found", "No resource of that type has that id.")
            except Exception:
                # A fault of the server, not of the request: logged with its traceback, and still
                # answered in the API's own form.
                logger.exception("FHIR API error on %s", request.path)
                return operation_outcome(500, "exception", "The server could not answer this request.")

        return wrapped

    return decorator


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir_metadata")).removesuffix("metadata")


def _known_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_SOURCES:
        raise ApiError(
            404,
            "not-supported",
            f"{resource_type!r} is not a resource type this server has; see /fhir/metadata for the list.",
        )


@fhir_api(authenticated=False)
def fhir_metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: open to anyone, as FHIR clients read it before they authenticate; it holds no data."""
    return fhir_response(capability_statement(_base_url(request)))


@fhir_api()
def fhir_search_view(request: HttpRequest, resource_type: str) -> HttpResponse:
    """Search one resource type (type-level search): a page of a searchset Bundle, audited as a search."""
    _known_type(resource_type)
    if resource_type not in SEARCHABLE:
        searchable = ", ".join(SEARCHABLE)
        raise ApiError(400, "not-supported", f"{resource_type} is read by id only; searches: {searchable}.")
    account, actor, token = request.fhir_account, request.fhir_actor, request.fhir_token  # type: ignore[attr-defined]
    try:
        search = parse_search(resource_type, request.GET)
    except SearchError as error:
        raise ApiError(400, "invalid", str(error)) from None
    page = fhir_search(user=account, resource_type=resource_type, search=search)
    fhir_search_record(
        actor=actor,
        token=token,
        resource_type=resource_type,
        query=request.GET.urlencode(),
        total=page.total,
        patient=patient_for_audit(page.patient_id),
    )
    return fhir_response(
        bundle.searchset(
            resources=page.resources,
            total=page.total,
            page=search.page,
            count=search.count,
            base_url=_base_url(request),
            resource_type=resource_type,
            query=search.base_query,
        )
    )


@fhir_api()
def fhir_read_view(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    """Read one resource by id, audited as a view of the record it comes from."""
    _known_type(resource_type)
    if not RESOURCE_ID.match(resource_id):
        raise NotFound
    account, actor, token = request.fhir_account, request.fhir_actor, request.fhir_token  # type: ignore[attr-defined]
    result = fhir_read(user=account, resource_type=resource_type, resource_id=resource_id)
    if resource_type != "CodeSystem":  # a definition, nobody's data
        fhir_read_record(
            actor=actor,
            token=token,
            resource=f"{resource_type}/{resource_id}",
            patient=patient_for_audit(result.patient_id),
            record=result.record,
        )
    return fhir_response(result.resource)


@fhir_api(authenticated=False)
def fhir_unknown(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /fhir/: an OperationOutcome, not an HTML page."""
    raise ApiError(404, "not-supported", "This server supports metadata, read (Type/id) and search (Type?params).")


# The physician's download of one patient's record ---------------------------------


@require_GET
@permission_required("download_fhir_record", "Only a physician may download a patient's record as FHIR.")
def patient_fhir_bundle(request: HttpRequest, pk: int) -> HttpResponse:
    """One patient's whole record as a FHIR Bundle (collection); the download is recorded as a disclosure."""
    patient = fhir_patient_for_download(user=request.user, pk=pk)
    record = bundle.patient_collection(patient_id=patient.pk, base_url=_base_url(request))
    body = to_json(record, indent=1)
    filename = f"patient-record-{patient.mrn}-{timezone.localtime():%Y%m%d-%H%M}.fhir.json"
    # Recorded once the document exists and before it is handed over.
    fhir_bundle_disclosure(
        actor=actor_from_request(request),
        patient=patient,
        filename=filename,
        resources=bundle.count_entries(record),
    )
    response = HttpResponse(body, content_type=FHIR_JSON)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# The admin's bulk export ------------------------------------------------------------


def _exports() -> list[dict[str, Any]]:
    """Finished exports on the server, newest first: name, manifest counts, whether the zip is ready."""
    root = Path(settings.FHIR_EXPORT_DIR)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.iterdir(), reverse=True):
        manifest = path / "manifest.json"
        if path.is_dir() and EXPORT_ID.match(path.name) and manifest.exists():
            data = json.loads(manifest.read_text(encoding="utf-8"))
            found.append(
                {
                    "name": path.name,
                    "time": data.get("transactionTime", ""),
                    "request": data.get("request", ""),
                    "output": data.get("output", []),
                    "zip": path.with_suffix(".zip").exists(),
                }
            )
    return found


def _new_export_name() -> str:
    return f"{timezone.localtime():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("export_fhir", "Only an admin may export the clinic's records.")
@reauth_required("exporting the clinic's records")
def fhir_export_page(request: HttpRequest) -> HttpResponse:
    """Start a FHIR bulk export (whole clinic or one patient) and download the finished ones.

    The export runs as a background task (records.tasks.fhir_export_task) in the
    worker, writing under FHIR_EXPORT_DIR; the page it leads to shows its progress.
    """
    form = FhirExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            task = fhir_export_enqueue(
                actor=actor_from_request(request),
                name=_new_export_name(),
                patient_mrn=form.cleaned_data["patient_mrn"],
                since=form.cleaned_data["since"],
                audit=form.cleaned_data["audit"],
                request_url=request.build_absolute_uri(),
            )
        except ActionRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.info(request, "Export started in the background.")
            return redirect("background_task", task_id=task.id)
    return render(request, "records/fhir/export.html", {"form": form, "exports": _exports()})


@never_cache
@require_GET
@permission_required("export_fhir", "Only an admin may export the clinic's records.")
@reauth_required("downloading an export of the clinic's records")
def fhir_export_download(request: HttpRequest, name: str) -> FileResponse:
    """The zip of one finished export (NDJSON files and manifest); the download is recorded as a disclosure."""
    if not EXPORT_ID.match(name):
        raise Http404("No such export.")
    archive = (Path(settings.FHIR_EXPORT_DIR) / name).with_suffix(".zip")
    if not archive.is_file():
        raise Http404("No such export.")
    patient = _export_patient(Path(settings.FHIR_EXPORT_DIR) / name)
    fhir_export_download_record(actor=actor_from_request(request), export_name=name, patient=patient)
    response = FileResponse(archive.open("rb"), as_attachment=True, filename=f"fhir-export-{name}.zip")
    response["Cache-Control"] = "no-store"
    return response


def _export_patient(output_dir: Path) -> Patient | None:
    try:
        mrn = json.loads((output_dir / "manifest.json").read_text(encoding="utf-8"))["extension"]["patient"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Patient.objects.filter(mrn=mrn).first() if mrn else None
