"""Projections of an application's events: intake, department decisions, delivery.

Each handler runs at the event's place in its case's agreed order (``caseorder``), after
``caseorder.superseding_state`` found the event still allowed there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from models import Applicant, Application, ApplicationMaterial, Task
from workstation.caseorder import UNFINISHED, Envelope, event_time
from workstation.caseorder import application_of as _application
from workstation.caseorder import task_of as _task
from workstation.datakey import LEGACY
from workstation.identity import mask_id, mask_phone
from workstation.projector import handles, handles_opener
from workstation.rows import Rows


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def applicant_ref(data: dict[str, Any]) -> str:
    """The applicant's reference in an event body (old bodies carried the ID number itself)."""
    return str(data["ref"] if "ref" in data else LEGACY + data["id_number"])


def _numbers(data: dict[str, Any]) -> dict[str, str]:
    if "ref" in data:
        fields = ("id_sealed", "id_masked", "phone_ref", "phone_sealed", "phone_masked")
        return {name: data[name] for name in fields}
    # Signed before numbers were sealed: what the log holds in clear cannot be unsaid.
    return {
        "id_sealed": "",
        "id_masked": mask_id(data["id_number"]),
        "phone_ref": LEGACY + data["phone"] if data["phone"] else "",
        "phone_sealed": "",
        "phone_masked": mask_phone(data["phone"]),
    }


def _upsert_applicant(rows: Rows, data: dict[str, Any], at: datetime) -> None:
    ref = applicant_ref(data)
    applicant = rows.get(Applicant, ref) or rows.add(
        Applicant,
        ref=ref,
        kind=data["kind"],
        id_kind=data["id_kind"],
        name=data["name"],
        initials=data["initials"],
        id_masked="",
        id_sealed="",
        registered_at=at,
    )
    applicant.name, applicant.initials = data["name"], data["initials"]
    applicant.address = data["address"]
    for name, value in _numbers(data).items():
        setattr(applicant, name, value)
    rows.flush()


@handles("application.accepted")
def _accepted(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _upsert_applicant(rows, body["applicant"], at)
    _accepted_case(rows, env, body, at)


def _accepted_case(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    tracking_no = body["tracking_no"]
    rows.add(
        Application,
        tracking_no=tracking_no,
        origin=env["origin"],
        matter_code=body["matter"],
        matter_version=body["version"],
        applicant_id=applicant_ref(body["applicant"]),
        status="in_progress",
        accepted_at=at,
        accepted_by=env["actor"],
        due_date=_date(body["due"]),
        due_estimated=body["due_estimated"],
        form=body["form"],
        access_code=body.get("access"),
    )
    rows.flush()
    for code in body["received"]:
        rows.add(
            ApplicationMaterial,
            tracking_no=tracking_no,
            material_code=code,
            status="received",
            received_at=at,
        )
    for owed in body["owed"]:
        rows.add(
            ApplicationMaterial,
            tracking_no=tracking_no,
            material_code=owed["code"],
            status="owed",
            promised_date=_date(owed["promised"]),
        )
    for task in body["tasks"]:
        is_open = task["state"] == "open"
        rows.tally(task["department"], None, task["state"])
        rows.add(
            Task,
            id=f"{tracking_no}/{task['code']}",
            tracking_no=tracking_no,
            task_code=task["code"],
            department_code=task["department"],
            state=task["state"],
            opened_at=at if is_open else None,
            due_date=_date(task.get("due")),
            # Given, not defaulted: pydantic inspects a default factory's signature on
            # every construction (about 0.2 ms a task, six tasks a hotel intake).
            requested=[],
        )


@handles("application.refused")
def _refused(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _upsert_applicant(rows, body["applicant"], at)
    _refused_case(rows, env, body, at)


def _refused_case(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    rows.add(
        Application,
        tracking_no=body["tracking_no"],
        origin=env["origin"],
        matter_code=body["matter"],
        matter_version=body["version"],
        applicant_id=applicant_ref(body["applicant"]),
        status="refused",
        accepted_at=at,
        accepted_by=env["actor"],
        reason=body["reason"],
        completed_at=at,
    )


# Replayed, an application's first event makes its case only: the applicant row is shared.
handles_opener("application.accepted", _accepted_case)
handles_opener("application.refused", _refused_case)


@handles("task.claimed")
def _claimed(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    task.claimed_by = body.get("to", env["actor"])
    task.claim_expires = event_time(body["until"])


handles("task.reassigned")(_claimed)


@handles("task.released")
def _released(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    task.claimed_by, task.claim_expires = None, None


def _move(rows: Rows, task: Task, state: str) -> None:
    """Put ``task`` in ``state``, and the department's tally with it."""
    rows.tally(task.department_code, task.state, state)
    task.state = state


def _decide(rows: Rows, task: Task, env: Envelope, at: datetime, state: str) -> None:
    _move(rows, task, state)
    task.decided_by, task.decided_at = env["actor"], at
    task.claimed_by, task.claim_expires = None, None
    task.paused_since, task.requested = None, []


def _close(rows: Rows, task_ids: list[str], at: datetime) -> None:
    for task_id in task_ids:
        task = _task(rows, task_id)
        if task.state not in UNFINISHED:
            continue  # decided at another level before this, in the agreed order
        _move(rows, task, "closed")
        task.decided_at = at
        task.claimed_by, task.claim_expires, task.paused_since = None, None, None
        task.requested = []


@handles("task.approved")
def _approved(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    _decide(rows, task, env, at, "approved")
    task.permit_no = body["permit_no"]
    for opened in body["opens"]:
        nxt = _task(rows, f"{task.tracking_no}/{opened['code']}")
        _move(rows, nxt, "open")
        nxt.opened_at, nxt.due_date = at, _date(opened["due"])
    # Whether the case is complete is read here, not from the body: two levels approving the
    # last two tasks at once each saw the other's still open.
    if all(sibling.state == "approved" for sibling in rows.tasks_of(task.tracking_no)):
        application = _application(rows, task.tracking_no)
        application.status, application.completed_at = "completed", at


@handles("task.rejected")
def _rejected(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    _decide(rows, task, env, at, "rejected")
    task.reason = body["reason"]
    _close(rows, body["closes"], at)
    application = _application(rows, task.tracking_no)
    application.status, application.completed_at = "rejected", at
    application.reason, application.paused_since = body["reason"], None


@handles("task.supplement_requested")
def _supplement_requested(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    _move(rows, task, "supplement")
    task.paused_since = at.date()
    task.requested, task.reason = list(body["materials"]), body["reason"]
    for code in body["materials"]:
        row = rows.get(ApplicationMaterial, (task.tracking_no, code)) or rows.add(
            ApplicationMaterial, tracking_no=task.tracking_no, material_code=code, status=""
        )
        row.status, row.received_at = "requested", None
    application = _application(rows, task.tracking_no)
    if application.paused_since is None:
        application.paused_since = at.date()


@handles("supplement.received")
def _supplement_received(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    task = _task(rows, body["task"])
    # What another waiting task also asked for stays owed until that task has it too.
    still = {
        code
        for other in rows.tasks_of(task.tracking_no)
        if other.id != task.id and other.state == "supplement"
        for code in other.requested
    }
    for code in body["materials"]:
        row = rows.get(ApplicationMaterial, (task.tracking_no, code))
        if row is not None and code not in still:
            row.status, row.received_at = "received", at
    _move(rows, task, "open")
    task.paused_since, task.requested = None, []
    task.due_date = _date(body["task_due"])
    if body["app_due"]:
        application = _application(rows, task.tracking_no)
        application.due_date, application.paused_since = _date(body["app_due"]), None


@handles("material.received")
def _material_received(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    row = rows.get(ApplicationMaterial, (body["tracking_no"], body["material"]))
    if row is None:
        raise ValueError("event refers to an unknown material")
    row.status, row.received_at = "received", at


@handles("application.withdrawn")
def _withdrawn(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _close(rows, body["closes"], at)
    application = _application(rows, body["tracking_no"])
    application.status, application.completed_at = "withdrawn", at
    application.reason, application.paused_since = body["reason"], None


@handles("application.delivered")
def _delivered(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    application = _application(rows, body["tracking_no"])
    application.status, application.delivered_at = "delivered", at


@handles("application.rated")
def _rated(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    application = _application(rows, body["tracking_no"])
    application.rating, application.rating_comment = body["score"], body["comment"]
