"""A dose in FHIR exactly as it was written: the rule, in one place.

The dose value is stored as the text the clinician wrote ("0.5", "12.25", "1"). In
FHIR, `doseQuantity.value` is a JSON number, and a number's digits are its
precision: the value is put there only when the JSON number written is, character
for character, the text that was entered. Every value the product accepts is such
a number (records.doses refuses trailing zeros, missing leading zeros and anything
but plain digits), so in practice the quantity is always there; the check keeps the
rule from depending on that. Whatever the value, the dose as written ("0.5 mg/kg/h")
is also carried in the `dose-as-written` extension, so no reader has to rebuild it.

The unit is the unit as written; its UCUM code goes beside it (mcg is written mcg,
coded ug). Nothing is converted, multiplied or totalled.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from records.doses import dose_display
from records.fhir import codes


def exact_decimal(value: str) -> Decimal | None:
    """The value as a Decimal if writing it as a JSON number keeps exactly the text entered, else None."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() and str(number) == value else None


def dose_quantity(value: str, unit: str) -> dict[str, Any] | None:
    """A Quantity with the value's exact digits and the unit as written, or None (see the module's rule)."""
    if not value:
        return None
    number = exact_decimal(value)
    if number is None:
        return None
    quantity: dict[str, Any] = {"value": number, "unit": unit}
    ucum = codes.DOSE_UNIT_UCUM.get(unit)
    if ucum:
        quantity["system"] = codes.UCUM
        quantity["code"] = ucum
    return quantity


def dose_as_written(value: str, unit: str) -> dict[str, str] | None:
    if not value:
        return None
    return {"url": codes.EXT_DOSE_AS_WRITTEN, "valueString": dose_display(value, unit)}
