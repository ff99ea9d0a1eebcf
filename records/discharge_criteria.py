"""When a patient may leave: the discharge criteria, each stated once, checked by the discharge action.

`unmet_criteria` lists every criterion not met, each with a message that names it, so that a
refused discharge says everything that is still waiting, not only the first thing:

- the monitoring protocol's own criteria (the minimum observation time since the first
  administration start; the before-discharge checkpoint), from records.monitoring;
- a post-session vitals reading is charted;
- sedation: the last MOAA/S (of the readings not entered in error) is 5, fully alert; a MOAA/S
  must have been charted;
- dissociation resolved: the last reading that scores dissociation (not entered in error) says
  none: a CADSS-6 total of 0, and the older none/mild/moderate/severe field, where charted, "none".
  Both count because clinics chart dissociation either way (an IV protocol may use the four
  words, esketamine the CADSS-6); a reading with both must say none on both;
- no administration is running or paused;
- the escort is present and the patient is not driving (the nurse confirms it on the discharge form).

A physician may override the criteria that are a matter of clinical judgement (the protocol's,
sedation, dissociation) with a written reason (records.actions.side_effects.discharge_override);
no override lets a patient leave with an administration still running, without a post-session
reading, or without an escort. Nothing here scores a scale or proposes anything: it compares what
the clinician charted with the criterion.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from records import monitoring
from records.models import AdministrationState, Phase, Session, VitalsReading
from records.scales import MOAAS_FULLY_ALERT, MOAAS_LEVELS


@dataclass(frozen=True)
class Unmet:
    """One criterion not met: what it is (`key`), what to tell the person, and whether a physician may override it."""

    key: str
    message: str
    overridable: bool


def _clock(value: datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def protocol_findings(session: Session, now: datetime) -> list[str]:
    """The monitoring protocol's unmet criteria (minimum observation time, before-discharge checkpoint):
    the one call into records.monitoring, which states them."""
    return list(monitoring.protocol_discharge_findings(session, now))


def sedation_unmet(readings: list[VitalsReading]) -> str | None:
    scored = [r for r in readings if r.moaas is not None]
    alert = f"{MOAAS_FULLY_ALERT} ({MOAAS_LEVELS[MOAAS_FULLY_ALERT].lower()})"
    if not scored:
        return f"Sedation: no MOAA/S charted yet; the last MOAA/S must be {alert}."
    last = scored[-1]
    if last.moaas != MOAAS_FULLY_ALERT:
        return f"Sedation: the last MOAA/S is {last.moaas} (at {_clock(last.measured_at)}); it must be {alert}."
    return None


def dissociation_unmet(readings: list[VitalsReading]) -> str | None:
    scored = [r for r in readings if r.cadss6_total is not None or r.dissociation]
    if not scored:
        return "Dissociation: not scored yet (CADSS-6, or the dissociation field); it must have resolved."
    last = scored[-1]
    total, words = last.cadss6_total, last.dissociation
    if (total is not None and total != 0) or (words and words != "none"):
        said = []
        if total is not None:
            said.append(f"CADSS-6 total {total}")
        if words:
            said.append(f"dissociation {last.get_dissociation_display().lower()}")
        return (
            f"Dissociation: the last score is {' and '.join(said)} (at {_clock(last.measured_at)}); "
            "it must have resolved (CADSS-6 total 0, dissociation none)."
        )
    return None


def unmet_criteria(session: Session, *, now: datetime, escort_present_not_driving: bool = True) -> list[Unmet]:
    """Every discharge criterion `session` does not meet at `now`, in the order a nurse would check them."""
    readings = sorted((r for r in session.readings.all() if not r.in_error), key=lambda r: (r.measured_at, r.pk))
    unmet = [Unmet("protocol", message, True) for message in protocol_findings(session, now)]
    if not any(r.phase == Phase.POST for r in readings):
        unmet.append(Unmet("post_vitals", "Vitals: chart a post-session vitals reading first.", False))
    sedation = sedation_unmet(readings)
    if sedation:
        unmet.append(Unmet("sedation", sedation, True))
    dissociation = dissociation_unmet(readings)
    if dissociation:
        unmet.append(Unmet("dissociation", dissociation, True))
    if any(a.state != AdministrationState.STOPPED for a in session.administrations.all()):
        unmet.append(Unmet("administration", "Administration: one is still running or paused; stop it first.", False))
    if not escort_present_not_driving:
        unmet.append(
            Unmet("escort", "Escort / transport: confirm an escort is present and the patient is not driving.", False)
        )
    return unmet
