"""Writing PCD-01 ORU^R01 messages as a monitor does, and sending them with python-hl7's MLLP client.

Used by `simulate_monitor` (the demo), the listener's tests and its benchmark.
"""

import random
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import count

import hl7
from django.utils import timezone
from hl7.client import MLLPClient

from records.devices import mdc
from records.devices.pcd01 import CR, FS

_serial = count(1)


def hl7_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S%z")


def obx(
    position: int,
    code: str,
    value: object,
    unit: str,
    *,
    at: datetime | None = None,
    status: str = "R",
    equipment: str = "",
    value_type: str = "NM",
) -> str:
    """One OBX segment: `code` and `unit` as the whole coded field (e.g. "150021^MDC_PRESS_BLD_NONINV_SYS^MDC")."""
    time = hl7_time(at) if at else ""
    fields = ["OBX", str(position), value_type, code, f"1.1.1.{position}", str(value), unit, "", "", "", "", status]
    fields += ["", "", time, "", "", "", equipment]
    return "|".join(fields)


def mdc_obx(position: int, vital_code: int, value: object, **kwargs: object) -> str:
    """An OBX coded in MDC with the unit the table expects."""
    observation = mdc.BY_MDC_CODE[str(vital_code)]
    unit = observation.unit
    return obx(
        position,
        f"{observation.code}^{observation.reference_id}^MDC",
        value,
        f"{unit.code}^{unit.reference_id}^MDC",
        **kwargs,  # type: ignore[arg-type]
    )


def oru(
    segments: list[str],
    *,
    control_id: str | None = None,
    sending_application: str = "CLINIC_MONITOR^0000000000000000^EUI-64",
    observed_at: datetime | None = None,
    charset: str = "UNICODE UTF-8",
    message_type: str = "ORU^R01^ORU_R01",
) -> str:
    """A whole ORU^R01 around `segments` (the OBX lines), with MSH, PID, PV1 and OBR as PCD-01 has them."""
    now = timezone.now()
    control_id = control_id or f"MSG{now:%Y%m%d%H%M%S}{next(_serial):06d}"
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            sending_application,
            "",
            "CLINIC_RECORDS",
            "",
            hl7_time(now),
            "",
            message_type,
            control_id,
            "P",
            "2.6",
            "",
            "",
            "NE",
            "AL",
            "",
            charset,
            "",
            "",
            "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        ]
    )
    obr = f"OBR|1|||182777000^monitoring of patient^SCT|||{hl7_time(observed_at or now)}"
    return "\r".join([msh, "PID|||||", "PV1||O|", obr, *segments])


def send(client: MLLPClient, message: str | bytes) -> hl7.Message:
    """Send one message and read its whole ACK (python-hl7's client reads one buffer at most)."""
    raw = client.send_message(message)
    while raw and not raw.rstrip(b"\r").endswith(FS):
        more = client.socket.recv(4096)
        if not more:
            break
        raw += more
    return hl7.parse(raw.strip(b"\x0b").rstrip(CR).rstrip(FS).decode("utf-8"))


def ack_code(ack: hl7.Message) -> tuple[str, str]:
    """(MSA-1, MSA-3) of an ACK."""
    msa = ack.segment("MSA")
    return str(msa(1)), str(msa(3)) if len(msa) > 3 else ""


@dataclass
class Patient:
    """A plausible patient at the chair during a ketamine infusion: values drift, BP rises a little."""

    rng: random.Random
    systolic: float = 124
    diastolic: float = 78
    heart_rate: float = 76
    spo2: float = 98
    respiratory_rate: float = 14
    temperature: float = 36.7

    def step(self) -> dict[str, int | Decimal]:
        walk = self.rng.gauss
        self.systolic = min(165, max(105, self.systolic + walk(1.2, 4)))
        self.diastolic = min(self.systolic - 30, max(60, self.diastolic + walk(0.6, 3)))
        self.heart_rate = min(110, max(55, self.heart_rate + walk(0.3, 3)))
        self.spo2 = min(100, max(93, self.spo2 + walk(0, 0.7)))
        self.respiratory_rate = min(22, max(10, self.respiratory_rate + walk(0, 1)))
        self.temperature = min(37.6, max(36.2, self.temperature + walk(0, 0.05)))
        systolic, diastolic = round(self.systolic), round(self.diastolic)
        return {
            "systolic": systolic,
            "diastolic": diastolic,
            "mean_bp": round(diastolic + (systolic - diastolic) / 3),
            "heart_rate": round(self.heart_rate),
            "spo2": round(self.spo2),
            "respiratory_rate": round(self.respiratory_rate),
            "temperature": Decimal(str(round(self.temperature, 1))),
        }


VITAL_CODES = {o.vital: o.code for o in reversed(mdc.OBSERVATIONS)}  # temperature -> MDC_TEMP (150344)
VENDOR_FOR_MDC = {v.mdc: v for v in mdc.VENDOR_CODES}
VENDOR_UNITS = {"mmHg": "mmHg", "/min": "/min", "%": "%", "°C": "Cel"}


def vitals_message(
    values: dict[str, int | Decimal],
    *,
    device_id: str,
    at: datetime,
    vendor: bool = False,
    control_id: str | None = None,
) -> str:
    """A monitor's message carrying `values` measured at `at`, coded in MDC (or in the vendor table's codes)."""
    segments = []
    for position, (vital, value) in enumerate(values.items(), start=1):
        code = VITAL_CODES[vital]
        if vendor:
            row = VENDOR_FOR_MDC[code]
            unit = mdc.BY_MDC_CODE[str(code)].unit
            segments.append(
                obx(position, f"{row.code}^{vital}^{row.system}", value, f"{VENDOR_UNITS[unit.label]}^^UCUM", at=at)
            )
        else:
            segments.append(mdc_obx(position, code, value, at=at, equipment=f"{device_id}^EUI-64"))
    application = f"MONITOR^{device_id}^EUI-64" if vendor else "MONITOR^0000000000000000^EUI-64"
    return oru(segments, control_id=control_id, sending_application=application, observed_at=at)
