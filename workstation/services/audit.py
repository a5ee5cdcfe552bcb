"""The audit trail: logins, refusals and looks at personal data (read by auditors)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from models import AuditEntry
from workstation.services.auth import Actor, require


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> None:
    """Add one audit entry in the caller's transaction."""
    at = now or datetime.now().astimezone()
    session.add(
        AuditEntry(at=at, actor=actor, action=action, subject=subject[:80], detail=detail[:500])
    )


def entries(
    session: Session, *, actor: Actor, limit: int = 200, since: datetime | None = None
) -> list[AuditEntry]:
    """The newest audit entries (from ``since``, if given), for an auditor."""
    require(actor, "audit")
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return list(session.scalars(query))
