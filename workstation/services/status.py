"""Status by tracking number for the applicant (最多跑一次): never personal data.

Anyone holding the receipt may ask: the tracking number and the access code printed on it.
A wrong code, an unknown number and a case without a code all get the same answer, so a
guess learns nothing; each wrong code for a number makes the next try wait longer.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from models import Application, Department, Matter, Task, TrackAttempt
from workstation import tracking
from workstation.errors import WorkstationError

FREE_TRIES = 3
"""Wrong codes for one number before the lookups of that number start to wait."""
FIRST_WAIT = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


class TooManyTries(WorkstationError):
    """Too many wrong codes for this number: ask again after ``until``."""

    key = "error.track.wait"

    def __init__(self, until: datetime, now: datetime) -> None:
        super().__init__(until=f"{until.astimezone(now.tzinfo):%H:%M:%S}")
        self.seconds = max(1, int((until - now).total_seconds()))


@dataclass(frozen=True)
class TaskStatus:
    """One department's step, as the public may see it."""

    department: tuple[str, str]
    """Its name in Chinese and English."""
    state: str
    due: date | None
    decided: date | None


@dataclass(frozen=True)
class PublicStatus:
    """What the public lookup says of a case: no name, no ID number, no phone, no form."""

    tracking_no: str
    matter: tuple[str, str]
    status: str
    accepted: date
    due: date | None
    completed: date | None
    delivered: date | None
    tasks: tuple[TaskStatus, ...]


def look_up(session: Session, raw_number: str, code: str, *, now: datetime) -> PublicStatus | None:
    """The public status of a case, given the access code on its receipt.

    None for an unknown number and for a wrong code alike (the caller answers
    ``error.track.unknown``); a wrong code is counted in the caller's transaction, which
    commits. TooManyTries while the number waits after repeated wrong codes.
    """
    try:
        number = tracking.normalise(raw_number)
    except WorkstationError:
        return None
    attempt = session.get(TrackAttempt, number)
    if attempt is not None and attempt.blocked_until is not None and attempt.blocked_until > now:
        raise TooManyTries(attempt.blocked_until, now)
    application = session.get(Application, number)
    expected = application.access_code if application is not None else None
    if (
        application is None
        or not expected
        or not hmac.compare_digest(
            # Bytes: compare_digest refuses a str with non-ASCII characters (any text may be typed).
            expected.encode(),
            code.strip().encode(),
        )
    ):
        _count_failure(session, number, attempt, now)
        return None
    if attempt is not None:
        session.delete(attempt)
    return _status(session, application, now)


def _count_failure(
    session: Session, number: str, attempt: TrackAttempt | None, now: datetime
) -> None:
    attempt = attempt or TrackAttempt(tracking_no=number, failures=0, last_at=now)
    attempt.failures += 1
    attempt.last_at = now
    if attempt.failures >= FREE_TRIES:
        wait = min(FIRST_WAIT * 2 ** (attempt.failures - FREE_TRIES), LONGEST_WAIT)
        attempt.blocked_until = now + wait
    session.add(attempt)


def _day(at: datetime | None, now: datetime) -> date | None:
    return at.astimezone(now.tzinfo).date() if at is not None else None


def _status(session: Session, application: Application, now: datetime) -> PublicStatus:
    matter = session.get(Matter, application.matter_code)
    names = (matter.name_zh, matter.name_en) if matter else (application.matter_code,) * 2
    rows = session.scalars(
        select(Task).where(col(Task.tracking_no) == application.tracking_no).order_by(col(Task.id))
    )
    steps = []
    for task in rows:
        department = session.get(Department, task.department_code)
        name = (
            (department.name_zh, department.name_en) if department else (task.department_code,) * 2
        )
        steps.append(TaskStatus(name, task.state, task.due_date, _day(task.decided_at, now)))
    return PublicStatus(
        tracking_no=application.tracking_no,
        matter=names,
        status=application.status,
        accepted=application.accepted_at.astimezone(now.tzinfo).date(),
        due=application.due_date,
        completed=_day(application.completed_at, now),
        delivered=_day(application.delivered_at, now),
        tasks=tuple(steps),
    )
