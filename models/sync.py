"""What sync needs: how far each peer has taken or given each origin's chain."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class SyncCursor(SQLModel, table=True):
    """The last sequence of ``origin`` exchanged with ``peer`` in ``direction``."""

    peer: str = Field(primary_key=True, max_length=200)
    origin: str = Field(primary_key=True, max_length=20)
    direction: str = Field(primary_key=True, max_length=4)
    """``push`` or ``pull``."""
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
