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
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import Application, ApplicationMaterial, CaseEvent, Event, Task

Envelope = dict[str, Any]
Handler = Callable[[Session, Envelope, dict[str, Any], datetime], None]


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
    at = event_time(envelope["ts"]).astimezone(UTC).isoformat(timespec="milliseconds")
    return f"{at} {envelope['origin']} {envelope['seq']:012d}"


_LATEST = "caseorder.latest"
"""Where a session keeps the latest order key of each case it read or placed an event of."""


def latest_key(session: Session, tracking_no: str) -> str | None:
    """The order key of the last event applied to an application (None if it has none)."""
    known: dict[str, str | None] = session.info.setdefault(_LATEST, {})
    if tracking_no not in known:
        query = select(func.max(CaseEvent.order_key)).where(
            col(CaseEvent.tracking_no) == tracking_no
        )
        known[tracking_no] = session.scalar(query)
    return known[tracking_no]


def forget_latest(session: Session) -> None:
    """Drop what ``latest_key`` remembers (after case events were deleted in bulk)."""
    session.info.pop(_LATEST, None)


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


def place(session: Session, subject: str, env: Envelope, outcome: str, reason: str) -> None:
    """Keep ``env`` at its place in its case, with what became of it."""
    key = order_key(env)
    known = session.info.get(_LATEST, {})
    if subject in known:
        # Only this function writes case events: what it places is the latest, or not.
        known[subject] = max(known[subject] or "", key)
    session.add(
        CaseEvent(
            tracking_no=subject,
            order_key=key,
            origin=env["origin"],
            seq=env["seq"],
            outcome=outcome,
            reason=reason,
        )
    )


def apply_in_case(
    session: Session, subject: str, env: Envelope, handlers: Mapping[str, Handler]
) -> None:
    """Apply an event at the end of its case, or keep it as superseded if it no longer fits."""
    found = superseding_state(session, env)
    if found is None:
        handlers[env["type"]](session, env, env["body"], event_time(env["ts"]))
    place(session, subject, env, "applied" if found is None else "superseded", found or "")


def superseding_state(session: Session, env: Envelope) -> str | None:
    """The state that makes ``env`` no longer allowed at its place (None if it is)."""
    kind, body = env["type"], env["body"]
    if kind == "task.released":
        return None if task_of(session, body["task"]).claimed_by else "state.unclaimed"
    if kind in _ALLOWED_TASK_STATES:
        task = task_of(session, body["task"])
        return None if task.state in _ALLOWED_TASK_STATES[kind] else f"state.{task.state}"
    application = application_of(session, body["tracking_no"])
    if application.status not in _ALLOWED_STATUSES.get(kind, (application.status,)):
        return f"status.{application.status}"
    if kind == "application.rated" and application.rating is not None:
        return "status.rated"
    if kind == "material.received":
        row = session.get(ApplicationMaterial, (body["tracking_no"], body["material"]))
        if row is not None and row.status != "owed":
            return "status.received"
    return None


def replay(
    session: Session,
    subject: str,
    log: Session,
    handlers: Mapping[str, Handler],
    openers: Mapping[str, Handler],
) -> None:
    """Project one application again from its events in the agreed order."""
    held = list(
        session.scalars(
            select(CaseEvent)
            .where(col(CaseEvent.tracking_no) == subject)
            .order_by(col(CaseEvent.order_key))
        )
    )
    wanted = {(p.origin, p.seq) for p in held}
    envelopes: dict[tuple[str, int], Envelope] = {}
    for payload in log.scalars(select(col(Event.payload)).where(col(Event.subject) == subject)):
        envelope = json.loads(payload)
        if (envelope["origin"], envelope["seq"]) in wanted:
            envelopes[(envelope["origin"], envelope["seq"])] = envelope
    for task in session.scalars(select(Task).where(col(Task.tracking_no) == subject)):
        session.delete(task)
    for material in session.scalars(
        select(ApplicationMaterial).where(col(ApplicationMaterial.tracking_no) == subject)
    ):
        session.delete(material)
    session.flush()
    session.delete(application_of(session, subject))
    for stale in held:
        session.delete(stale)
    session.flush()
    for row in held:
        env = envelopes[(row.origin, row.seq)]
        if row.outcome == "quarantined":
            place(session, subject, env, row.outcome, row.reason)
        elif env["type"] in OPENERS:
            openers[env["type"]](session, env, env["body"], event_time(env["ts"]))
            place(session, subject, env, "applied", "")
        else:
            apply_in_case(session, subject, env, handlers)
        session.flush()


def task_of(session: Session, task_id: str) -> Task:
    """The task an event names (an unknown one is a broken log)."""
    task = session.get(Task, task_id)
    if task is None:
        raise ValueError(f"event refers to unknown task {task_id}")
    return task


def application_of(session: Session, tracking_no: str) -> Application:
    """The application an event names (an unknown one is a broken log)."""
    application = session.get(Application, tracking_no)
    if application is None:
        raise ValueError(f"event refers to unknown application {tracking_no}")
    return application
