"""Apply one event envelope to the projections; used live by ``append`` and by ``rebuild``.

Every value comes from the envelope alone (no clock, no calendar, no settings), so that the
projections replayed from the log are identical to the ones kept live (invariant 3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models import (
    Applicant,
    Application,
    ApplicationMaterial,
    CalendarYear,
    ChainHead,
    Department,
    Matter,
    Office,
    Operator,
    Task,
)

Envelope = dict[str, Any]
Handler = Callable[[Session, Envelope, dict[str, Any], datetime], None]
_HANDLERS: dict[str, Handler] = {}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register the projection handler of ``event_type``."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[event_type] = handler
        return handler

    return register


def event_types() -> frozenset[str]:
    """Every event type the projector knows."""
    return frozenset(_HANDLERS)


def event_time(ts: str) -> datetime:
    """The event's time, aware, with its office's UTC offset (``date()`` is the office's day)."""
    return datetime.fromisoformat(ts)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def apply(session: Session, envelope: Envelope, digest: str) -> None:
    """Project ``envelope`` (whose payload hashes to ``digest``); unknown types are errors."""
    handler = _HANDLERS.get(envelope["type"])
    if handler is None:
        raise ValueError(f"no projection for event type {envelope['type']!r}")
    handler(session, envelope, envelope["body"], event_time(envelope["ts"]))
    head = session.get(ChainHead, envelope["origin"])
    if head is None:
        session.add(ChainHead(origin=envelope["origin"], seq=envelope["seq"], hash=digest))
    else:
        head.seq, head.hash = envelope["seq"], digest
        session.add(head)
    session.flush()


def _task(session: Session, task_id: str) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise ValueError(f"event refers to unknown task {task_id}")
    return task


def _application(session: Session, tracking_no: str) -> Application:
    application = session.get(Application, tracking_no)
    if application is None:
        raise ValueError(f"event refers to unknown application {tracking_no}")
    return application


def _operator(body: dict[str, Any]) -> Operator:
    return Operator(
        username=body["username"],
        name=body["name"],
        role=body["role"],
        office_code=body["office"],
        departments=list(body["departments"]),
        key_id=body["key_id"],
        public_key=body["public_key"],
    )


@handles("office.opened")
def _office_opened(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    # The first genesis a database sees is its own office's; later ones (at a hub) are of
    # offices below, whose rows may already exist from their enrolment.
    first = session.scalars(select(Office).where(col(Office.local) == True)).first() is None  # noqa: E712
    parent = body.get("parent")
    if parent and session.get(Office, parent["code"]) is None:
        session.add(Office(code=parent["code"], name=parent["name"], level=parent["level"]))
    spec = body["office"]
    office = session.get(Office, spec["code"]) or Office(code=spec["code"], name="", level="")
    office.name, office.level = spec["name"], spec["level"]
    office.parent_code = parent["code"] if parent else office.parent_code
    office.local = first
    office.demo = bool(body.get("demo", False)) and first
    session.add(office)
    session.flush()
    session.add(_operator(body["admin"]))


def _from_below(session: Session, env: Envelope) -> bool:
    """True for an event of an office enrolled below this one (relayed up by sync)."""
    office = session.get(Office, env["origin"])
    return office is not None and office.enrolled


@handles("office.key_registered")
def _office_key(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = session.get(Office, body["office"])
    if office is None:
        raise ValueError("event refers to an unknown office")
    if office.enrolled:
        return  # the key this office enrolled it with stays; re-keying is a new enrolment
    office.key_id, office.public_key = body["key_id"], body["public_key"]
    session.add(office)


@handles("office.upstream_registered")
def _upstream(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(session, env):
        return  # where an office below syncs to is its own business
    office = session.get(Office, body["code"]) or Office(code=body["code"], name="", level="")
    office.name, office.level = body["name"], body["level"]
    office.key_id, office.public_key = body["key_id"], body["public_key"]
    session.add(office)
    here = session.get(Office, env["origin"])
    if here is not None:
        here.parent_code = body["code"]
        session.add(here)


@handles("office.enrolled")
def _office_enrolled(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = session.get(Office, body["code"]) or Office(code=body["code"], name="", level="")
    office.name, office.level, office.parent_code = body["name"], body["level"], body["parent"]
    office.key_id, office.public_key = body["key_id"], body["public_key"]
    office.enrolled, office.revoked_at = True, None
    session.add(office)


@handles("office.revoked")
def _office_revoked(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = session.get(Office, body["code"])
    if office is None:
        raise ValueError("event refers to an unknown office")
    office.revoked_at = at
    session.add(office)


@handles("operator.registered")
def _operator_registered(
    session: Session, env: Envelope, body: dict[str, Any], at: datetime
) -> None:
    session.add(_operator(body))


@handles("operator.revoked")
def _operator_revoked(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    operator = session.get(Operator, (env["origin"], body["username"]))
    if operator is not None:
        operator.active = False
        session.add(operator)


@handles("catalog.published")
def _catalog(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(session, env):
        return  # the catalog flows down from the level that publishes it, never up
    for item in body["departments"]:
        session.merge(Department(**item))
    session.flush()
    for item in body["matters"]:
        definition = item["definition"]
        session.merge(
            Matter(
                code=definition["code"],
                version=definition["version"],
                name_zh=definition["name"]["zh"],
                name_en=definition["name"]["en"],
                initials=item["initials"],
                applicant_kind=definition["applicant_kind"],
                definition=definition,
            )
        )


@handles("calendar.loaded")
def _calendar(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(session, env):
        return  # holidays, like the catalog, flow down only
    session.merge(CalendarYear(year=body["schedule"]["year"], schedule=body["schedule"]))


def _upsert_applicant(session: Session, data: dict[str, Any], at: datetime) -> None:
    applicant = session.get(Applicant, data["id_number"])
    if applicant is None:
        applicant = Applicant(
            id_number=data["id_number"],
            kind=data["kind"],
            id_kind=data["id_kind"],
            name=data["name"],
            initials=data["initials"],
            registered_at=at,
        )
    applicant.name, applicant.initials = data["name"], data["initials"]
    applicant.phone, applicant.address = data["phone"], data["address"]
    applicant.birth_date, applicant.gender = _date(data.get("birth_date")), data.get("gender")
    session.add(applicant)
    session.flush()


@handles("application.accepted")
def _accepted(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _upsert_applicant(session, body["applicant"], at)
    tracking_no = body["tracking_no"]
    session.add(
        Application(
            tracking_no=tracking_no,
            origin=env["origin"],
            matter_code=body["matter"],
            matter_version=body["version"],
            applicant_id=body["applicant"]["id_number"],
            status="in_progress",
            accepted_at=at,
            accepted_by=env["actor"],
            due_date=_date(body["due"]),
            due_estimated=body["due_estimated"],
            form=body["form"],
        )
    )
    session.flush()
    for code in body["received"]:
        session.add(
            ApplicationMaterial(
                tracking_no=tracking_no, material_code=code, status="received", received_at=at
            )
        )
    for owed in body["owed"]:
        session.add(
            ApplicationMaterial(
                tracking_no=tracking_no,
                material_code=owed["code"],
                status="owed",
                promised_date=_date(owed["promised"]),
            )
        )
    for task in body["tasks"]:
        is_open = task["state"] == "open"
        session.add(
            Task(
                id=f"{tracking_no}/{task['code']}",
                tracking_no=tracking_no,
                task_code=task["code"],
                department_code=task["department"],
                state=task["state"],
                opened_at=at if is_open else None,
                due_date=_date(task.get("due")),
            )
        )


@handles("application.refused")
def _refused(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _upsert_applicant(session, body["applicant"], at)
    session.add(
        Application(
            tracking_no=body["tracking_no"],
            origin=env["origin"],
            matter_code=body["matter"],
            matter_version=body["version"],
            applicant_id=body["applicant"]["id_number"],
            status="refused",
            accepted_at=at,
            accepted_by=env["actor"],
            reason=body["reason"],
            completed_at=at,
        )
    )


@handles("task.claimed")
def _claimed(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(session, body["task"])
    task.claimed_by = body.get("to", env["actor"])
    task.claim_expires = event_time(body["until"])
    session.add(task)


handles("task.reassigned")(_claimed)


@handles("task.released")
def _released(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(session, body["task"])
    task.claimed_by, task.claim_expires = None, None
    session.add(task)


def _decide(task: Task, env: Envelope, at: datetime, state: str) -> None:
    task.state, task.decided_by, task.decided_at = state, env["actor"], at
    task.claimed_by, task.claim_expires = None, None
    task.paused_since, task.requested = None, []


def _close(session: Session, task_ids: list[str], at: datetime) -> None:
    for task_id in task_ids:
        task = _task(session, task_id)
        task.state, task.decided_at = "closed", at
        task.claimed_by, task.claim_expires, task.paused_since = None, None, None
        task.requested = []
        session.add(task)


@handles("task.approved")
def _approved(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(session, body["task"])
    _decide(task, env, at, "approved")
    task.permit_no = body["permit_no"]
    session.add(task)
    for opened in body["opens"]:
        nxt = _task(session, f"{task.tracking_no}/{opened['code']}")
        nxt.state, nxt.opened_at, nxt.due_date = "open", at, _date(opened["due"])
        session.add(nxt)
    if body["completed"]:
        application = _application(session, task.tracking_no)
        application.status, application.completed_at = "completed", at
        session.add(application)


@handles("task.rejected")
def _rejected(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(session, body["task"])
    _decide(task, env, at, "rejected")
    task.reason = body["reason"]
    session.add(task)
    _close(session, body["closes"], at)
    application = _application(session, task.tracking_no)
    application.status, application.completed_at = "rejected", at
    application.reason, application.paused_since = body["reason"], None
    session.add(application)


@handles("task.supplement_requested")
def _supplement_requested(
    session: Session, env: Envelope, body: dict[str, Any], at: datetime
) -> None:
    task = _task(session, body["task"])
    task.state, task.paused_since = "supplement", at.date()
    task.requested, task.reason = list(body["materials"]), body["reason"]
    session.add(task)
    for code in body["materials"]:
        row = session.get(ApplicationMaterial, (task.tracking_no, code))
        row = row or ApplicationMaterial(
            tracking_no=task.tracking_no, material_code=code, status="requested"
        )
        row.status, row.received_at = "requested", None
        session.add(row)
    application = _application(session, task.tracking_no)
    if application.paused_since is None:
        application.paused_since = at.date()
        session.add(application)


@handles("supplement.received")
def _supplement_received(
    session: Session, env: Envelope, body: dict[str, Any], at: datetime
) -> None:
    task = _task(session, body["task"])
    # What another waiting task also asked for stays owed until that task has it too.
    still = {
        code
        for other in session.scalars(select(Task).where(col(Task.tracking_no) == task.tracking_no))
        if other.id != task.id and other.state == "supplement"
        for code in other.requested
    }
    for code in body["materials"]:
        row = session.get(ApplicationMaterial, (task.tracking_no, code))
        if row is not None and code not in still:
            row.status, row.received_at = "received", at
            session.add(row)
    task.state, task.paused_since, task.requested = "open", None, []
    task.due_date = _date(body["task_due"])
    session.add(task)
    if body["app_due"]:
        application = _application(session, task.tracking_no)
        application.due_date, application.paused_since = _date(body["app_due"]), None
        session.add(application)


@handles("material.received")
def _material_received(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    row = session.get(ApplicationMaterial, (body["tracking_no"], body["material"]))
    if row is None:
        raise ValueError("event refers to an unknown material")
    row.status, row.received_at = "received", at
    session.add(row)


@handles("application.withdrawn")
def _withdrawn(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _close(session, body["closes"], at)
    application = _application(session, body["tracking_no"])
    application.status, application.completed_at = "withdrawn", at
    application.reason, application.paused_since = body["reason"], None
    session.add(application)


@handles("application.delivered")
def _delivered(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    application = _application(session, body["tracking_no"])
    application.status, application.delivered_at = "delivered", at
    session.add(application)


@handles("application.rated")
def _rated(session: Session, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    application = _application(session, body["tracking_no"])
    application.rating, application.rating_comment = body["score"], body["comment"]
    session.add(application)
