"""The signed hand-off log, its head per origin, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Event(SQLModel, table=True):
    """One signed event; ``payload`` holds the exact bytes that were signed."""

    __table_args__ = (UniqueConstraint("origin", "seq", name="uq_event_origin_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(max_length=20)
    seq: int
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
    type: str = Field(max_length=40, index=True)
    ts: str = Field(max_length=40)
    actor: str = Field(max_length=40)
    subject: str | None = Field(default=None, max_length=32, index=True)
    """The tracking number the event is about, if any (derived from the body, for timelines)."""
    key_id: str = Field(max_length=32)
    alg: str = Field(max_length=16)
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ChainHead(SQLModel, table=True):
    """The newest event of each origin; locked by every write (serialises appends)."""

    origin: str = Field(primary_key=True, max_length=20)
    seq: int
    hash: str = Field(max_length=64)


class AuditEntry(SQLModel, table=True):
    """Who logged in, who was refused, who looked at whose personal data."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=40)
    action: str = Field(max_length=32)
    subject: str = Field(default="", max_length=80)
    detail: str = Field(default="", max_length=500)


class HeldEvent(SQLModel, table=True):
    """An event signed by a revoked key after its revocation: stored, not applied, reviewed.

    The chain stays whole (the event is in the log), but nothing it says counts until a
    supervisor admits it; a backdated signature proves nothing, its place in the log does.
    """

    origin: str = Field(primary_key=True, max_length=20)
    seq: int = Field(primary_key=True)
    type: str = Field(max_length=40)
    actor: str = Field(max_length=40)
    subject: str | None = Field(default=None, max_length=32)
    resolution: str = Field(default="", max_length=12)
    """Empty while held; ``admitted`` or ``refused`` after review."""
    resolved_by: str = Field(default="", max_length=40)
    reason: str = Field(default="", max_length=500)
