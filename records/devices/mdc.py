"""The one table from what a monitor sends to the flowsheet's vitals.

Observations are IEEE 11073-10101 (MDC) codes, as IHE PCD-01 messages carry them
in OBX-3 (`150021^MDC_PRESS_BLD_NONINV_SYS^MDC`); units are MDC dimension codes in
OBX-6 (`266016^MDC_DIM_MMHG^MDC`), or the same unit in UCUM. A numeric code is
partition * 65536 + term code: SCADA (partition 2) for the observations,
dimensions (partition 4) for the units.

Units are checked, never converted: each vital accepts exactly one unit, under
any of its names below. A value sent in another unit (a temperature in
Fahrenheit, a pressure in kPa) is not offered to the nurse; the ACK says why.

Vendor codes: some monitors send their own codes in their own coding system
(OBX-3.3). Each row of VENDOR_CODES maps one vendor code onto exactly one MDC
code, so a vendor-coded value is then read exactly as if it had come coded in MDC.
"""

from dataclasses import dataclass
from decimal import Decimal

from records.vital_limits import IMPOSSIBLE, Limit


@dataclass(frozen=True)
class Unit:
    code: int  # MDC dimension code
    reference_id: str  # its MDC reference identifier
    names: frozenset[str]  # every spelling accepted for this unit (MDC code and refid, UCUM, text)
    label: str  # as the flowsheet writes it

    def accepts(self, identifier: str) -> bool:
        return identifier in self.names


def _unit(code: int, reference_id: str, label: str, *others: str) -> Unit:
    return Unit(code, reference_id, frozenset({str(code), reference_id, *others}), label)


MDC_DIM_PERCENT = _unit(262688, "MDC_DIM_PERCENT", "%", "%")
MDC_DIM_BEAT_PER_MIN = _unit(264864, "MDC_DIM_BEAT_PER_MIN", "/min", "/min", "{beats}/min", "{beat}/min", "bpm")
MDC_DIM_RESP_PER_MIN = _unit(264928, "MDC_DIM_RESP_PER_MIN", "/min", "/min", "{breaths}/min", "{breath}/min", "rpm")
MDC_DIM_MMHG = _unit(266016, "MDC_DIM_MMHG", "mmHg", "mm[Hg]", "mmHg")
MDC_DIM_DEGC = _unit(268192, "MDC_DIM_DEGC", "°C", "Cel", "degC")


@dataclass(frozen=True)
class Observation:
    code: int  # MDC code (OBX-3.1 when OBX-3.3 is MDC)
    reference_id: str  # MDC reference identifier (OBX-3.2)
    vital: str  # the DeviceReading field it fills
    unit: Unit
    label: str


# MDC observation codes -> vitals. Checked against IEEE 11073-10101 as IHE PCD-01
# messages use it (and the codes in DOMAIN.md).
OBSERVATIONS: tuple[Observation, ...] = (
    Observation(150021, "MDC_PRESS_BLD_NONINV_SYS", "systolic", MDC_DIM_MMHG, "NIBP systolic"),
    Observation(150022, "MDC_PRESS_BLD_NONINV_DIA", "diastolic", MDC_DIM_MMHG, "NIBP diastolic"),
    Observation(150023, "MDC_PRESS_BLD_NONINV_MEAN", "mean_bp", MDC_DIM_MMHG, "NIBP mean"),
    Observation(147842, "MDC_ECG_HEART_RATE", "heart_rate", MDC_DIM_BEAT_PER_MIN, "Heart rate (ECG)"),
    Observation(149530, "MDC_PULS_OXIM_PULS_RATE", "pulse_rate", MDC_DIM_BEAT_PER_MIN, "Pulse rate (oximeter)"),
    Observation(150456, "MDC_PULS_OXIM_SAT_O2", "spo2", MDC_DIM_PERCENT, "SpO2"),
    Observation(151562, "MDC_RESP_RATE", "respiratory_rate", MDC_DIM_RESP_PER_MIN, "Respiratory rate"),
    # Monitors send their temperature channels as MDC_TEMP; a body thermometer as MDC_TEMP_BODY.
    Observation(150344, "MDC_TEMP", "temperature", MDC_DIM_DEGC, "Temperature"),
    Observation(150364, "MDC_TEMP_BODY", "temperature", MDC_DIM_DEGC, "Body temperature"),
)
BY_MDC_CODE: dict[str, Observation] = {str(o.code): o for o in OBSERVATIONS}
BY_MDC_REFERENCE_ID: dict[str, Observation] = {o.reference_id: o for o in OBSERVATIONS}


@dataclass(frozen=True)
class VendorCode:
    system: str  # the coding system the monitor names in OBX-3.3
    code: str  # OBX-3.1
    mdc: int  # the one MDC code it stands for


# Vendor codes -> MDC, one to one. The rows below are a monitor-native numbering
# (coding system "99MON": HL7 reserves names starting 99 for local coding systems),
# used by the demo simulator's vendor mode. Before taking a vendor's monitors into
# use, check their codes against the vendor's HL7 interface specification and add
# them here: one row per code, each onto exactly one MDC code.
VENDOR_CODES: tuple[VendorCode, ...] = (
    VendorCode("99MON", "101", 147842),  # HR
    VendorCode("99MON", "151", 151562),  # RR
    VendorCode("99MON", "160", 150456),  # SpO2
    VendorCode("99MON", "161", 149530),  # PR
    VendorCode("99MON", "170", 150021),  # NIBP systolic
    VendorCode("99MON", "171", 150022),  # NIBP diastolic
    VendorCode("99MON", "172", 150023),  # NIBP mean
    VendorCode("99MON", "200", 150344),  # T1
)
BY_VENDOR_CODE: dict[tuple[str, str], Observation] = {(v.system, v.code): BY_MDC_CODE[str(v.mdc)] for v in VENDOR_CODES}

# Values a monitor sends that the flowsheet has no column for keep their own limits;
# the charted ones use the flowsheet's (records.vital_limits), the same as typed values.
LIMITS: dict[str, Limit] = {
    **{o.vital: IMPOSSIBLE[o.vital] for o in OBSERVATIONS if o.vital in IMPOSSIBLE},
    "pulse_rate": IMPOSSIBLE["heart_rate"]._replace(label="Pulse rate"),
    "mean_bp": Limit(20, 250, "mmHg", "Mean BP"),
}
# Whole numbers, except temperature (one decimal), as the flowsheet stores them.
DECIMAL_PLACES: dict[str, int] = {o.vital: (1 if o.vital == "temperature" else 0) for o in OBSERVATIONS}


def observation_for(code: str, text: str, system: str) -> Observation | None:
    """The observation an OBX-3 (identifier, text, coding system) names, or None if not one we chart."""
    if system == "MDC":
        return BY_MDC_CODE.get(code) or BY_MDC_REFERENCE_ID.get(text)
    return BY_VENDOR_CODE.get((system, code))


def check_decimal_places(vital: str, value: Decimal) -> bool:
    """Whether `value` fits the flowsheet's precision without rounding (36.80 fits one place; 36.85 does not)."""
    places = DECIMAL_PLACES[vital]
    return value == value.quantize(Decimal(1).scaleb(-places))
