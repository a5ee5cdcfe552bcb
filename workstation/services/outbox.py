"""What waits to go upstream: the local events past the push cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import ChainHead, Event, HeldEvent, Office, SyncCursor, SyncFork, SyncReceipt
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


@dataclass(frozen=True)
class Overview:
    """What the sync screen shows: this office's place between the levels."""

    upstream: str
    """The level above as ``name（code）``; "" for an office without one."""
    waiting: int
    sent: int
    """Own events carried up in a bundle that no receipt covers yet."""
    last_receipt: datetime | None
    held: int
    """Events signed by a revoked key, waiting for a supervisor."""
    forks: int
    below: list[tuple[str, str, int]]
    """Offices enrolled below: code, name, how many of their events are held here."""


def overview(session: Session) -> Overview:
    """This office's sync figures, read in one go."""
    here = local_office(session)
    above = session.get(Office, here.parent_code) if here.parent_code else None
    upstream = f"{above.name}（{above.code}）" if above is not None and above.public_key else ""
    done = receipted(session, here.code)
    receipt = session.get(SyncReceipt, (above.code, here.code)) if above is not None else None
    held = session.scalar(
        select(func.count()).select_from(HeldEvent).where(col(HeldEvent.resolution) == "")
    )
    forks = session.scalar(select(func.count()).select_from(SyncFork))
    below = []
    for office in session.scalars(
        select(Office).where(col(Office.enrolled)).order_by(col(Office.code))
    ):
        head = session.get(ChainHead, office.code)
        below.append((office.code, office.name, head.seq if head is not None else 0))
    return Overview(
        upstream=upstream,
        waiting=waiting(session),
        sent=max(sent_up_to(session, here.code) - done, 0),
        last_receipt=receipt.received_at if receipt is not None else None,
        held=held or 0,
        forks=forks or 0,
        below=below,
    )
