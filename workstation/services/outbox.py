"""What waits to go upstream: the local events past the push cursor."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from models import ChainHead, Event, Office, SyncCursor, SyncReceipt
from workstation.services.office import local_office

UPSTREAM = "upstream"
"""The peer name of the level above, in sync cursors (an office has one upstream)."""


def pushed_up_to(session: Session, origin: str) -> int:
    """The last sequence of ``origin`` the upstream has taken (0 before the first push)."""
    cursor = session.get(SyncCursor, (UPSTREAM, origin, "push"))
    return cursor.seq if cursor is not None else 0


def sent_up_to(session: Session, origin: str) -> int:
    """The last sequence of ``origin`` sent up in a bundle not yet receipted (0 if none)."""
    cursor = session.get(SyncCursor, (UPSTREAM, origin, "sent"))
    return cursor.seq if cursor is not None else 0


def mark_sent(session: Session, heads: dict[str, int]) -> None:
    """Remember that a bundle carries each origin up to its sequence in ``heads``."""
    for origin, seq in heads.items():
        cursor = session.get(SyncCursor, (UPSTREAM, origin, "sent")) or SyncCursor(
            peer=UPSTREAM, origin=origin, direction="sent"
        )
        cursor.seq = max(cursor.seq, seq)
        session.add(cursor)


def waiting(session: Session) -> int:
    """How many of this office's own events the upstream has not taken yet."""
    origin = local_office(session).code
    head = session.get(ChainHead, origin)
    # Sequences of an origin have no gaps, so the difference is the count.
    return (head.seq if head is not None else 0) - pushed_up_to(session, origin)


def receipted(session: Session, origin: str) -> int:
    """The last sequence of ``origin`` the upstream has signed for (0 if none)."""
    here = local_office(session)
    if not here.parent_code:
        return 0
    stored = session.get(SyncReceipt, (here.parent_code, origin))
    return stored.seq if stored is not None else 0


def sync_marks(session: Session, events: list[Event]) -> dict[int, str]:
    """Event id → where it stands: ``provisional`` (ours, not yet sent up), ``sent`` (in a
    bundle on its way, no receipt yet), ``receipted``, ``from_above`` (decided at a level
    above) or ``from_below``."""
    here = local_office(session).code
    done, sent = receipted(session, here), sent_up_to(session, here)
    below = {o.code for o in session.scalars(select(Office).where(col(Office.enrolled)))}
    marks: dict[int, str] = {}
    for event in events:
        if event.id is None:
            continue
        if event.origin == here:
            if event.seq <= done:
                marks[event.id] = "receipted"
            else:
                marks[event.id] = "sent" if event.seq <= sent else "provisional"
        else:
            marks[event.id] = "from_below" if event.origin in below else "from_above"
    return marks
