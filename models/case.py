"""Applicants, applications, their materials and department tasks (all projections)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel


class Applicant(SQLModel, table=True):
    """A person or organisation, stored once and reused (collect once).

    The ID and phone numbers are never stored in clear (``workstation.datakey``): a keyed
    hash to find the row, a seal to reveal the number with a reason, and a mask to show.
    """

    ref: str = Field(primary_key=True, max_length=64)
    """Keyed hash (HMAC) of the ID number or credit code: what an exact lookup finds."""
    id_sealed: str = Field(max_length=128)
    """The ID number under the office's data key (AES-GCM); empty for rows of old events."""
    id_masked: str = Field(max_length=18)
    kind: str = Field(max_length=16)
    """``person`` or ``organisation``."""
    id_kind: str = Field(max_length=24)
    name: str = Field(max_length=100, index=True)
    initials: str = Field(max_length=100, index=True)
    phone_ref: str = Field(default="", max_length=64, index=True)
    phone_sealed: str = Field(default="", max_length=128)
    phone_masked: str = Field(default="", max_length=20)
    address: str = Field(default="", max_length=200)
    registered_at: datetime


class Application(SQLModel, table=True):
    """One accepted (or refused) request, identified by its tracking number (办件)."""

    __table_args__ = (Index("ix_application_status_due", "status", "due_date"),)

    tracking_no: str = Field(primary_key=True, max_length=32)
    origin: str = Field(max_length=20)
    matter_code: str = Field(foreign_key="matter.code", max_length=40)
    matter_version: int
    applicant_id: str = Field(foreign_key="applicant.ref", max_length=64, index=True)
    status: str = Field(max_length=16)
    """refused · in_progress · completed · rejected · withdrawn · delivered."""
    accepted_at: datetime
    accepted_by: str = Field(max_length=40)
    due_date: date | None = None
    due_estimated: bool = False
    """The due date counts a year without an official holiday schedule."""
    paused_since: date | None = None
    form: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", max_length=500)
    completed_at: datetime | None = None
    delivered_at: datetime | None = None
    rating: int | None = None
    rating_comment: str = Field(default="", max_length=500)
    access_code: str | None = Field(default=None, max_length=12)
    """Printed on the receipt; asked for by the public status lookup (None for old cases)."""


class ApplicationMaterial(SQLModel, table=True):
    """A material of an application: received, or owed (容缺) with a promised date."""

    tracking_no: str = Field(foreign_key="application.tracking_no", primary_key=True, max_length=32)
    material_code: str = Field(primary_key=True, max_length=40)
    status: str = Field(max_length=12)
    """received · owed · requested (asked again by a supplement request)."""
    promised_date: date | None = None
    received_at: datetime | None = None


_QUEUED = "state IN ('open', 'supplement')"
_DECIDED = "state IN ('approved', 'rejected')"


class Task(SQLModel, table=True):
    """One department's work item for one application."""

    __table_args__ = (
        Index("ix_task_queue", "department_code", "state", "due_date"),
        # A queue page walks this index in due order and skips finished tasks, instead of
        # sorting the whole department (states are an IN list, which the first index can't order).
        Index("ix_task_department_due", "department_code", "due_date", "id"),
        # The dashboard's oldest open tasks and its recent decisions: partial indexes, each a
        # small part of a county's tasks, so neither read scans the table.
        Index(
            "ix_task_open_opened",
            "opened_at",
            "id",
            sqlite_where=text(_QUEUED),
            postgresql_where=text(_QUEUED),
        ),
        Index(
            "ix_task_decided_at",
            "decided_at",
            "department_code",
            "opened_at",
            sqlite_where=text(_DECIDED),
            postgresql_where=text(_DECIDED),
        ),
    )

    id: str = Field(primary_key=True, max_length=80)
    """``<tracking number>/<task code>``."""
    tracking_no: str = Field(foreign_key="application.tracking_no", max_length=32, index=True)
    task_code: str = Field(max_length=40)
    department_code: str = Field(foreign_key="department.code", max_length=40)
    state: str = Field(max_length=12)
    """waiting · open · supplement · approved · rejected · closed."""
    opened_at: datetime | None = None
    due_date: date | None = None
    paused_since: date | None = None
    claimed_by: str | None = Field(default=None, max_length=40)
    claim_expires: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=40)
    decided_at: datetime | None = None
    permit_no: str = Field(default="", max_length=60)
    reason: str = Field(default="", max_length=500)
    requested: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """Materials asked for by the open supplement request."""


class TaskTally(SQLModel, table=True):
    """How many tasks one department has in one state, kept as tasks move.

    The dashboard reads these few rows instead of counting a county's million tasks; a
    rebuild counts the tasks afresh, so ``rebuild --check`` proves the tally kept live.
    """

    department_code: str = Field(primary_key=True, max_length=40)
    state: str = Field(primary_key=True, max_length=12)
    n: int


class CaseEvent(SQLModel, table=True):
    """Where one event of an application stands in the case's one agreed order.

    Events of one application made at two levels arrive in different orders at different
    offices; each office applies them by ``order_key`` (signed time in UTC, origin, sequence),
    so all agree. An event that is no longer allowed at its place in that order is kept,
    marked ``superseded`` with what it found, and shown, never silently dropped.
    """

    tracking_no: str = Field(primary_key=True, max_length=32)
    order_key: str = Field(primary_key=True, max_length=80)
    origin: str = Field(max_length=20)
    seq: int
    outcome: str = Field(default="applied", max_length=12)
    """applied · superseded · quarantined (signed by a revoked key, held for review)."""
    reason: str = Field(default="", max_length=40)
    """For a superseded event: the state it found (``status.withdrawn``, ``state.closed``)."""
