"""Events held for review: signed by a key after its revocation (the supervisor decides).

Held events stay in the log, so the chain of their office is whole, but nothing they say
counts. A supervisor admits one (it then counts from its place in its case) or refuses it
(it never counts); either decision is itself a signed event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from models import HeldEvent
from workstation.errors import Conflict, NotFound
from workstation.services.applicants import clean_text
from workstation.services.auth import Actor, record, require


def held_events(session: Session, *, actor: Actor, pending_only: bool = True) -> list[HeldEvent]:
    """Events held because their key had been revoked, oldest office and sequence first."""
    require(actor, "supervise")
    query = select(HeldEvent).order_by(col(HeldEvent.origin), col(HeldEvent.seq))
    if pending_only:
        query = query.where(col(HeldEvent.resolution) == "")
    return list(session.scalars(query))


def decide(
    session: Session,
    *,
    actor: Actor,
    origin: str,
    seq: int,
    admit: bool,
    reason: str,
    now: datetime,
) -> None:
    """Admit a held event (it counts from its place) or refuse it for good, with a reason."""
    require(actor, "supervise")
    held = session.get(HeldEvent, (origin.strip(), seq))
    if held is None:
        raise NotFound("error.held.unknown", origin=origin, seq=seq)
    if held.resolution:
        raise Conflict(
            "error.held.decided", by=held.resolved_by, resolution=f"held.{held.resolution}"
        )
    reason = clean_text(reason, field="field.reason", max_length=500)
    kind = "held.admitted" if admit else "held.refused"
    record(session, actor, kind, {"origin": held.origin, "seq": held.seq, "reason": reason}, now)
