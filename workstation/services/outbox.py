"""What waits to go upstream: the local events past the push cursor."""

from __future__ import annotations

from sqlmodel import Session

from models import ChainHead, SyncCursor
from workstation.services.office import local_office

UPSTREAM = "upstream"
"""The peer name of the level above, in sync cursors (an office has one upstream)."""


def pushed_up_to(session: Session, origin: str) -> int:
    """The last sequence of ``origin`` the upstream has taken (0 before the first push)."""
    cursor = session.get(SyncCursor, (UPSTREAM, origin, "push"))
    return cursor.seq if cursor is not None else 0


def waiting(session: Session) -> int:
    """How many of this office's own events the upstream has not taken yet."""
    origin = local_office(session).code
    head = session.get(ChainHead, origin)
    # Sequences of an origin have no gaps, so the difference is the count.
    return (head.seq if head is not None else 0) - pushed_up_to(session, origin)
