import re

from django import template
from django.utils import timezone

from records import workflow
from records.doses import dose_display
from records.rendering.charts import scales_chart, vitals_chart

register = template.Library()

# The colour (Bootstrap's text-bg-*) of a session's status badge where sessions are listed.
STATUS_TONES = {
    workflow.SessionStatus.COSIGNED: "success",
    workflow.SessionStatus.SIGNED: "primary",
    workflow.SessionStatus.HELD: "warning",
    **dict.fromkeys(workflow.ENDED_BEFORE_START, "secondary"),
}


@register.filter
def dose(obj, prefix: str = "dose") -> str:
    """`{{ order|dose }}` or `{{ administration|dose:"amount_given" }}`: the value exactly as entered, and its unit."""
    return dose_display(getattr(obj, f"{prefix}_value", ""), getattr(obj, f"{prefix}_unit", ""))


@register.filter
def status_tone(session) -> str:
    """`{{ session|status_tone }}`: the colour of its status badge; other states are "info"."""
    return STATUS_TONES.get(session.status, "info")


@register.simple_tag(takes_context=True)
def session_vitals_chart(context, readings, events):
    """The inline, CSP-safe vitals chart; uses the page's CSP nonce when there is one."""
    return vitals_chart(readings, events, nonce=page_nonce(context))


NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


def page_nonce(context) -> str:
    """The CSP nonce that the page this markup lands in allows.

    A full page uses its own nonce (Django's LazyNonce is falsy until generated:
    str() generates it, and the CSP middleware then puts it in the header). An
    htmx fragment is swapped into a page that was served earlier under that page's
    nonce, which base.html sends along as X-Page-Nonce; the fragment's <style>
    must carry that one, or the browser refuses it.
    """
    request = context.get("request")
    if request is not None and getattr(request, "htmx", False):
        sent = request.headers.get("X-Page-Nonce", "")
        if NONCE_PATTERN.match(sent):
            return sent
    nonce = context.get("csp_nonce")
    return str(nonce) if nonce is not None else ""


@register.filter
def flag(reading, field: str) -> str:
    """'low' / 'high' when a value lies outside the clinic's reference range (set on the reading by the view)."""
    return reading.flags.get(field, "") if hasattr(reading, "flags") else ""


@register.filter
def clock(value) -> str:
    """A time in the clinic's zone, HH:MM."""
    return timezone.localtime(value).strftime("%H:%M") if value else ""


@register.filter
def stamp(value) -> str:
    """A date and time in the clinic's zone, with its zone name."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else ""


@register.filter
def form_field(form, name: str):
    """`{{ form|form_field:name }}`: the bound field `name` of a form, for a loop over field names."""
    return form[name]


@register.simple_tag(takes_context=True)
def session_scales_chart(context, readings, events):
    """The MOAA/S and CADSS-6 panel, on the same time axis as the vitals chart."""
    return scales_chart(readings, events, nonce=page_nonce(context))
