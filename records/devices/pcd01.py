"""IHE PCD-01 observation messages (HL7 v2 ORU^R01): read one with python-hl7, and answer it.

`parse` turns the bytes of one MLLP frame into the readings it carries: for each
device and measured time, the values this product charts (records.devices.mdc).
A value that cannot be offered as it is (wrong unit, not a number, impossible,
more precise than the flowsheet) is left out with the reason, and the ACK says so.
`ack` writes the original-mode acknowledgement (MSA-1 AA, AE or AR, MSA-3 the
reason, one ERR segment per problem).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from itertools import count

import hl7
from django.utils import timezone

from records.devices import mdc

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"
# MSH-18 character sets we read, and the codec for each. With none declared, HL7 means
# ASCII; UTF-8 is read instead since it is ASCII's superset and what monitors use.
CHARSETS = {"": "utf-8", "ASCII": "ascii", "8859/1": "latin-1", "UNICODE UTF-8": "utf-8"}
ACK_APPLICATION = "CLINIC_RECORDS"
# Result statuses (OBX-11) of a usable value: final, preliminary, corrected, or as PCD-01
# devices send it, R (results entered, not verified). X is "cannot be obtained".
USABLE_STATUSES = {"", "F", "P", "C", "R"}
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DTM = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")
_ack_serial = count(1)


class MessageRefused(Exception):
    """The whole message is refused: AR (cannot be read or is not for us) or AE (nothing usable in it)."""

    def __init__(self, code: str, reason: str, hl7_error: str = "207"):
        super().__init__(reason)
        self.code, self.reason, self.hl7_error = code, reason, hl7_error


@dataclass(frozen=True)
class Header:
    """MSH fields, read from the raw bytes so that even an unreadable message can be answered."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_type: str = ""
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    charset: str = ""

    @property
    def identities(self) -> list[str]:
        """Ways MSH-3 may name the device: its universal id (e.g. an EUI-64), its namespace, the whole field."""
        parts = self.sending_application.split("^")
        found = [parts[1] if len(parts) > 1 else "", parts[0], self.sending_application]
        return [p for i, p in enumerate(found) if p and p not in found[:i]]


@dataclass
class Group:
    """The values one device measured at one time: becomes one device reading."""

    equipment_id: str
    measured_at: datetime
    values: dict[str, int | Decimal] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # vital -> the OBX that carried it, for messages


@dataclass
class Problem:
    where: str  # e.g. "OBX 4 (SpO2)"
    reason: str
    hl7_error: str = "102"  # HL7 table 0357: 102 data type error, 103 table value not found ...
    severity: str = "W"  # W: the value is not offered, the rest is; I: the monitor itself marked it unusable

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class Parsed:
    header: Header
    groups: list[Group]
    problems: list[Problem]


def _clean(value: bytes, limit: int = 199) -> str:
    return "".join(ch for ch in value.decode("latin-1")[:limit] if ch.isprintable())


def read_header(raw: bytes) -> Header:
    """The MSH of `raw`, without decoding or parsing the rest. Refuses (AR) what does not begin with MSH."""
    first = raw.lstrip(b"\r\n ").split(b"\r", 1)[0].split(b"\n", 1)[0]
    if not first.startswith(b"MSH") or len(first) < 8:
        raise MessageRefused("AR", "Not an HL7 v2 message: it does not begin with an MSH segment.", "100")
    fields = first.split(first[3:4])

    def get(n: int, limit: int = 199) -> str:  # MSH-n is fields[n - 1]: MSH-1 is the separator itself
        return _clean(fields[n - 1], limit) if len(fields) >= n else ""

    return Header(
        sending_application=get(3),
        sending_facility=get(4),
        receiving_application=get(5),
        receiving_facility=get(6),
        message_type=get(9),
        control_id=get(10),
        processing_id=get(11),
        version=get(12),
        charset=get(18).split("~")[0].strip(),
    )


def decode(raw: bytes, header: Header) -> str:
    codec = CHARSETS.get(header.charset.upper())
    if codec is None:
        raise MessageRefused("AR", f"Character set {header.charset!r} (MSH-18) is not supported.", "203")
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        named = header.charset or "UTF-8 (no MSH-18 character set given)"
        raise MessageRefused(
            "AR", f"Not valid {named} text at byte {exc.start}: check the character set in MSH-18.", "102"
        ) from None
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


def _field(segment: hl7.Segment, number: int, component: int = 1, repetition: int = 1) -> str:
    try:
        value = segment.extract_field(None, number, repetition, component, 1)
    except (IndexError, KeyError, TypeError, ValueError):
        return ""
    return str(value).strip()


def parse_time(value: str, local: tzinfo) -> datetime:
    """An HL7 DTM to the minute at least; without an offset it is the clinic's local time."""
    match = DTM.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a date and time to the minute (YYYYMMDDHHMM[SS][+ZZZZ])")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int(Decimal(fraction) * 1_000_000) if fraction else 0
    naive = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    if offset is None:
        return timezone.make_aware(naive, local)
    sign = 1 if offset[0] == "+" else -1
    delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
    return naive.replace(tzinfo=timezone.get_fixed_timezone(delta))


def value_problem(vital: str, value: Decimal) -> str | None:
    """Why `value` cannot be offered for `vital` as it is (None when it can). Shared with the action."""
    limit = mdc.LIMITS[vital]
    if not mdc.check_decimal_places(vital, value):
        places = mdc.DECIMAL_PLACES[vital]
        return f"{value} has more decimals than the flowsheet records ({places}); it is not rounded."
    if not (limit.low <= value <= limit.high):
        return f"{value} is impossible: {limit.describe()}"
    return None


def bp_problem(values: dict[str, int | Decimal]) -> str | None:
    systolic, diastolic = values.get("systolic"), values.get("diastolic")
    if (systolic is None) != (diastolic is None):
        return "systolic and diastolic come as a pair; only one was sent."
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        return f"diastolic {diastolic} is not below systolic {systolic}."
    return None


def parse(raw: bytes) -> Parsed:
    """Read one message. Raises MessageRefused for one that cannot be read or is not an ORU^R01."""
    header = read_header(raw)
    text = decode(raw, header)
    try:
        message = hl7.parse(text)
    except Exception as exc:  # python-hl7 raises several kinds on malformed input
        raise MessageRefused("AR", f"Not a readable HL7 v2 message ({type(exc).__name__}: {exc}).", "100") from None
    kind = header.message_type.split("^")
    if kind[:2] != ["ORU", "R01"]:
        raise MessageRefused(
            "AR", f"Only ORU^R01 observation results are taken; this is {header.message_type or 'not typed'}.", "200"
        )
    if not header.control_id:
        raise MessageRefused("AR", "MSH-10 (message control ID) is empty.", "101")

    local = timezone.get_current_timezone()
    problems: list[Problem] = []
    groups: dict[tuple[str, datetime], Group] = {}
    conflicts: set[tuple[tuple[str, datetime], str]] = set()
    obr_time = ""
    for segment in message:
        name = str(segment[0]).strip()
        if name == "OBR":
            obr_time = _field(segment, 7)
        if name != "OBX":
            continue  # PID, PV1, NTE, Z-segments ...: not ours to read
        position = _field(segment, 1) or "?"
        observation = mdc.observation_for(_field(segment, 3, 1), _field(segment, 3, 2), _field(segment, 3, 3))
        if observation is None:
            observation = mdc.observation_for(_field(segment, 3, 4), _field(segment, 3, 5), _field(segment, 3, 6))
        if observation is None:
            continue  # an observation this product does not chart (device hierarchy, ST segments ...)
        where = f"OBX {position} ({observation.label})"
        status, raw_value = _field(segment, 11).upper(), _field(segment, 5)
        if status not in USABLE_STATUSES:
            problems.append(Problem(where, f"the monitor marked it unusable (result status {status}).", "0", "I"))
            continue
        if not raw_value:
            problems.append(Problem(where, "no value.", "0", "I"))
            continue
        if not NUMBER.match(raw_value):
            problems.append(Problem(where, f"{raw_value!r} is not a number."))
            continue
        try:
            value = Decimal(raw_value)
        except InvalidOperation:
            problems.append(Problem(where, f"{raw_value!r} is not a number."))
            continue
        # The unit's identifier (OBX-6.1, or its MDC reference id alone in 6.2), or the alternate (6.4/6.5).
        units = [_field(segment, 6, 1) or _field(segment, 6, 2), _field(segment, 6, 4) or _field(segment, 6, 5)]
        if not any(u and observation.unit.accepts(u) for u in units):
            sent = " ".join(u for u in (_field(segment, 6, 1), _field(segment, 6, 2)) if u) or "no unit"
            problems.append(
                Problem(
                    where,
                    f"unit {sent} is not {observation.unit.label} ({observation.unit.reference_id}); "
                    "units are never converted.",
                    "103",
                )
            )
            continue
        problem = value_problem(observation.vital, value)
        if problem:
            problems.append(Problem(where, problem))
            continue
        time_text = _field(segment, 14) or obr_time
        if not time_text:
            problems.append(Problem(where, "no observation time (OBX-14 or OBR-7).", "101"))
            continue
        try:
            measured_at = parse_time(time_text, local)
        except ValueError as exc:
            problems.append(Problem(where, f"observation time {exc}."))
            continue
        key = (_field(segment, 18), measured_at)
        group = groups.setdefault(key, Group(equipment_id=key[0], measured_at=measured_at))
        number: int | Decimal = value.quantize(Decimal("0.1")) if observation.vital == "temperature" else int(value)
        if observation.vital in group.values and group.values[observation.vital] != number:
            conflicts.add((key, observation.vital))
            problems.append(
                Problem(
                    where,
                    f"a second, different {observation.label.lower()} at the same time "
                    f"({group.sources[observation.vital]}); neither is offered.",
                )
            )
            continue
        group.values[observation.vital] = number
        group.sources.setdefault(observation.vital, f"OBX {position}")
    for key, vital in conflicts:
        groups[key].values.pop(vital, None)
    for group in groups.values():
        problem = bp_problem(group.values)
        if problem:
            problems.append(Problem(f"NIBP at {group.measured_at:%H:%M}", problem + " Not offered."))
            group.values.pop("systolic", None)
            group.values.pop("diastolic", None)
    return Parsed(header=header, groups=[g for g in groups.values() if g.values], problems=problems)


def escape(text: str) -> str:
    """HL7 escape sequences for text placed in a field (standard encoding characters)."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return "".join(ch for ch in out.replace("~", "\\R\\") if ch.isprintable())[:400]


def ack(header: Header | None, code: str, text: str, problems: list[Problem] | None = None) -> bytes:
    """The original-mode ACK^R01 for a message: MSA-1 `code`, MSA-2 its MSH-10, MSA-3 `text`, ERR per problem."""
    header = header or Header()
    now = timezone.localtime()
    version = header.version if re.fullmatch(r"2\.\d{1,2}(\.\d)?", header.version) else "2.6"
    processing = header.processing_id if header.processing_id in {"P", "D", "T"} else "P"
    # The sender's own MSH-3/4 go back as MSH-5/6 (escaped as text if they were not plain).
    receiver = [
        v if re.fullmatch(r"[\w .:\-^]*", v) else escape(v)
        for v in (header.sending_application, header.sending_facility)
    ]
    segments = [
        "|".join(
            [
                "MSH",
                "^~\\&",
                ACK_APPLICATION,
                "",
                receiver[0],
                receiver[1],
                now.strftime("%Y%m%d%H%M%S%z"),
                "",
                "ACK^R01^ACK",
                f"ACK{now:%Y%m%d%H%M%S}{next(_ack_serial):06d}",
                processing,
                version,
            ]
        ),
        "|".join(["MSA", code, escape(header.control_id), escape(text)]),
    ]
    for problem in problems or []:
        severity = "E" if code != "AA" and problem.severity == "W" else problem.severity
        segments.append(
            "|".join(["ERR", "", "", f"{problem.hl7_error}^^HL70357", severity, "", "", "", escape(str(problem))])
        )
    return "\r".join(segments).encode("utf-8")
