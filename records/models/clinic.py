from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from records.models.base import RecordModel

# Reference-range fields (flag, never refuse), in the order the settings page shows them.
REFERENCE_RANGE_FIELDS = {
    "systolic": ("systolic_low", "systolic_high"),
    "diastolic": ("diastolic_low", "diastolic_high"),
    "heart_rate": ("heart_rate_low", "heart_rate_high"),
    "spo2": ("spo2_low", "spo2_high"),
    "respiratory_rate": ("respiratory_rate_low", "respiratory_rate_high"),
    "temperature": ("temperature_low", "temperature_high"),
}


def _int(default: int, low: int, high: int, verbose: str):
    return models.PositiveSmallIntegerField(
        verbose, default=default, validators=[MinValueValidator(low), MaxValueValidator(high)]
    )


class ClinicSettings(RecordModel):
    """The clinic's own thresholds: one row (pk 1). None of them is a dose.

    Read with `ClinicSettings.current()`; changed only by the action
    `clinic_settings_update`, which audits every changed value.
    """

    SINGLETON_PK = 1

    bp_hold_systolic = _int(180, 100, 250, "Screening hold: systolic at or above (mmHg)")
    bp_hold_diastolic = _int(100, 60, 150, "Screening hold: diastolic at or above (mmHg)")
    systolic_low = _int(90, 40, 300, "Systolic low (mmHg)")
    systolic_high = _int(160, 40, 300, "Systolic high (mmHg)")
    diastolic_low = _int(50, 20, 200, "Diastolic low (mmHg)")
    diastolic_high = _int(100, 20, 200, "Diastolic high (mmHg)")
    heart_rate_low = _int(50, 20, 250, "Heart rate low (/min)")
    heart_rate_high = _int(110, 20, 250, "Heart rate high (/min)")
    spo2_low = _int(94, 50, 100, "SpO2 low (%)")
    spo2_high = _int(100, 50, 100, "SpO2 high (%)")
    respiratory_rate_low = _int(10, 4, 60, "Respiratory rate low (/min)")
    respiratory_rate_high = _int(24, 4, 60, "Respiratory rate high (/min)")
    temperature_low = models.DecimalField(
        "Temperature low (°C)",
        max_digits=3,
        decimal_places=1,
        default=Decimal("36.0"),
        validators=[MinValueValidator(30), MaxValueValidator(45)],
    )
    temperature_high = models.DecimalField(
        "Temperature high (°C)",
        max_digits=3,
        decimal_places=1,
        default=Decimal("38.0"),
        validators=[MinValueValidator(30), MaxValueValidator(45)],
    )
    vitals_interval_minutes = _int(15, 1, 240, "Vitals interval (minutes)")
    verbal_order_cosign_hours = _int(48, 1, 720, "Verbal-order co-signature deadline (hours)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="clinic_settings_singleton"),
            *(
                models.CheckConstraint(condition=Q(**{f"{low}__lt": F(high)}), name=f"clinic_{vital}_range_ordered")
                for vital, (low, high) in REFERENCE_RANGE_FIELDS.items()
            ),
        ]

    def __str__(self) -> str:
        return "Clinic settings"

    @classmethod
    def current(cls) -> "ClinicSettings":
        """The saved settings, or the defaults if none were ever saved (a read never writes)."""
        return cls.objects.filter(pk=cls.SINGLETON_PK).first() or cls(pk=cls.SINGLETON_PK)

    def reference_range(self, vital: str) -> tuple:
        low, high = REFERENCE_RANGE_FIELDS[vital]
        return getattr(self, low), getattr(self, high)

    def bp_holds(self, systolic: int, diastolic: int) -> bool:
        return systolic >= self.bp_hold_systolic or diastolic >= self.bp_hold_diastolic
