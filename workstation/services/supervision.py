"""督查 and queues: backlog, lights, handling time, throughput; computed, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, tuple_
from sqlmodel import Session, col

from models import Application, Department, Task, TaskTally
from workstation.errors import InvalidInput
from workstation.services.auth import Actor, require, require_queue
from workstation.services.office import work_calendar
from workstation.services.timespans import days_between, local_day
from workstation.workdays import WorkCalendar

ACTIVE = ("open", "supplement")
"""States that sit in a department's queue."""
QUEUE_FILTERS = ("all", "mine", "unclaimed", "overdue", "supplement")
"""Filters of the department queue."""
DECIDED = ("approved", "rejected")
"""States of a decided task."""


def _state_in(states: tuple[str, ...]) -> Any:
    """``task.state IN ('a', 'b')`` with the states written out, not bound: only then can the
    database see that the query falls within a partial index's ``WHERE`` (ix_task_open_opened,
    ix_task_decided_at)."""
    return col(Task.state).in_([literal_column(f"'{state}'") for state in states])


def light(task: Task, today: date, calendar: WorkCalendar, soon_days: int = 2) -> str:
    """red (overdue), yellow (due within ``soon_days`` working days), green, or paused."""
    if task.state == "supplement":
        return "paused"
    if task.due_date is None or task.state != "open":
        return "none"
    if task.due_date < today:
        return "red"
    return "yellow" if calendar.workdays_until(today, task.due_date) <= soon_days else "green"


QueueKey = tuple[date, str]
"""A task's place in its queue: (due date, task id), the order pages are read in."""


@dataclass(frozen=True)
class QueuePage:
    """One page of a department's queue, sorted by due date."""

    tasks: list[Task]
    lights: dict[str, str]

    @property
    def last_key(self) -> QueueKey | None:
        """Where the next page starts (after this key), or None on an empty page."""
        if not self.tasks:
            return None
        last = self.tasks[-1]
        return (last.due_date or date.min, last.id)


def _queue_filter(actor: Actor, department: str, now: datetime, view: str, search: str) -> Any:
    """The WHERE clause of one queue view, after checking the operator may look at it."""
    require_queue(actor, department)
    if view not in QUEUE_FILTERS:
        raise InvalidInput("error.queue.filter", value=view, choices=", ".join(QUEUE_FILTERS))
    conditions = [col(Task.department_code) == department, col(Task.state).in_(ACTIVE)]
    if view == "mine":
        conditions += [col(Task.claimed_by) == actor.username, col(Task.claim_expires) > now]
    elif view == "unclaimed":
        conditions.append(or_(col(Task.claimed_by).is_(None), col(Task.claim_expires) <= now))
    elif view == "overdue":
        conditions += [col(Task.state) == "open", col(Task.due_date) < now.date()]
    elif view == "supplement":
        conditions.append(col(Task.state) == "supplement")
    if search.strip():
        conditions.append(col(Task.tracking_no).like(search.strip().upper() + "%"))
    return and_(*conditions)


def queue(
    session: Session,
    *,
    actor: Actor,
    department: str,
    now: datetime,
    view: str = "all",
    search: str = "",
    after: QueueKey | None = None,
    offset: int = 0,
    limit: int = 50,
    soon_days: int = 2,
) -> QueuePage:
    """A page of the department's open tasks; officers see their own departments only.

    ``after`` reads the page that follows a task (a walk down the index, as fast on the last
    page as on the first); ``offset`` counts rows from the top, for a page asked for by number.
    """
    where = _queue_filter(actor, department, now, view, search)
    if after is not None:
        where = and_(where, tuple_(col(Task.due_date), col(Task.id)) > tuple_(*after))
    query = (
        select(Task)
        .where(where)
        .order_by(col(Task.due_date), col(Task.id))
        .offset(offset)
        .limit(limit)
    )
    tasks = list(session.scalars(query))
    calendar, today = work_calendar(session), now.date()
    return QueuePage(tasks, {t.id: light(t, today, calendar, soon_days) for t in tasks})


def queue_size(
    session: Session, *, actor: Actor, department: str, now: datetime, view: str, search: str = ""
) -> int:
    """How many tasks one view of the queue holds (a count, read apart from the pages)."""
    where = _queue_filter(actor, department, now, view, search)
    return session.scalar(select(func.count()).select_from(Task).where(where)) or 0


@dataclass(frozen=True)
class DepartmentLoad:
    """One department's backlog and speed."""

    department: str
    backlog: int
    overdue: int
    due_soon: int
    waiting_supplement: int
    decided: int
    average_days: float | None
    """Average time from opening to decision, in calendar days."""


@dataclass(frozen=True)
class Overview:
    """The supervisor's dashboard figures."""

    departments: list[DepartmentLoad]
    throughput: list[tuple[date, int]]
    """Decisions per day over the window, oldest first."""
    oldest: list[Task]


def overview(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    days: int = 30,
    soon_days: int = 2,
    oldest: int = 10,
) -> Overview:
    """Backlog, overdue and due-soon per department, average handling time, throughput."""
    require(actor, "supervise")
    today = now.date()
    calendar = work_calendar(session)
    # "Due soon" is a calendar question; find the last date that is still within soon_days.
    soon_limit = calendar.add_workdays(today, soon_days).date
    known = {d.code for d in session.scalars(select(Department))}
    counts = _department_counts(session, known, today, soon_limit)
    span = days_between(col(Task.decided_at), col(Task.opened_at))
    recent = and_(
        _state_in(DECIDED),
        col(Task.decided_at)
        >= datetime.combine(today - timedelta(days=days), time.min, now.tzinfo),
        col(Task.opened_at).is_not(None),
    )
    offset = int((now.utcoffset() or timedelta()).total_seconds())
    day = local_day(col(Task.decided_at), offset)
    # One pass over the window's decisions (the decided_at partial index), grouped by day
    # first: grouped by department alone, SQLite walks the whole queue index in department
    # order instead (~400 ms at a million tasks against ~50).
    spent: dict[str, list[float]] = {}
    per_day: dict[date, int] = {}
    for on, code, n, days_taken in session.execute(
        select(day, col(Task.department_code), func.count(), func.sum(span))
        .where(recent)
        .group_by(day, col(Task.department_code))
    ):
        per_day[on] = per_day.get(on, 0) + n
        total = spent.setdefault(code, [0, 0.0])
        total[0] += n
        total[1] += float(days_taken)
    spans = {code: days / n for code, (n, days) in spent.items()}
    loads = [
        DepartmentLoad(
            code,
            backlog,
            overdue,
            soon,
            paused,
            decided,
            None if code not in spans else round(spans[code], 2),
        )
        for code, (backlog, overdue, soon, paused, decided) in sorted(counts.items())
    ]
    window = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    oldest_tasks = list(
        session.scalars(
            select(Task)
            .where(_state_in(ACTIVE))
            .order_by(col(Task.opened_at), col(Task.id))
            .limit(oldest)
        )
    )
    return Overview(
        sorted(loads, key=lambda d: d.department),
        [(d, per_day.get(d, 0)) for d in window],
        oldest_tasks,
    )


def _department_counts(
    session: Session, departments: set[str], today: date, soon_limit: date
) -> dict[str, tuple[int, int, int, int, int]]:
    """Backlog, overdue, due soon, in supplement and decided, per known department.

    Counts by (department, state) are the projector's tally, a few rows; overdue and due-soon
    are range seeks in the (department, state, due) index, one per department, over the open
    tasks before and near today, not a pass over the whole table.
    """
    by_state: dict[str, dict[str, int]] = {}
    for tally in session.scalars(select(TaskTally)):
        by_state.setdefault(tally.department_code, {})[tally.state] = tally.n
    in_range: dict[str, list[int]] = {code: [0, 0] for code in by_state}
    wanted = sorted(departments & set(by_state))
    for slot, window in enumerate(
        (
            col(Task.due_date) < today,
            and_(col(Task.due_date) >= today, col(Task.due_date) <= soon_limit),
        )
    ):
        rows = session.execute(
            select(col(Task.department_code), func.count())
            .where(col(Task.department_code).in_(wanted), col(Task.state) == "open", window)
            .group_by(col(Task.department_code))
        )
        for code, n in rows:
            in_range[code][slot] = n
    counts = {}
    for code in wanted:
        states = by_state[code]
        backlog = sum(states.get(s, 0) for s in ACTIVE)
        decided = states.get("approved", 0) + states.get("rejected", 0)
        overdue, soon = in_range[code]
        counts[code] = (backlog, overdue, soon, states.get("supplement", 0), decided)
    return counts


@dataclass(frozen=True)
class OverdueCases:
    """The applications longest past their promised date, and how many are overdue in all."""

    applications: list[Application]
    total: int


def overdue_applications(
    session: Session, *, actor: Actor, now: datetime, limit: int = 200
) -> OverdueCases:
    """Applications in progress past their promised date (clock not paused), oldest due first.

    At most ``limit`` are read: a county can have thousands overdue, and a screen shows a page.
    """
    require(actor, "supervise")
    overdue = and_(
        col(Application.status) == "in_progress",
        col(Application.paused_since).is_(None),
        col(Application.due_date) < now.date(),
    )
    query = (
        select(Application)
        .where(overdue)
        .order_by(col(Application.due_date), col(Application.tracking_no))
        .limit(limit)
    )
    total = session.scalar(select(func.count()).select_from(Application).where(overdue)) or 0
    return OverdueCases(list(session.scalars(query)), total)
