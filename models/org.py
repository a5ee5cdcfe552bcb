"""Offices, departments and operators, as registered by signed events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Office(SQLModel, table=True):
    """A service hall or an upstream level; ``parent_code`` points upstream."""

    code: str = Field(primary_key=True, max_length=20)
    name: str = Field(max_length=120)
    level: str = Field(max_length=16)
    parent_code: str | None = Field(default=None, max_length=20)
    local: bool = False
    """True for the office this database belongs to (the origin of its own events)."""
    demo: bool = False
    """A demo office: its login screen may list the demo operators and their password."""
    key_id: str | None = Field(default=None, max_length=32)
    """The office key that signs its sync batches and receipts (None until registered)."""
    public_key: str | None = Field(default=None, max_length=64)
    """Raw Ed25519 public key of the office key, hex."""
    enrolled: bool = False
    """Enrolled below this office: its sync requests are checked against ``public_key``."""
    revoked_at: datetime | None = None
    """When its enrolment was revoked; nothing it signs later is accepted."""


class Department(SQLModel, table=True):
    """An approving unit, located at some office."""

    code: str = Field(primary_key=True, max_length=40)
    name_zh: str = Field(max_length=80)
    name_en: str = Field(max_length=120)
    level: str = Field(max_length=16)
    office_code: str = Field(foreign_key="office.code", max_length=20)


class Operator(SQLModel, table=True):
    """A person who signs events: clerk, officer, supervisor, admin or auditor.

    A user name is unique within its office only: a hub holds the operators of every office
    below it, and each township has its own ``admin``.
    """

    office_code: str = Field(foreign_key="office.code", primary_key=True, max_length=20)
    username: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=80)
    role: str = Field(max_length=16)
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    key_id: str = Field(max_length=32, index=True)
    public_key: str = Field(max_length=64)
    """Raw Ed25519 public key, hex."""
    active: bool = True
