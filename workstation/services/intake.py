"""一窗受理: accept an application once and open every department task that can start."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from models import Matter as MatterRow
from workstation import eventlog, tracking
from workstation.catalog.schema import FieldSpec, Matter
from workstation.errors import InvalidInput, NotFound
from workstation.services import applicants
from workstation.services.applicants import ApplicantInput, clean_text
from workstation.services.auth import Actor, record, require
from workstation.services.office import work_calendar
from workstation.workdays import WorkCalendar

ACCESS_DIGITS = 6
"""Digits of the access code on the receipt (the tracking lookup slows down repeated guesses)."""


def access_code(actor: Actor, tracking_no: str) -> str:
    """The code printed on the receipt: with it, and only with it, anyone may see the status.

    Taken from the clerk's signature of the number (Ed25519 signs deterministically), so it
    is unpredictable without the clerk's key and the same every time it is made.
    """
    signature = actor.signer.sign(f"access|{tracking_no}".encode())
    return f"{int.from_bytes(signature[:8], 'big') % 10**ACCESS_DIGITS:0{ACCESS_DIGITS}d}"


@dataclass(frozen=True)
class IntakeRequest:
    """Everything the clerk collected at the window for one application."""

    applicant: ApplicantInput
    matter_code: str
    received: tuple[str, ...] = ()
    deferred: dict[str, date] = field(default_factory=dict)
    """容缺: material code → the date the applicant promised to bring it."""
    form: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedTask:
    """One task of the fan-out: when it opens and when it is due."""

    code: str
    department: str
    opens_at_once: bool
    waits_for: tuple[str, ...]
    due: date
    """For a waiting task, the due date if every earlier task took its full time."""


@dataclass(frozen=True)
class FanOut:
    """What accepting would do: the tasks, the case's due date, what stays owed."""

    tasks: tuple[PlannedTask, ...]
    due: date
    estimated: bool
    """True when a due date counts a year without an official holiday schedule."""


@dataclass(frozen=True)
class IntakeResult:
    """An accepted application: its tracking number and its fan-out."""

    tracking_no: str
    fan_out: FanOut
    owed: dict[str, date]


def matter(session: Session, code: str) -> Matter:
    """The published matter ``code``, validated; NotFound if the catalog has no such matter."""
    row = session.get(MatterRow, code.strip())
    if row is None:
        raise NotFound("error.matter.unknown", code=code)
    return Matter.model_validate(row.definition)


def plan(matter: Matter, calendar: WorkCalendar, today: date) -> FanOut:
    """The fan-out of ``matter`` accepted ``today``: parallel tasks and dependent ones."""
    due: dict[str, date] = {}
    estimated = False
    pending = list(matter.tasks)
    while pending:  # the routing is a DAG (checked on load), so this ends
        for spec in list(pending):
            if all(dep in due for dep in spec.depends_on):
                start = max((due[dep] for dep in spec.depends_on), default=today)
                result = calendar.add_workdays(start, spec.time_limit_days)
                due[spec.code], estimated = result.date, estimated or result.estimated
                pending.remove(spec)
    case_due = calendar.add_workdays(today, matter.time_limit_days)
    tasks = tuple(
        PlannedTask(t.code, t.department, not t.depends_on, t.depends_on, due[t.code])
        for t in matter.tasks
    )
    return FanOut(tasks, case_due.date, estimated or case_due.estimated)


def _form_value(spec: FieldSpec, raw: str) -> str:
    label = spec.name.model_dump()
    if spec.kind == "text":
        return clean_text(raw, field=label, max_length=spec.max_length, required=spec.required)
    value = raw.strip()
    if spec.kind == "integer":
        if not re.fullmatch(r"-?\d{1,12}", value):
            raise InvalidInput("error.field.integer", field=label)
        return str(int(value))
    if spec.kind == "decimal":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise InvalidInput("error.field.decimal", field=label) from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 12:
            raise InvalidInput("error.field.decimal", field=label)
        return str(number)
    if spec.kind == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise InvalidInput("error.field.date", field=label) from None
    if value not in spec.choices:
        raise InvalidInput("error.field.choice", field=label, choices="、".join(spec.choices))
    return value


def _check_form(matter: Matter, form: dict[str, str]) -> dict[str, str]:
    specs = {spec.code: spec for spec in matter.fields}
    for code in form:
        if code not in specs:
            raise InvalidInput("error.field.unknown", field=code)
    checked: dict[str, str] = {}
    for spec in matter.fields:
        raw = form.get(spec.code, "")
        if not raw.strip():
            if spec.required:
                raise InvalidInput("error.field.required", field=spec.name.model_dump())
            continue
        checked[spec.code] = _form_value(spec, raw)
    return checked


def _check_materials(matter: Matter, request: IntakeRequest, today: date) -> None:
    for code in (*request.received, *request.deferred):
        if matter.material(code) is None:
            raise InvalidInput("error.material.unknown", material=code)
    for code in request.deferred:
        material = matter.material(code)
        assert material is not None
        if code in request.received:
            raise InvalidInput("error.material.both", material=material.name.model_dump())
        if not material.deferrable:
            raise InvalidInput("error.material.not_deferrable", material=material.name.model_dump())
        if request.deferred[code] < today:
            raise InvalidInput("error.material.promise_past", material=material.name.model_dump())
    for material in matter.materials:
        if (
            material.required
            and material.code not in request.received
            and material.code not in request.deferred
        ):
            raise InvalidInput("error.material.missing", material=material.name.model_dump())


def _checked_applicant(
    session: Session, actor: Actor, matter: Matter, data: ApplicantInput, today: date
) -> dict[str, Any]:
    if data.kind != matter.applicant_kind:
        raise InvalidInput("error.applicant.wrong_kind", expected=f"kind.{matter.applicant_kind}")
    return applicants.validate(session, data, key=applicants.data_key(actor), today=today)


def preview(session: Session, *, actor: Actor, request: IntakeRequest, now: datetime) -> FanOut:
    """The fan-out the clerk sees before submitting (nothing is stored)."""
    require(actor, "accept")
    return plan(matter(session, request.matter_code), work_calendar(session), now.date())


def accept(
    session: Session, *, actor: Actor, request: IntakeRequest, now: datetime
) -> IntakeResult:
    """Accept one application whole: tracking number, materials, every task that can open."""
    require(actor, "accept")
    spec = matter(session, request.matter_code)
    today = now.date()
    applicant = _checked_applicant(session, actor, spec, request.applicant, today)
    _check_materials(spec, request, today)
    form = _check_form(spec, request.form)
    fan_out = plan(spec, work_calendar(session), today)
    tracking_no = tracking.make(
        actor.office_code, today, eventlog.next_seq(session, actor.office_code)
    )
    body = {
        "tracking_no": tracking_no,
        "matter": spec.code,
        "version": spec.version,
        "applicant": applicant,
        "received": sorted(request.received),
        "owed": [
            {"code": c, "promised": d.isoformat()} for c, d in sorted(request.deferred.items())
        ],
        "form": form,
        "due": fan_out.due.isoformat(),
        "due_estimated": fan_out.estimated,
        "access": access_code(actor, tracking_no),
        "tasks": [
            {
                "code": t.code,
                "department": t.department,
                "state": "open" if t.opens_at_once else "waiting",
                "due": t.due.isoformat() if t.opens_at_once else None,
            }
            for t in fan_out.tasks
        ],
    }
    record(session, actor, "application.accepted", body, now)
    return IntakeResult(tracking_no, fan_out, dict(request.deferred))


def refuse(
    session: Session,
    *,
    actor: Actor,
    applicant: ApplicantInput,
    matter_code: str,
    reason: str,
    now: datetime,
) -> str:
    """不予受理: record the refusal with its reason; returns the tracking number issued."""
    require(actor, "refuse")
    spec = matter(session, matter_code)
    data = _checked_applicant(session, actor, spec, applicant, now.date())
    reason = clean_text(reason, field="field.reason", max_length=500)
    tracking_no = tracking.make(
        actor.office_code, now.date(), eventlog.next_seq(session, actor.office_code)
    )
    body = {
        "tracking_no": tracking_no,
        "matter": spec.code,
        "version": spec.version,
        "applicant": data,
        "reason": reason,
    }
    record(session, actor, "application.refused", body, now)
    return tracking_no
