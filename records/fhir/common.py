"""What every resource module shares: references, times, the JSON writer and the people directory."""

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from records.fhir import codes
from records.models import User

Resource = dict[str, Any]


def ref(resource_type: str, resource_id: int | str, display: str | None = None) -> dict[str, str]:
    reference = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        reference["display"] = display
    return reference


def instant(moment: datetime) -> str:
    """A stored time as a FHIR instant/dateTime, in UTC, with its full stored precision."""
    return moment.astimezone(UTC).isoformat()


def day(value: date) -> str:
    return value.isoformat()


def ext_string(url: str, value: str) -> dict[str, str]:
    return {"url": url, "valueString": value}


def ext_code(url: str, system_id: str, code: str) -> dict[str, Any]:
    return {"url": url, "valueCoding": codes.local_coding(system_id, code)}


class People:
    """Account id -> printed name, for the display of references to Practitioners.

    A clinic has tens or hundreds of accounts, not millions: they are read once per
    export or request (one query), whatever the number of records.
    """

    def __init__(self, names: Mapping[int, str] | None = None) -> None:
        self._names: dict[int, str] | None = dict(names) if names is not None else None

    def _load(self) -> dict[int, str]:
        if self._names is None:
            self._names = {
                pk: (f"{first} {last}".strip() or username)
                for pk, first, last, username in User.objects.values_list("pk", "first_name", "last_name", "username")
            }
        return self._names

    def ref(self, user_id: int | None) -> dict[str, str] | None:
        if user_id is None:
            return None
        return ref("Practitioner", user_id, self._load().get(user_id))

    def name(self, user_id: int | None) -> str:
        return self._load().get(user_id, "") if user_id is not None else ""


def prune(resource: Any) -> Any:
    """Drop empty values (None, "", [], {}) at every level: FHIR forbids empty elements."""
    if isinstance(resource, dict):
        pruned = {k: prune(v) for k, v in resource.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(resource, list):
        items = [prune(v) for v in resource]
        return [v for v in items if v not in (None, "", [], {})]
    return resource


# JSON ------------------------------------------------------------------------------
# FHIR decimals are JSON numbers whose digits carry the precision: 37.0 is not 37.
# Python's json writes a Decimal only through float, which could change the digits;
# a Decimal is therefore written as a marked string and the marks removed, so the
# number's text is exactly str(Decimal) (which keeps every digit it was given). The
# mark is random per process, so no text a person typed can ever look like one.

_MARK = f"\u0001{secrets.token_hex(8)}:"
_MARK_ESCAPED = json.dumps(_MARK)[1:-1]
_MARKED = re.compile('"' + re.escape(_MARK_ESCAPED) + r'(-?[0-9]+(?:\.[0-9]+)?)"')
_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        text = str(value)
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise ValueError(f"Not a plain decimal: {text}")
        return _MARK + text
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def to_json(resource: object, *, indent: int | None = None) -> str:
    """Compact JSON (or indented), with every Decimal written as a number with its exact digits."""
    text = json.dumps(
        resource,
        default=_default,
        ensure_ascii=False,
        indent=indent,
        separators=None if indent else (",", ":"),
    )
    return _MARKED.sub(r"\1", text) if _MARK_ESCAPED in text else text


def ndjson_lines(resources: Iterable[Resource]) -> Iterable[str]:
    for resource in resources:
        yield to_json(resource) + "\n"
