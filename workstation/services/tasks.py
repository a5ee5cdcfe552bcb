"""Department work: claim, approve, reject, ask for a supplement (并联审批)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from models import Application, Operator, Task
from workstation import eventlog
from workstation.errors import Conflict, InvalidInput, NotFound
from workstation.services.applicants import clean_text
from workstation.services.auth import Actor, record, require
from workstation.services.intake import matter
from workstation.services.office import work_calendar

OPEN_STATES = ("waiting", "open", "supplement")
"""States of a task that is not finished."""


def get_task(session: Session, task_id: str) -> Task:
    """The task ``task_id`` (``<tracking number>/<task code>``), or NotFound."""
    task = session.get(Task, task_id.strip())
    if task is None:
        raise NotFound("error.task.unknown", task=task_id)
    return task


def application_of(session: Session, task: Task) -> Application:
    """The application a task belongs to."""
    application = session.get(Application, task.tracking_no)
    assert application is not None  # a foreign key guarantees it
    return application


def _siblings(session: Session, tracking_no: str) -> list[Task]:
    return list(session.scalars(select(Task).where(col(Task.tracking_no) == tracking_no)))


def _ensure_open(task: Task, *, allow: tuple[str, ...] = ("open",)) -> None:
    if task.state in allow:
        return
    if task.decided_by:
        raise Conflict("error.task.decided", by=task.decided_by, state=f"state.{task.state}")
    raise Conflict("error.task.state", state=f"state.{task.state}")


def _claimed_by_other(task: Task, actor: Actor, now: datetime) -> bool:
    return bool(
        task.claimed_by
        and task.claimed_by != actor.username
        and task.claim_expires is not None
        and task.claim_expires > now
    )


def _ensure_not_claimed(task: Task, actor: Actor, now: datetime) -> None:
    if _claimed_by_other(task, actor, now):
        raise Conflict(
            "error.task.claimed",
            by=task.claimed_by,
            until=f"{task.claim_expires.astimezone(now.tzinfo):%H:%M}"
            if task.claim_expires
            else "",
        )


def claim(session: Session, *, actor: Actor, task_id: str, now: datetime, hours: int = 4) -> Task:
    """Take an open task for ``hours``; others in the department see it as taken."""
    task = get_task(session, task_id)
    require(actor, "decide", department=task.department_code)
    _ensure_open(task, allow=("open", "supplement"))
    _ensure_not_claimed(task, actor, now)
    until = eventlog.timestamp(now + timedelta(hours=hours))
    record(session, actor, "task.claimed", {"task": task.id, "until": until}, now)
    return task


def release(session: Session, *, actor: Actor, task_id: str, now: datetime) -> Task:
    """Give a claimed task back to the department (its holder, or a supervisor)."""
    task = get_task(session, task_id)
    if actor.role != "supervisor" or task.claimed_by == actor.username:
        require(actor, "decide", department=task.department_code)
        if task.claimed_by != actor.username:
            raise Conflict("error.task.not_yours")
    if not task.claimed_by:
        raise Conflict("error.task.not_claimed")
    record(session, actor, "task.released", {"task": task.id}, now)
    return task


def reassign(
    session: Session, *, actor: Actor, task_id: str, to: str, now: datetime, hours: int = 4
) -> Task:
    """A supervisor hands a task to another officer of its department."""
    require(actor, "reassign")
    task = get_task(session, task_id)
    _ensure_open(task, allow=OPEN_STATES)
    target = session.get(Operator, (actor.office_code, to))
    if target is None or not target.active:
        raise NotFound("error.operator.unknown", username=to)
    if target.role != "officer":
        raise InvalidInput("error.operator.not_officer", username=to)
    if task.department_code not in target.departments:
        raise InvalidInput(
            "error.task.wrong_department", username=to, department=task.department_code
        )
    until = eventlog.timestamp(now + timedelta(hours=hours))
    record(session, actor, "task.reassigned", {"task": task.id, "to": to, "until": until}, now)
    return task


def approve(
    session: Session, *, actor: Actor, task_id: str, permit_no: str = "", now: datetime
) -> list[str]:
    """Approve a task; returns the codes of the tasks that open because of it."""
    task = get_task(session, task_id)
    require(actor, "decide", department=task.department_code)
    _ensure_open(task)
    _ensure_not_claimed(task, actor, now)
    application = application_of(session, task)
    spec = matter(session, application.matter_code)
    permit = spec.task(task.task_code).permit
    if permit is not None and not permit_no.strip():
        raise InvalidInput("error.task.permit_required", permit=permit.model_dump())
    permit_no = clean_text(permit_no, field="field.permit_no", max_length=60, required=False)
    siblings = _siblings(session, task.tracking_no)
    approved = {t.task_code for t in siblings if t.state == "approved"} | {task.task_code}
    waiting = {t.task_code for t in siblings if t.state == "waiting"}
    calendar, today = work_calendar(session), now.date()
    opens = [
        {"code": t.code, "due": calendar.add_workdays(today, t.time_limit_days).date.isoformat()}
        for t in spec.ready_after(approved)
        if t.code in waiting
    ]
    body = {
        "task": task.id,
        "permit_no": permit_no,
        "opens": opens,
        "completed": approved == {t.code for t in spec.tasks},
    }
    record(session, actor, "task.approved", body, now)
    return [o["code"] for o in opens]


def reject(session: Session, *, actor: Actor, task_id: str, reason: str, now: datetime) -> None:
    """Reject a task with a reason; the application ends and its open tasks close."""
    task = get_task(session, task_id)
    require(actor, "decide", department=task.department_code)
    _ensure_open(task, allow=("open", "supplement"))
    _ensure_not_claimed(task, actor, now)
    reason = clean_text(reason, field="field.reason", max_length=500)
    closes = sorted(
        t.id
        for t in _siblings(session, task.tracking_no)
        if t.id != task.id and t.state in OPEN_STATES
    )
    record(
        session, actor, "task.rejected", {"task": task.id, "reason": reason, "closes": closes}, now
    )


def request_supplement(
    session: Session,
    *,
    actor: Actor,
    task_id: str,
    materials: list[str],
    reason: str,
    now: datetime,
) -> None:
    """补正: ask for materials; the task's clock and the case's clock stop until they come."""
    task = get_task(session, task_id)
    require(actor, "decide", department=task.department_code)
    _ensure_open(task)
    _ensure_not_claimed(task, actor, now)
    spec = matter(session, application_of(session, task).matter_code)
    if not materials:
        raise InvalidInput("error.supplement.no_materials")
    for code in materials:
        if spec.material(code) is None:
            raise InvalidInput("error.material.unknown", material=code)
    reason = clean_text(reason, field="field.reason", max_length=500)
    by = work_calendar(session).add_workdays(now.date(), spec.supplement_days).date
    body = {
        "task": task.id,
        "materials": sorted(set(materials)),
        "reason": reason,
        "by": by.isoformat(),
    }
    record(session, actor, "task.supplement_requested", body, now)
