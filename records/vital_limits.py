"""The physiologically impossible limits of each vital sign: the one place they live.

A value outside these is a typing error (systolic 300 is a typo, not a reading) and
is refused with the accepted range. The clinic's reference ranges, which only flag
a value, are clinic settings (records.models.clinic), not these constants.
"""

from decimal import Decimal
from typing import NamedTuple


class Limit(NamedTuple):
    low: int | Decimal
    high: int | Decimal
    unit: str
    label: str

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} must be between {self.low} and {self.high}{unit}."


IMPOSSIBLE = {
    "systolic": Limit(40, 300, "mmHg", "Systolic BP"),
    "diastolic": Limit(20, 200, "mmHg", "Diastolic BP"),
    "heart_rate": Limit(20, 250, "/min", "Heart rate"),
    "spo2": Limit(50, 100, "%", "SpO2"),
    "respiratory_rate": Limit(4, 60, "/min", "Respiratory rate"),
    "temperature": Limit(Decimal("30.0"), Decimal("45.0"), "°C", "Temperature"),
    "pain": Limit(0, 10, "", "Pain"),
    "sedation_rass": Limit(-5, 4, "", "Sedation (RASS)"),
    "weight_kg": Limit(Decimal("2.0"), Decimal("400.0"), "kg", "Weight"),
}

# The chairside scales (records.scales describes each level and item): values outside
# what a scale allows are refused with its range; the scale is never scored for the clinician
# beyond the sum of the items she entered.
SCALE_LIMITS = {
    "moaas": Limit(0, 5, "", "Sedation (MOAA/S)"),
    **{f"cadss_{n}": Limit(0, 4, "", f"CADSS item {n}") for n in (1, 2, 6, 7, 15, 22)},
}

# How far ahead of the server's clock a measured-at time may be (device clock skew).
CLOCK_SKEW_SECONDS = 60
