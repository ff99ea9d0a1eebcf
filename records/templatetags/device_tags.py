"""The "From the monitor" sections that the session page and the board include.

They are inclusion tags so that those pages' own views need no change: each
section reads its readings through records.devices.selectors, as its polling
view does.
"""

from django import template

register = template.Library()


@register.inclusion_tag("records/devices/_session_readings.html", takes_context=True)
def session_device_readings_section(context, session):
    from records.views.devices import readings_context

    return {**readings_context(context["request"], session), **_page(context)}


@register.inclusion_tag("records/devices/_board_readings.html", takes_context=True)
def board_device_readings_section(context):
    from records.views.devices import board_context

    return {**board_context(context["request"]), **_page(context)}


def _page(context) -> dict:
    """What the including page's context processors gave it, for the section's forms."""
    return {key: context.get(key) for key in ("request", "csrf_token", "user_can", "csp_nonce")}
