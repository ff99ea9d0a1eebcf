"""The auditor's pages: the audit report, its CSV, per-patient, disclosures, per-user, verification."""

import csv
import json
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from records.actions.audit import audit_chain_verify, audit_report_record
from records.actions.context import actor_from_request
from records.actions.tasks import audit_chain_verify_enqueue
from records.forms.audit import AuditFilterForm, DisclosuresForm, PatientAccessForm, UserActivityForm
from records.models import AuditEvent
from records.permissions import role_of
from records.replica import reads_from_replica, replica_alias
from records.seals import CONTENT_KEY, PARTS
from records.selectors import (
    AUDIT_DEFAULT_SORT,
    DISCLOSURES,
    audit_access_by_person,
    audit_account_changes,
    audit_events,
    audit_last_verification,
    audit_report_rows,
)
from records.streaming import stream_rows
from records.views.common import CappedPaginator, permission_required
from records.views.reauth import reauth_required

ONLY_ADMINS = "Only admins may read the audit log."

# (sort key, heading) of the report's columns, in display order.
COLUMNS = [
    ("seq", "#"),
    ("when", "When"),
    ("user", "User"),
    ("role", "Role"),
    ("action", "Action"),
    ("patient", "Patient"),
    ("record", "Record"),
    ("details", "Changes and notes"),
    ("from", "From"),
]
# Time-like columns open newest first; the others A to Z.
DESCENDING_FIRST = {"seq", "when"}

CSV_HEADER = [
    "Position",
    f"When ({settings.TIME_ZONE})",
    "User",
    "Role",
    "Action",
    "Patient MRN",
    "Record type",
    "Record id",
    "Changes (JSON: field: [before, after])",
    "Reason or note",
    "IP address",
    "User agent",
    "Event hash",
]


def _render(request, template: str, context: dict):
    return render(request, template, {"TIME_ZONE": settings.TIME_ZONE, **context})


def _querystring(request, **changes) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


def _sort_headers(request, current: str) -> list[dict]:
    headers = []
    for key, label in COLUMNS:
        if current == key:
            state, following = "ascending", f"-{key}"
        elif current == f"-{key}":
            state, following = "descending", key
        else:
            state, following = None, f"-{key}" if key in DESCENDING_FIRST else key
        headers.append(
            {"label": label, "url": "?" + _querystring(request, sort=following), "aria_sort": state, "key": key}
        )
    return headers


def _plain_headers() -> list[dict]:
    return [{"label": label, "key": key} for key, label in COLUMNS]


def sealed_summary(values) -> str:
    """A signature's sealed content in a line (the whole of it is in the CSV export)."""
    content = values[-1] if isinstance(values, list | tuple) and values else values
    if not isinstance(content, dict):
        return str(content)
    counts = [f"{len(content.get(key) or [])} {key.replace('_', ' ')}" for key in PARTS]
    return f"The session's rows as signed ({', '.join(counts)}), hashed into the seal"


def _with_change_rows(events) -> list:
    """Each event with its changes as (field, before, after) rows, for the expandable details."""
    events = list(events)
    for event in events:
        rows = []
        if isinstance(event.changes, dict):
            for field, values in event.changes.items():
                if field == CONTENT_KEY:
                    rows.append((field, None, sealed_summary(values)))
                elif isinstance(values, list | tuple) and len(values) == 2:
                    rows.append((field, values[0], values[1]))
                else:
                    rows.append((field, None, values))
        event.change_rows = rows
    return events


def _page(request, events):
    paginator = CappedPaginator(events, settings.AUDIT_EVENTS_PER_PAGE, cap=settings.AUDIT_REPORT_COUNT_CAP)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _with_change_rows(page.object_list)
    return page


@require_GET
@permission_required("view_audit_log", ONLY_ADMINS)
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        page = _page(request, audit_events(user=request.user).none())
        sort = AUDIT_DEFAULT_SORT
    else:
        filters = form.filters() if form.is_bound else {}
        sort = filters.get("sort", AUDIT_DEFAULT_SORT)
        viewing = audit_report_record(
            actor=actor_from_request(request), report="audit_log", description=form.description()
        )
        # The report holds the events before its own: a read that may lag, so the replica's.
        with reads_from_replica(request):
            events = audit_events(user=request.user, before_seq=viewing.seq, **filters)
            page = _page(request, audit_report_rows(events, sort))
    return _render(
        request,
        "records/audit/log.html",
        {
            "form": form,
            "page": page,
            "headers": _sort_headers(request, sort),
            "querystring": _querystring(request),
            "export_url": reverse("audit_export") + "?" + _querystring(request),
            "verification": audit_last_verification(user=request.user),
        },
    )


class _Echo:
    """csv.writer writes into this and gets the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


def _cell(value) -> str:
    # A spreadsheet runs a cell that starts with one of these as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(events) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_HEADER)
    zone = timezone.get_current_timezone()
    columns = (
        "seq",
        "occurred_at",
        "actor_username",
        "actor_role",
        "action",
        "patient__mrn",
        "record_type",
        "record_id",
        "changes",
        "reason",
        "ip_address",
        "user_agent",
        "entry_hash",
    )
    for row in stream_rows(events.values_list(*columns)):
        seq, occurred_at, *middle, changes, reason, ip, agent, entry_hash = row
        yield writer.writerow(
            [
                seq,
                occurred_at.astimezone(zone).isoformat(),
                *(_cell(v) for v in middle),
                json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else "",
                _cell(reason),
                ip or "",
                _cell(agent),
                entry_hash,
            ]
        )


@require_GET
@permission_required("view_audit_log", ONLY_ADMINS)
@reauth_required("exporting audit data")
def audit_export(request):
    """The report's rows under the same filters and sort, as CSV, streamed row by row."""
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        messages.error(request, "Not exported: correct the filters first.")
        return redirect(reverse("audit_log") + "?" + _querystring(request))
    filters = form.filters() if form.is_bound else {}
    patient = form.cleaned_data.get("patient") if form.is_bound else None
    export = audit_report_record(
        actor=actor_from_request(request),
        report="audit_log.csv",
        description=f"CSV export of the audit report; {form.description()}",
        export=True,
        patient=patient,
    )
    # The export holds the events written before its own audit event: a fixed moment.
    events = audit_events(user=request.user, before_seq=export.seq, **filters).using(replica_alias(request))
    stamp = timezone.localtime(export.occurred_at).strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission_required("verify_audit_chain", "Only an admin may verify the audit log.")
def audit_verify(request):
    actor = actor_from_request(request)
    size = AuditEvent.objects.aggregate(last=Max("seq"))["last"] or 0
    if size > settings.AUDIT_VERIFY_IN_REQUEST_MAX:
        task = audit_chain_verify_enqueue(actor=actor, events=size)
        messages.info(
            request,
            f"Verification of {size:,} events started in the background. It takes about a minute per "
            "million events: this page shows how far it has come, and its result.",
        )
        return redirect("background_task", task_id=task.id)
    run = audit_chain_verify(actor=actor)
    if run.result == "intact":
        sealed = run.report.seals.sessions_checked if run.report.seals is not None else 0
        messages.success(
            request,
            f"Audit chain intact: {run.events_checked:,} events checked; "
            f"the content of {sealed:,} signed session{'s' if sealed != 1 else ''} matches its seals.",
        )
    else:
        messages.error(request, f"Tampering detected. {run.problem}")
    return redirect("audit_log")


def _period_description(data) -> str:
    parts = [f"{label}: {data[name]}" for name, label in (("date_from", "from"), ("date_to", "to")) if data.get(name)]
    return "; ".join(parts)


@require_GET
@permission_required("view_audit_log", ONLY_ADMINS)
def audit_patient_access(request):
    """Who has seen or changed one patient's records, printed or exported them, and when."""
    form = PatientAccessForm(request.GET or None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        patient = data["patient"]
        period = {"date_from": data["date_from"], "date_to": data["date_to"]}
        viewing = audit_report_record(
            actor=actor_from_request(request),
            report="patient_access",
            description="; ".join(filter(None, [f"patient: {patient.mrn}", _period_description(data)])),
        )
        with reads_from_replica(request):
            events = audit_events(user=request.user, patient_id=patient.pk, before_seq=viewing.seq, **period)
            context |= {
                "patient": patient,
                "people": list(
                    audit_access_by_person(user=request.user, patient_id=patient.pk, before_seq=viewing.seq, **period)
                ),
                "page": _page(request, events),
                "headers": _plain_headers(),
                "querystring": _querystring(request),
                "export_url": reverse("audit_export") + "?" + _querystring(request),
            }
    return _render(request, "records/audit/patient_access.html", context)


@require_GET
@permission_required("view_audit_log", ONLY_ADMINS)
def audit_disclosures(request):
    """Accounting of disclosures: every print, export or disclosure, optionally of one patient."""
    form = DisclosuresForm(request.GET or None)
    context = {"form": form}
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {"patient": None, "date_from": None, "date_to": None}
        patient = data["patient"]
        viewing = audit_report_record(
            actor=actor_from_request(request),
            report="disclosures",
            description="; ".join(
                filter(None, [f"patient: {patient.mrn}" if patient else "", _period_description(data)])
            )
            or "no filter",
        )
        events = audit_events(
            user=request.user,
            action=DISCLOSURES,
            patient_id=patient.pk if patient else None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            before_seq=viewing.seq,
        )
        with reads_from_replica(request):
            context |= {
                "page": _page(request, events),
                "querystring": _querystring(request),
                "export_url": reverse("audit_export") + "?" + _querystring(request, action=DISCLOSURES),
            }
    return _render(request, "records/audit/disclosures.html", context)


@require_GET
@permission_required("view_audit_log", ONLY_ADMINS)
def audit_user_activity(request):
    """What one account did over a period, and every change made to the account, with who made it."""
    form = UserActivityForm(request.GET or None)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        account = data["user"]
        period = {"date_from": data["date_from"], "date_to": data["date_to"]}
        viewing = audit_report_record(
            actor=actor_from_request(request),
            report="user_activity",
            description="; ".join(filter(None, [f"account: {account.username}", _period_description(data)])),
        )
        events = audit_events(user=request.user, actor_id=account.pk, before_seq=viewing.seq, **period)
        params = request.GET.copy()
        params.pop("user", None)
        params["actor"] = account.pk
        with reads_from_replica(request):
            context |= {
                "account": account,
                "account_role": role_of(account) if account.is_active else None,
                "account_changes": _with_change_rows(audit_account_changes(user=request.user, account_id=account.pk)),
                "page": _page(request, events),
                "headers": _plain_headers(),
                "querystring": _querystring(request),
                "export_url": reverse("audit_export") + "?" + params.urlencode(),
            }
    return _render(request, "records/audit/user_activity.html", context)
