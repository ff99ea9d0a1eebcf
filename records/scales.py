"""The chairside scales, described once: MOAA/S levels and the CADSS-6 items.

The product shows what each level means and sums the six CADSS-6 items the clinician entered;
it never scores, interprets or decides anything beyond that sum. The limits that refuse a value
off the scale are records.vital_limits.SCALE_LIMITS; the items' short names are the verbose names
of the fields on records.models.VitalsReading.
"""

from collections.abc import Iterable

from records.models.vitals import CADSS6_ITEMS, VitalsReading

# Modified Observer's Assessment of Alertness/Sedation: each level with its anchor description.
MOAAS_LEVELS: dict[int, str] = {
    5: "Responds readily to name spoken in normal tone",
    4: "Lethargic response to name spoken in normal tone",
    3: "Responds only after name is called loudly or repeatedly",
    2: "Responds only after mild prodding or shaking",
    1: "Responds only after a painful trapezius squeeze",
    0: "No response after a painful trapezius squeeze",
}
MOAAS_FULLY_ALERT = 5
CADSS6_ITEM_RANGE = (0, 4)
# What the form says when some CADSS-6 items are scored and not all (the vitals action says the same).
CADSS6_ALL_OR_NONE = "Score all six CADSS-6 items (0 to 4), or none."


def moaas_label(level: int) -> str:
    return f"{level} — {MOAAS_LEVELS[level]}"


def field_name(field: str) -> str:
    """The verbose name of a VitalsReading field: a CADSS-6 item's short name, 'Sedation (MOAA/S)'."""
    return str(getattr(VitalsReading._meta.get_field(field), "verbose_name", field))


def cadss6_item_names() -> list[tuple[str, str]]:
    """(field, short item name) in the scale's order."""
    return [(f, field_name(f)) for f in CADSS6_ITEMS]


def lowest_moaas(readings: Iterable[VitalsReading]) -> int | None:
    """The lowest MOAA/S of the readings not entered in error; None when none was scored."""
    return min((r.moaas for r in readings if not r.in_error and r.moaas is not None), default=None)


def highest_cadss6(readings: Iterable[VitalsReading]) -> int | None:
    """The highest CADSS-6 total of the readings not entered in error; None when none was scored."""
    totals = [r.cadss6_total for r in readings if not r.in_error]
    return max((t for t in totals if t is not None), default=None)
