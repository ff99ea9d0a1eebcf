"""Monitoring protocols (clinic configuration) and what the chart keeps of them.

A protocol says when to look and what to measure, never how much to give: a checkpoint has a
name, an anchor, minutes and requirements, and nothing else is accepted. An edit writes the next
version (insert-only in the database); a session keeps the version it took at its first start.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.utils import timezone

from records import monitoring
from records.actions.context import ActionRefused, Actor
from records.actions.sessions import open_session_for_charting, require_permission
from records.audit import audit_record, diff_fields
from records.models import (
    Anchor,
    AuditAction,
    CheckpointMiss,
    MonitoringProtocol,
    ProtocolVersion,
    Requirement,
    Route,
    Session,
    SessionProtocol,
)

CHECKPOINT_KEYS = ("name", "anchor", "offset", "window_start", "window_end", "every", "requires")
MINUTES = (-720, 720)


def _checkpoint(number: int, raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One checkpoint as stored, and what is wrong with it, in words naming the field and the accepted values."""
    where = f"Checkpoint {number}"
    errors: list[str] = []
    unknown = set(raw) - set(CHECKPOINT_KEYS)
    if unknown:
        # A protocol says when to look, never how much to give: nothing but timing and requirements.
        errors.append(f"{where}: only {', '.join(CHECKPOINT_KEYS)} may be set (not {', '.join(sorted(unknown))}).")
    name = str(raw.get("name") or "").strip()
    if not name or len(name) > 120:
        errors.append(f"{where}: enter a name (up to 120 characters).")
    anchor = raw.get("anchor")
    if anchor not in Anchor.values:
        errors.append(f"{where}: the anchor must be one of {', '.join(Anchor.values)}.")

    def minutes(key: str, required: bool, low: int = MINUTES[0], high: int = MINUTES[1]) -> int | None:
        value = raw.get(key)
        if value in (None, ""):
            if required:
                errors.append(f"{where}: enter {key.replace('_', ' ')} in minutes ({low} to {high}).")
            return None
        try:
            number_ = int(value)
        except (TypeError, ValueError):
            errors.append(f"{where}: {key.replace('_', ' ')} must be whole minutes from {low} to {high}.")
            return None
        if not low <= number_ <= high:
            errors.append(f"{where}: {key.replace('_', ' ')} must be from {low} to {high} minutes.")
            return None
        return number_

    offset = minutes("offset", True)
    window_start = minutes("window_start", True)
    window_end = minutes("window_end", False)
    every = minutes("every", False, 5, 240)
    if offset is not None and window_start is not None and window_start > offset:
        errors.append(f"{where}: the window must open at or before the checkpoint's time.")
    if offset is not None and window_end is not None and window_end < offset:
        errors.append(f"{where}: the window must close at or after the checkpoint's time.")
    if every is not None and anchor != Anchor.START:
        errors.append(f"{where}: only a checkpoint counted from the first start repeats while it runs.")
    requires = raw.get("requires") or []
    if not isinstance(requires, list | tuple) or not requires or set(requires) - set(Requirement.values):
        errors.append(f"{where}: choose what it requires among {', '.join(Requirement.values)}.")
        requires = []
    return (
        {
            "name": name,
            "anchor": anchor,
            "offset": offset,
            "window_start": window_start,
            "window_end": window_end,
            "every": every,
            "requires": monitoring.in_flowsheet_order(requires),
        },
        errors,
    )


def _validated(
    *,
    name: str,
    routes: list[str],
    min_observation_minutes: Any,
    checkpoints: list[dict[str, Any]],
    exclude: int | None,
) -> tuple[str, list[str], int, list[dict[str, Any]]]:
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 120:
        errors["name"] = ["Enter the protocol's name (up to 120 characters)."]
    elif MonitoringProtocol.objects.filter(name=name).exclude(pk=exclude or 0).exists():
        errors["name"] = ["Another protocol has this name."]
    routes = list(dict.fromkeys(routes))
    if not routes or set(routes) - set(Route.values):
        errors["routes"] = [f"Choose the routes it applies to among {', '.join(Route.values)}."]
    try:
        observation = int(min_observation_minutes)
        if not 0 <= observation <= 720:
            raise ValueError
    except (TypeError, ValueError):
        errors["min_observation_minutes"] = ["Enter the minimum observation in whole minutes, 0 to 720."]
        observation = 0
    stored, problems = [], []
    for number, raw in enumerate(checkpoints, start=1):
        checkpoint, wrong = _checkpoint(number, raw)
        stored.append(checkpoint)
        problems += wrong
    if not checkpoints:
        problems.append("Add at least one checkpoint.")
    if sum(1 for c in stored if c["anchor"] == Anchor.DISCHARGE) > 1:
        problems.append("Only one checkpoint may be before discharge.")
    if problems:
        errors["checkpoints"] = problems
    if errors:
        raise ValidationError(errors)
    return name, routes, observation, stored


def _route_taken(routes: list[str], exclude: int | None) -> list[str]:
    current = monitoring.current_versions()
    return [
        f"{Route(route).label} already follows \u201c{current[route].protocol.name}\u201d."
        for route in routes
        if route in current and current[route].protocol_id != exclude
    ]


def _version_state(version: ProtocolVersion | None) -> dict[str, Any]:
    if version is None:
        return {}
    return {
        "routes": version.routes,
        "min_observation_minutes": version.min_observation_minutes,
        "checkpoints": version.checkpoints,
    }


@transaction.atomic
def protocol_create(
    *,
    actor: Actor,
    name: str,
    routes: list[str],
    min_observation_minutes: Any,
    checkpoints: list[dict[str, Any]],
    reason: str = "",
) -> MonitoringProtocol:
    """A new protocol with its first version. Admins; audited with every value it holds."""
    require_permission(actor, "change_monitoringprotocol", "Only an admin may change the monitoring protocols.")
    name, routes, observation, stored = _validated(
        name=name, routes=routes, min_observation_minutes=min_observation_minutes, checkpoints=checkpoints, exclude=None
    )
    taken = _route_taken(routes, None)
    if taken:
        raise ValidationError({"routes": taken})
    protocol = MonitoringProtocol.objects.create(name=name)
    version = ProtocolVersion.objects.create(
        protocol=protocol,
        number=1,
        routes=routes,
        min_observation_minutes=observation,
        checkpoints=stored,
        created_by=actor.user,
        created_at=timezone.now(),
        reason=reason.strip(),
    )
    changes: dict[str, list[object]] = {"name": [None, name], "active": [None, True], "version": [None, 1]}
    changes |= {key: [None, value] for key, value in _version_state(version).items()}
    audit_record(actor=actor, action=AuditAction.CREATE, record=protocol, changes=changes, reason=reason.strip())
    return protocol


@transaction.atomic
def protocol_update(
    *,
    actor: Actor,
    protocol: MonitoringProtocol,
    name: str,
    active: bool,
    routes: list[str],
    min_observation_minutes: Any,
    checkpoints: list[dict[str, Any]],
    reason: str = "",
) -> MonitoringProtocol:
    """Change a protocol. Admins. A change of routes, observation or checkpoints writes the next
    version (sessions keep the one they took); the audit event holds every change before/after."""
    require_permission(actor, "change_monitoringprotocol", "Only an admin may change the monitoring protocols.")
    protocol = MonitoringProtocol.objects.select_for_update(no_key=True).get(pk=protocol.pk)
    current = protocol.versions.order_by("-number").first()
    name, routes, observation, stored = _validated(
        name=name,
        routes=routes,
        min_observation_minutes=min_observation_minutes,
        checkpoints=checkpoints,
        exclude=protocol.pk,
    )
    if active:
        taken = _route_taken(routes, protocol.pk)
        if taken:
            raise ValidationError({"routes": taken})
    before = {"name": protocol.name, "active": protocol.active, **_version_state(current)}
    after = {"name": name, "active": bool(active), "routes": routes, "min_observation_minutes": observation}
    after["checkpoints"] = stored
    changes = {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
    if not changes:
        return protocol
    if {"routes", "min_observation_minutes", "checkpoints"} & set(changes):
        number = (current.number if current else 0) + 1
        ProtocolVersion.objects.create(
            protocol=protocol,
            number=number,
            routes=routes,
            min_observation_minutes=observation,
            checkpoints=stored,
            created_by=actor.user,
            created_at=timezone.now(),
            reason=reason.strip(),
        )
        changes["version"] = [current.number if current else None, number]
    protocol.name, protocol.active = name, bool(active)
    protocol.save(update_fields=["name", "active"])
    audit_record(actor=actor, action=AuditAction.UPDATE, record=protocol, changes=changes, reason=reason.strip())
    return protocol


def session_protocol_adopt(session: Session, route: str, at: datetime) -> SessionProtocol | None:
    """The session takes the current protocol of `route` at its first start (inside administration_start's
    transaction, which audits it). None when it already took one, or no active protocol covers the route."""
    if SessionProtocol.objects.filter(session=session).exists():
        return None
    version = monitoring.current_versions().get(route)
    if version is None:
        return None
    return SessionProtocol.objects.create(session=session, version=version, adopted_at=at)


@transaction.atomic
def checkpoint_missed_reason(*, actor: Actor, session: Session, checkpoint_key: str, reason: str) -> CheckpointMiss:
    """Record why an overdue checkpoint was not charted. Nurses; session unsigned; once per checkpoint."""
    session = open_session_for_charting(actor, session, "record a missed checkpoint")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the checkpoint was missed."})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason to 500 characters."})
    now = timezone.now()
    state = monitoring.session_monitoring(session, now)
    if state is None or not state.adopted:
        raise ActionRefused("This session follows no monitoring protocol yet.")
    checkpoint = next((c for c in state.checkpoints if c.key == checkpoint_key), None)
    if checkpoint is None:
        raise ActionRefused("No such checkpoint in this session's protocol.")
    if checkpoint.state != monitoring.OVERDUE:
        raise ActionRefused(f"\u201c{checkpoint.name}\u201d is {checkpoint.state_label.lower()}, not overdue.")
    if checkpoint.miss is not None:
        raise ActionRefused(f"A reason was already recorded for \u201c{checkpoint.name}\u201d.")
    miss = CheckpointMiss.objects.create(
        session=session,
        checkpoint_key=checkpoint.key,
        checkpoint_name=checkpoint.name,
        due_at=checkpoint.due_at,
        reason=reason,
        recorded_by=actor.person,
        recorded_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHECKPOINT_MISSED,
        patient=session.patient,
        record=miss,
        changes=diff_fields({}, {"checkpoint": checkpoint.name, "due_at": checkpoint.due_at}),
        reason=reason,
    )
    return miss


def protocols_install_defaults(*, using: str = "default", **kwargs: object) -> None:
    """After `migrate`: the default protocols (records.monitoring.DEFAULT_PROTOCOLS), only when the
    clinic has none yet. Configuration a new clinic starts with; admins then edit it (audited).
    Nothing after a migration back to before the protocols' tables."""
    if getattr(settings, "MONITORING_DEFAULT_PROTOCOLS", True):
        install_default_protocols(using=using)


def install_default_protocols(*, using: str = "default") -> None:
    """The default protocols, when the clinic has none (and the tables exist)."""
    tables = connections[using].introspection.table_names()
    if ProtocolVersion._meta.db_table not in tables or MonitoringProtocol.objects.using(using).exists():
        return
    now = timezone.now()
    with transaction.atomic(using=using):
        for spec in monitoring.DEFAULT_PROTOCOLS:
            protocol = MonitoringProtocol.objects.using(using).create(name=spec["name"])
            ProtocolVersion.objects.using(using).create(
                protocol=protocol,
                number=1,
                routes=spec["routes"],
                min_observation_minutes=spec["min_observation_minutes"],
                checkpoints=spec["checkpoints"],
                created_at=now,
                reason="Default protocol",
            )
