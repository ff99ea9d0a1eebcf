"""Dose values as the clinician wrote them: one validator and one display.

The system never proposes or calculates a dose. A dose is stored as the text the
clinician wrote and shown exactly as stored; the validator only refuses the two
forms on The Joint Commission's "Do Not Use" list (a trailing zero, a missing
leading zero) and anything that is not a plain decimal number.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models

# Digits, optionally one decimal point followed by digits that do not end in 0;
# no leading zeros except the single zero before a point.
DOSE_PATTERN = r"^(0|[1-9][0-9]{0,5})(\.[0-9]{0,3}[1-9])?$"
DOSE_MAX_LENGTH = 12
_DOSE_RE = re.compile(DOSE_PATTERN)


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    MG_KG = "mg/kg", "mg/kg"
    MG_KG_H = "mg/kg/h", "mg/kg/h"
    MG_H = "mg/h", "mg/h"
    MCG_KG_MIN = "mcg/kg/min", "mcg/kg/min"
    ML = "mL", "mL"
    ML_H = "mL/h", "mL/h"
    UNIT = "unit", "unit"


def validate_dose_value(value: str, label: str = "Dose") -> str:
    """Return the value unchanged if it is written safely, else raise a message saying how to write it."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"Enter the {label.lower()} exactly as written in the order.")
    if text != value:
        raise ValidationError(f"{label}: remove the spaces around the number.")
    if text.startswith("."):
        raise ValidationError(f"{label}: write 0{text}, not {text}: without the leading zero it can be misread.")
    if re.fullmatch(r"[0-9]+\.[0-9]*0", text):
        bare = text.rstrip("0").rstrip(".")
        raise ValidationError(
            f"{label}: write {bare}, not {text}: a trailing zero can be misread as ten times the dose."
        )
    if text.endswith("."):
        raise ValidationError(f"{label}: write {text[:-1]}, without the final point.")
    if re.fullmatch(r"0[0-9]+(\.[0-9]+)?", text):
        raise ValidationError(f"{label}: remove the leading zeros ({text}).")
    if not _DOSE_RE.match(text):
        raise ValidationError(
            f"{label}: enter a number using digits and at most one decimal point (up to 6 digits before the "
            "point and 4 after), e.g. 0.5 or 12.25. Put the unit in the unit field."
        )
    if text == "0":
        raise ValidationError(f"{label}: a dose of 0 cannot be recorded.")
    return text


def dose_display(value: str, unit: str) -> str:
    """The dose exactly as entered, followed by its unit: never reformatted, never computed."""
    if not value:
        return ""
    return f"{value} {unit}".strip()
