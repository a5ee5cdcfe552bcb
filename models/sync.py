"""What sync needs: how far each peer has taken or given each origin's chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


class SyncCursor(SQLModel, table=True):
    """The last sequence of ``origin`` exchanged with ``peer`` in ``direction``."""

    peer: str = Field(primary_key=True, max_length=200)
    origin: str = Field(primary_key=True, max_length=20)
    direction: str = Field(primary_key=True, max_length=4)
    """``push`` or ``pull``."""
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)


class SyncFork(SQLModel, table=True):
    """A peer offered an event whose place in a chain is taken by another: a rewritten history."""

    id: int | None = Field(default=None, primary_key=True)
    origin: str = Field(max_length=20, index=True)
    seq: int
    stored_hash: str = Field(max_length=64)
    offered_hash: str = Field(max_length=64)
    sender: str = Field(max_length=20)
    """The office that sent it (the origin itself, or an office relaying it)."""
    detected_at: datetime


class SyncReceipt(SQLModel, table=True):
    """The level above's signed word that it stored ``origin`` up to ``seq`` with ``hash``."""

    peer: str = Field(primary_key=True, max_length=20)
    origin: str = Field(primary_key=True, max_length=20)
    seq: int
    hash: str = Field(max_length=64)
    document: str = Field(sa_column=Column(Text, nullable=False))
    """The whole signed receipt (JSON), so that it can be shown to anyone and checked again."""
    received_at: datetime


class SyncNonce(SQLModel, table=True):
    """A signed request already seen: the same request sent again is a replay, refused."""

    office: str = Field(primary_key=True, max_length=20)
    nonce: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(index=True)


class TrackAttempt(SQLModel, table=True):
    """Wrong access codes given for one tracking number: repeated guesses wait longer."""

    tracking_no: str = Field(primary_key=True, max_length=40)
    failures: int = 0
    last_at: datetime
    blocked_until: datetime | None = None
