"""The one order in which every office applies an application's events.

Events of one application made at two levels arrive in different orders at different offices.
Each office applies them by their order key (signed time in UTC, origin, sequence); one that
arrives after a later one replays the case in that order. An event no longer allowed at its
place (a withdrawal after the county approved the last task) is kept and marked superseded
with the state it found: the same at every office, and never silently dropped. Signing times
follow a hybrid clock (``not_before``), so an answer never sorts before what it answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from models import Application, ApplicationMaterial, CaseEvent, Event, Task
from workstation.rows import Rows

Envelope = dict[str, Any]
Handler = Callable[[Rows, Envelope, dict[str, Any], datetime], None]


def event_time(ts: str) -> datetime:
    """The event's time, aware, with its office's UTC offset (``date()`` is the office's day)."""
    return datetime.fromisoformat(ts)


OPENERS = frozenset({"application.accepted", "application.refused"})
"""Events that create an application; every other event of it comes after them."""
UNFINISHED = ("waiting", "open", "supplement")
_ALLOWED_TASK_STATES: dict[str, tuple[str, ...]] = {
    "task.claimed": ("open", "supplement"),
    "task.reassigned": UNFINISHED,
    "task.approved": ("open",),
    "task.rejected": ("open", "supplement"),
    "task.supplement_requested": ("open",),
    "supplement.received": ("supplement",),
}
_ALLOWED_STATUSES: dict[str, tuple[str, ...]] = {
    "application.withdrawn": ("in_progress",),
    "application.delivered": ("completed",),
    "application.rated": ("delivered",),
    "material.received": ("in_progress", "completed"),
}
"""What each event needs to find: the services' own rules, checked again in the agreed order."""


def subject_of(envelope: Envelope) -> str | None:
    """The tracking number an event is about, from its body (None for office events)."""
    body = envelope["body"]
    if isinstance(body.get("tracking_no"), str):
        return str(body["tracking_no"])
    if isinstance(body.get("task"), str):
        return str(body["task"]).split("/", 1)[0]
    return None


def order_key(envelope: Envelope) -> str:
    """The event's place among its application's events, the same at every office."""
    return _order_key(envelope["ts"], envelope["origin"], envelope["seq"])


@lru_cache(maxsize=1024)
def _order_key(ts: str, origin: str, seq: int) -> str:
    # Cached: an event's key is asked for where it is compared and again where it is placed.
    at = event_time(ts).astimezone(UTC).isoformat(timespec="milliseconds")
    return f"{at} {origin} {seq:012d}"


def not_before(latest: str | None, origin: str, now: datetime) -> datetime:
    """The time to sign a new event of an application at: after everything known of it.

    A hybrid clock: an office whose clock is behind still signs after the events it saw, so
    the agreed order never puts an action before what it answered.
    """
    if latest is None:
        return now
    stamp, last_origin, _ = latest.split(" ")
    floor = datetime.fromisoformat(stamp)
    if last_origin != origin:
        floor += timedelta(milliseconds=1)
    return max(now, floor.astimezone(now.tzinfo))


def place(rows: Rows, subject: str, env: Envelope, outcome: str, reason: str) -> None:
    """Keep ``env`` at its place in its case, with what became of it."""
    key = order_key(env)
    rows.placed(subject, key)
    rows.add(
        CaseEvent,
        tracking_no=subject,
        order_key=key,
        origin=env["origin"],
        seq=env["seq"],
        outcome=outcome,
        reason=reason,
    )


def apply_in_case(rows: Rows, subject: str, env: Envelope, handlers: Mapping[str, Handler]) -> None:
    """Apply an event at the end of its case, or keep it as superseded if it no longer fits."""
    found = superseding_state(rows, env)
    if found is None:
        handlers[env["type"]](rows, env, env["body"], event_time(env["ts"]))
    place(rows, subject, env, "applied" if found is None else "superseded", found or "")


def superseding_state(rows: Rows, env: Envelope) -> str | None:
    """The state that makes ``env`` no longer allowed at its place (None if it is)."""
    kind, body = env["type"], env["body"]
    if kind == "task.released":
        return None if task_of(rows, body["task"]).claimed_by else "state.unclaimed"
    if kind in _ALLOWED_TASK_STATES:
        task = task_of(rows, body["task"])
        return None if task.state in _ALLOWED_TASK_STATES[kind] else f"state.{task.state}"
    application = application_of(rows, body["tracking_no"])
    if application.status not in _ALLOWED_STATUSES.get(kind, (application.status,)):
        return f"status.{application.status}"
    if kind == "application.rated" and application.rating is not None:
        return "status.rated"
    if kind == "material.received":
        row = rows.get(ApplicationMaterial, (body["tracking_no"], body["material"]))
        if row is not None and row.status != "owed":
            return "status.received"
    return None


def replay(
    rows: Rows, subject: str, handlers: Mapping[str, Handler], openers: Mapping[str, Handler]
) -> None:
    """Project one application again from its events in the agreed order."""
    held = rows.case_events(subject)
    wanted = {(p.origin, p.seq) for p in held}
    envelopes: dict[tuple[str, int], Envelope] = {}
    query = select(col(Event.payload)).where(col(Event.subject) == subject)
    for payload in rows.log.scalars(query):
        envelope = json.loads(payload)
        if (envelope["origin"], envelope["seq"]) in wanted:
            envelopes[(envelope["origin"], envelope["seq"])] = envelope
    for task in rows.tasks_of(subject):
        rows.tally(task.department_code, task.state, None)
        rows.delete(task)
    for material in rows.materials_of(subject):
        rows.delete(material)
    rows.flush()
    rows.delete(application_of(rows, subject))
    for stale in held:
        rows.delete(stale)
    rows.flush()
    for row in held:
        env = envelopes[(row.origin, row.seq)]
        if row.outcome == "quarantined":
            place(rows, subject, env, row.outcome, row.reason)
        elif env["type"] in OPENERS:
            openers[env["type"]](rows, env, env["body"], event_time(env["ts"]))
            place(rows, subject, env, "applied", "")
        else:
            apply_in_case(rows, subject, env, handlers)
        rows.flush()


def task_of(rows: Rows, task_id: str) -> Task:
    """The task an event names (an unknown one is a broken log)."""
    task = rows.get(Task, task_id)
    if task is None:
        raise ValueError(f"event refers to unknown task {task_id}")
    return task


def application_of(rows: Rows, tracking_no: str) -> Application:
    """The application an event names (an unknown one is a broken log)."""
    application = rows.get(Application, tracking_no)
    if application is None:
        raise ValueError(f"event refers to unknown application {tracking_no}")
    return application
