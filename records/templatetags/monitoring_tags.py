"""Protocol checkpoints on the page: countdowns and elapsed times as text (records/static/records/countdown.js
keeps them current between renders from the same server-rendered times)."""

import math
from datetime import datetime, timedelta

from django import template

register = template.Library()


def minutes_text(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@register.filter
def countdown(due: datetime | None, now: datetime) -> str:
    """'in 4 min', 'due now', or 'due 3 min ago': the time left to a checkpoint's due time."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    if seconds > 0:
        return f"in {minutes_text(math.ceil(seconds / 60))}"
    if seconds > -60:
        return "due now"
    return f"due {minutes_text(int(-seconds // 60))} ago"


@register.filter
def elapsed(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    return minutes_text(max(0, int(delta.total_seconds() // 60)))


@register.filter
def iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
