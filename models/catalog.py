"""The published catalog and the loaded holiday schedules, as the log last set them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class Matter(SQLModel, table=True):
    """A matter of the published catalog; ``definition`` is the validated TOML as JSON."""

    code: str = Field(primary_key=True, max_length=40)
    version: int
    name_zh: str = Field(max_length=80)
    name_en: str = Field(max_length=120)
    initials: str = Field(max_length=80, index=True)
    """Pinyin initials of the Chinese name, for quick picking (开办旅馆 → kblg)."""
    applicant_kind: str = Field(max_length=16)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class CalendarYear(SQLModel, table=True):
    """An official holiday schedule loaded by an administrator."""

    year: int = Field(primary_key=True)
    schedule: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
