"""Search parameters of the read API: parsed strictly, so that a malformed query gets a 400 that says why.

Supported (and declared in the CapabilityStatement):

- Patient: `_id`, `identifier` (token: `value` or `system|value`), `name` (string:
  starts with, either name, case-insensitive; `name:exact`), `birthdate` (date)
- Encounter: `patient` (required), `date` (the session's scheduled time)
- Observation: `patient` (required), `category`, `code` (token, comma = or), `date`
- MedicationAdministration: `patient` (required)
- every search: `_count` (page size, at most FHIR_MAX_PAGE_SIZE), `_page` (the page,
  from the Bundle's links), `_format` (json only)

Dates take the prefixes eq (default), gt, ge, lt, le and a year, month, day or
date-time with a zone; a partial date means its whole period, in the clinic's zone.
Any other parameter, modifier or prefix is refused with 400 rather than ignored:
a client never receives a wider result than it asked for.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone

from records.fhir import codes

COMMON = {"_count", "_page", "_format"}
JSON_FORMATS = {"json", "application/json", "application/fhir+json"}
DATE_PREFIXES = ("eq", "gt", "ge", "lt", "le")
UNSUPPORTED_PREFIXES = ("ne", "sa", "eb", "ap")
DATE_VALUE = re.compile(
    r"^(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,6}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2}))?)?)?$"
)
PATIENT_REFERENCE = re.compile(r"^(?:Patient/)?([1-9][0-9]{0,17})$")
ID_VALUE = re.compile(r"^[1-9][0-9]{0,17}$")
WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")


class SearchError(ValueError):
    """A malformed or unsupported search: the message says what and how to write it."""


@dataclass(frozen=True)
class DateRange:
    """One date condition: the resource's time `prefix` the period [start, end)."""

    prefix: str
    start: datetime
    end: datetime

    def matches(self, moment: datetime) -> bool:
        if self.prefix == "eq":
            return self.start <= moment < self.end
        if self.prefix == "gt":
            return moment >= self.end
        if self.prefix == "ge":
            return moment >= self.start
        if self.prefix == "lt":
            return moment < self.start
        return moment < self.end  # le

    def lookups(self, field_name: str) -> dict[str, datetime]:
        """The same condition as ORM lookups on a datetime column."""
        if self.prefix == "eq":
            return {f"{field_name}__gte": self.start, f"{field_name}__lt": self.end}
        if self.prefix == "gt":
            return {f"{field_name}__gte": self.end}
        if self.prefix == "ge":
            return {f"{field_name}__gte": self.start}
        if self.prefix == "lt":
            return {f"{field_name}__lt": self.start}
        return {f"{field_name}__lt": self.end}

    def day_lookups(self, field_name: str) -> dict[str, date]:
        """The condition on a date column (a birth date), by whole days in the clinic's zone."""
        start = timezone.localtime(self.start).date()
        end_local = timezone.localtime(self.end)
        end = end_local.date() + (timedelta(days=1) if end_local.time() != time.min else timedelta(0))
        return {
            "eq": {f"{field_name}__gte": start, f"{field_name}__lt": end},
            "gt": {f"{field_name}__gte": end},
            "ge": {f"{field_name}__gte": start},
            "lt": {f"{field_name}__lt": start},
            "le": {f"{field_name}__lt": end},
        }[self.prefix]


@dataclass
class Search:
    """A parsed search: its conditions, and the page asked for."""

    params: dict[str, Any] = field(default_factory=dict)
    count: int = 0
    page: int = 1
    # The query as received, without paging, to build the Bundle's links.
    base_query: list[tuple[str, str]] = field(default_factory=list)


def parse_date(raw: str, name: str) -> DateRange:
    prefix = raw[:2] if raw[:2].isalpha() else "eq"
    value = raw[2:] if raw[:2].isalpha() else raw
    if prefix in UNSUPPORTED_PREFIXES:
        raise SearchError(f"{name}: the prefix {prefix} is not supported; use eq, gt, ge, lt or le.")
    if prefix not in DATE_PREFIXES:
        raise SearchError(f"{name}: {raw!r} is not a date; write e.g. 2026-03-01 or ge2026-03-01.")
    match = DATE_VALUE.match(value)
    if match is None or (match.group("hour") and not match.group("zone")):
        raise SearchError(
            f"{name}: {raw!r} is not a date; write YYYY, YYYY-MM, YYYY-MM-DD or a date-time with its zone, "
            "e.g. 2026-03-01T09:30:00Z, optionally after a prefix (ge, le, gt, lt, eq)."
        )
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        year = int(parts["year"])
        if "hour" in parts:
            text = value.replace("Z", "+00:00")
            start = datetime.fromisoformat(text)
            precision = timedelta(seconds=1) if "second" in parts else timedelta(minutes=1)
            if "fraction" in parts:
                precision = timedelta(microseconds=1)
            return DateRange(prefix, start, start + precision)
        zone = timezone.get_current_timezone()
        if "day" in parts:
            first = date(year, int(parts["month"]), int(parts["day"]))
            following = first + timedelta(days=1)
        elif "month" in parts:
            first = date(year, int(parts["month"]), 1)
            following = date(year + (first.month == 12), first.month % 12 + 1, 1)
        else:
            first, following = date(year, 1, 1), date(year + 1, 1, 1)
        return DateRange(
            prefix, datetime.combine(first, time.min, tzinfo=zone), datetime.combine(following, time.min, tzinfo=zone)
        )
    except (ValueError, OverflowError):
        raise SearchError(f"{name}: {raw!r} is not a real date.") from None


def parse_patient(raw: str, name: str) -> int:
    match = PATIENT_REFERENCE.match(raw)
    if match is None:
        raise SearchError(f"{name}: {raw!r} is not a patient; write the patient's id, e.g. {name}=123 or Patient/123.")
    return int(match.group(1))


def parse_token(raw: str, name: str) -> tuple[str | None, str]:
    """(system or None, code) of `code`, `system|code` or `|code`."""
    if not raw or raw.count("|") > 1:
        raise SearchError(f"{name}: {raw!r} is not a token; write a code, or system|code.")
    if "|" in raw:
        system, code = raw.split("|")
        if not code:
            raise SearchError(f"{name}: {raw!r} has no code after the |.")
        return system, code
    return None, raw


def _single(query: QueryDict, name: str) -> str:
    values = query.getlist(name)
    if len(values) > 1:
        raise SearchError(f"{name} may be given once.")
    return values[0]


# Each resource type's parameters: name -> kind.
PARAMETERS: dict[str, dict[str, str]] = {
    "Patient": {"_id": "id", "identifier": "token", "name": "string", "name:exact": "string", "birthdate": "date"},
    "Encounter": {"patient": "patient", "subject": "patient", "date": "date"},
    "Observation": {"patient": "patient", "subject": "patient", "category": "tokens", "code": "tokens", "date": "date"},
    "MedicationAdministration": {"patient": "patient", "subject": "patient"},
}
PATIENT_REQUIRED = {"Encounter", "Observation", "MedicationAdministration"}


def parse_search(resource_type: str, query: QueryDict) -> Search:
    """The search of `resource_type` that `query` asks for, or SearchError."""
    allowed = PARAMETERS[resource_type]
    search = Search(count=settings.FHIR_PAGE_SIZE)
    for name, values in query.lists():
        if any("\x00" in value for value in (name, *values)):
            raise SearchError("A search parameter may not contain a NUL character.")
    for name in query:
        if name in COMMON:
            continue
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise SearchError(f"{resource_type} cannot be searched by {name!r}; the parameters are: {known}.")
    if "_format" in query and _single(query, "_format") not in JSON_FORMATS:
        raise SearchError("_format: only JSON is served (application/fhir+json).")
    if "_count" in query:
        raw = _single(query, "_count")
        if not WHOLE_NUMBER.match(raw) or not 1 <= int(raw) <= settings.FHIR_MAX_PAGE_SIZE:
            raise SearchError(f"_count must be a whole number from 1 to {settings.FHIR_MAX_PAGE_SIZE}.")
        search.count = int(raw)
    if "_page" in query:
        raw = _single(query, "_page")
        if not WHOLE_NUMBER.match(raw) or not 1 <= int(raw) <= 10_000_000:
            raise SearchError("_page must be a whole number from 1.")
        search.page = int(raw)
    for name in query:
        if name in COMMON:
            continue
        kind = allowed[name]
        key = name.split(":")[0]
        if kind == "date":
            search.params[key] = [parse_date(raw, name) for raw in query.getlist(name)]
            continue
        raw = _single(query, name)
        if kind == "patient":
            if "patient" in search.params:
                raise SearchError("Give the patient once (patient or subject).")
            search.params["patient"] = parse_patient(raw, name)
        elif kind == "id":
            if not ID_VALUE.match(raw):
                raise SearchError(f"_id: {raw!r} is not a Patient id (digits).")
            search.params["_id"] = int(raw)
        elif kind == "token":
            search.params[key] = parse_token(raw, name)
        elif kind == "tokens":
            search.params[key] = [parse_token(part, name) for part in raw.split(",")]
        elif kind == "string":
            if not raw.strip():
                raise SearchError(f"{name}: give some text to search for.")
            if "name" in search.params:
                raise SearchError("Give name or name:exact, not both.")
            search.params["name"] = (raw.strip(), name.endswith(":exact"))
    if resource_type in PATIENT_REQUIRED and "patient" not in search.params:
        raise SearchError(
            f"Search {resource_type} by patient (patient=<id>): every search of clinical records names the patient "
            "whose records are read, so that the audit log can say whose they were."
        )
    search.base_query = [(k, v) for k, values in query.lists() if k != "_page" for v in values]
    return search


def mrn_matches(system: str | None) -> bool:
    """Whether an identifier search's system is the clinic's MRN system (no system: any)."""
    return system is None or system in ("", codes.mrn_system())
