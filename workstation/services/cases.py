"""The clerk's work on an accepted case: supplements, owed materials, withdraw, deliver, rate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from models import Applicant, Application, ApplicationMaterial, Event, Task
from workstation import tracking
from workstation.errors import Conflict, InvalidInput, NotFound
from workstation.services.applicants import clean_text
from workstation.services.auth import Actor, record, require, require_case_office
from workstation.services.intake import matter
from workstation.services.office import work_calendar
from workstation.services.tasks import OPEN_STATES, get_task


@dataclass(frozen=True)
class CaseView:
    """Everything about one application that a case screen or ``onewindow show`` needs."""

    application: Application
    applicant: Applicant
    materials: list[ApplicationMaterial]
    tasks: list[Task]
    events: list[Event]


def get_application(session: Session, tracking_no: str) -> Application:
    """The application with this tracking number (typos caught by its check character)."""
    number = tracking.normalise(tracking_no)
    application = session.get(Application, number)
    if application is None:
        raise NotFound("error.application.unknown", tracking_no=number)
    return application


def case_view(session: Session, *, actor: Actor, tracking_no: str) -> CaseView:
    """The application, its applicant, materials, tasks and signed timeline."""
    require(actor, "read_cases")
    application = get_application(session, tracking_no)
    applicant = session.get(Applicant, application.applicant_id)
    assert applicant is not None
    number = application.tracking_no
    materials = list(
        session.scalars(
            select(ApplicationMaterial).where(col(ApplicationMaterial.tracking_no) == number)
        )
    )
    tasks = list(session.scalars(select(Task).where(col(Task.tracking_no) == number)))
    events = [
        event
        for event in session.scalars(
            select(Event).where(col(Event.subject) == number).order_by(col(Event.id))
        )
    ]
    return CaseView(application, applicant, materials, tasks, events)


def owed_materials(session: Session, tracking_no: str) -> list[ApplicationMaterial]:
    """Materials still owed (容缺) or asked for again (补正): the 一次性告知 list."""
    query = select(ApplicationMaterial).where(
        col(ApplicationMaterial.tracking_no) == tracking_no,
        col(ApplicationMaterial.status).in_(("owed", "requested")),
    )
    return list(session.scalars(query))


def _ensure_status(application: Application, *allowed: str) -> None:
    if application.status not in allowed:
        raise Conflict("error.application.state", status=f"status.{application.status}")


def record_supplement(session: Session, *, actor: Actor, task_id: str, now: datetime) -> None:
    """The applicant brought what a department asked for: the task and the clocks resume."""
    require(actor, "handle_case")
    task = get_task(session, task_id)
    if task.state != "supplement" or task.paused_since is None:
        raise Conflict("error.task.not_waiting_supplement")
    application = session.get(Application, task.tracking_no)
    assert application is not None and task.due_date is not None
    require_case_office(actor, "supplement.received", application.origin)
    calendar, today = work_calendar(session), now.date()
    paused = calendar.workdays_between(task.paused_since, today)
    task_due = calendar.add_workdays(task.due_date, paused).date
    others_waiting = any(
        t.state == "supplement" and t.id != task.id
        for t in session.scalars(select(Task).where(col(Task.tracking_no) == task.tracking_no))
    )
    app_due = None
    if not others_waiting and application.paused_since and application.due_date:
        app_paused = calendar.workdays_between(application.paused_since, today)
        app_due = calendar.add_workdays(application.due_date, app_paused).date.isoformat()
    body = {
        "task": task.id,
        "materials": list(task.requested),
        "task_due": task_due.isoformat(),
        "app_due": app_due,
    }
    record(session, actor, "supplement.received", body, now)


def record_material(
    session: Session, *, actor: Actor, tracking_no: str, material: str, now: datetime
) -> None:
    """A 容缺 material promised at intake has arrived."""
    require(actor, "handle_case")
    application = get_application(session, tracking_no)
    require_case_office(actor, "material.received", application.origin)
    # Owed materials still count until delivery; a closed case takes nothing more.
    _ensure_status(application, "in_progress", "completed")
    row = session.get(ApplicationMaterial, (application.tracking_no, material))
    if row is None or row.status != "owed":
        raise InvalidInput("error.material.not_owed", material=material)
    record(
        session,
        actor,
        "material.received",
        {"tracking_no": application.tracking_no, "material": material},
        now,
    )


def withdraw(
    session: Session, *, actor: Actor, tracking_no: str, reason: str, now: datetime
) -> None:
    """撤回: the applicant withdraws; every unfinished task closes."""
    require(actor, "handle_case")
    application = get_application(session, tracking_no)
    require_case_office(actor, "application.withdrawn", application.origin)
    _ensure_status(application, "in_progress")
    reason = clean_text(reason, field="field.reason", max_length=500)
    closes = sorted(
        t.id
        for t in session.scalars(
            select(Task).where(col(Task.tracking_no) == application.tracking_no)
        )
        if t.state in OPEN_STATES
    )
    record(
        session,
        actor,
        "application.withdrawn",
        {"tracking_no": application.tracking_no, "reason": reason, "closes": closes},
        now,
    )


def deliver(session: Session, *, actor: Actor, tracking_no: str, now: datetime) -> None:
    """出件: hand the result over; refused while any 容缺 or 补正 material is still owed."""
    require(actor, "handle_case")
    application = get_application(session, tracking_no)
    require_case_office(actor, "application.delivered", application.origin)
    _ensure_status(application, "completed")
    owed = owed_materials(session, application.tracking_no)
    if owed:
        spec = matter(session, application.matter_code)
        names = "、".join(
            (m.name.zh if (m := spec.material(row.material_code)) else row.material_code)
            for row in owed
        )
        raise Conflict("error.deliver.owed", materials=names)
    record(session, actor, "application.delivered", {"tracking_no": application.tracking_no}, now)


def rate(
    session: Session,
    *,
    actor: Actor,
    tracking_no: str,
    score: int,
    comment: str = "",
    now: datetime,
) -> None:
    """好差评: the applicant's 1–5 rating, once, after delivery."""
    require(actor, "handle_case")
    application = get_application(session, tracking_no)
    require_case_office(actor, "application.rated", application.origin)
    _ensure_status(application, "delivered")
    if application.rating is not None:
        raise Conflict("error.rating.done")
    if not 1 <= score <= 5:
        raise InvalidInput("error.rating.range")
    comment = clean_text(comment, field="field.comment", max_length=500, required=False)
    record(
        session,
        actor,
        "application.rated",
        {"tracking_no": application.tracking_no, "score": score, "comment": comment},
        now,
    )
