"""SQLModel tables: the signed event log and the projections rebuilt from it."""

from models.case import (
    Applicant,
    Application,
    ApplicationMaterial,
    CaseEvent,
    Task,
    TaskTally,
)
from models.catalog import CalendarYear, Matter
from models.log import AuditEntry, ChainHead, Event, HeldEvent
from models.org import Department, Office, Operator
from models.sync import SyncCursor, SyncFork, SyncNonce, SyncReceipt, TrackAttempt

SCHEMA_HEAD = "0013"
"""The newest migration in ``models/migrations`` (a test checks it against Alembic's head)."""

PROJECTIONS: tuple[type, ...] = (
    Office,
    Department,
    Operator,
    Matter,
    CalendarYear,
    Applicant,
    Application,
    ApplicationMaterial,
    Task,
    TaskTally,
    CaseEvent,
    HeldEvent,
    ChainHead,
)
"""Tables derived from the log alone; ``rebuild`` recreates exactly these."""

__all__ = [
    "PROJECTIONS",
    "Applicant",
    "Application",
    "ApplicationMaterial",
    "AuditEntry",
    "CalendarYear",
    "CaseEvent",
    "ChainHead",
    "Department",
    "Event",
    "HeldEvent",
    "Matter",
    "Office",
    "Operator",
    "SyncCursor",
    "SyncFork",
    "SyncNonce",
    "SyncReceipt",
    "Task",
    "TaskTally",
    "TrackAttempt",
]
