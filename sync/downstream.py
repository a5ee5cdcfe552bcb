"""Pulling down: what an office below should have from here, and taking it at that office.

An office below receives only what is addressed to its subtree: the events made here or above
on its applications (a county officer's decision on a township's case), and what it needs to
trust and use them (the genesis, operator keys and revocations, the catalog and holidays of
the levels above). Other offices' cases never go down. So a pulled origin arrives with gaps by
design: each event is checked by its signature and its place only (later than the last one),
and the batch by the upstream's office key; the chain itself is checked where it is whole.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from models import Application, ChainHead, Event, Office, SyncCursor
from sync.receive import check_signer, event_row, incoming
from sync.wire import Batch, WireEvent
from workstation import projector
from workstation.crypto import Signer
from workstation.errors import SyncRefused
from workstation.services.office import local_office
from workstation.services.outbox import UPSTREAM

SHARED_TYPES = (
    "office.opened",
    "office.key_registered",
    "operator.registered",
    "operator.revoked",
    "catalog.published",
    "calendar.loaded",
)
"""Events of the levels above that every office below needs (keys, catalog, holidays)."""
PULL_SIZE = 500
"""Events per pulled batch."""


def subtree(session: Session, code: str) -> set[str]:
    """``code`` and every office enrolled below it, at any depth."""
    found, frontier = {code}, [code]
    while frontier:
        below = session.scalars(
            select(col(Office.code)).where(
                col(Office.enrolled), col(Office.parent_code).in_(frontier)
            )
        )
        frontier = [c for c in below if c not in found]
        found.update(frontier)
    return found


def next_pull(
    session: Session, office: str, after: int, office_key: Signer, *, limit: int | None = PULL_SIZE
) -> Batch:
    """The next events addressed to ``office``'s subtree after position ``after``, signed.

    ``limit=None`` takes everything (a bundle carried down on a USB stick).
    """
    here = local_office(session)
    below = subtree(session, office)
    others = set(session.scalars(select(col(Office.code)).where(col(Office.enrolled)))) - below
    cases = select(col(Application.tracking_no)).where(col(Application.origin).in_(below))
    addressed = or_(
        and_(col(Event.type).in_(SHARED_TYPES), col(Event.origin).not_in(others)),
        col(Event.subject).in_(cases),
    )
    query = (
        select(Event)
        .where(col(Event.id) > after, col(Event.origin).not_in(below | others), addressed)
        .order_by(col(Event.id))
        .limit(limit)
    )
    rows = list(session.scalars(query))
    upto = rows[-1].id if rows else after
    wire = [WireEvent(row.payload, row.signature) for row in rows]
    return Batch.sign(here.code, wire, office_key, upto=upto or 0)


def pulled_up_to(session: Session) -> int:
    """The upstream position this office has pulled to (0 before the first pull)."""
    cursor = session.get(SyncCursor, (UPSTREAM, "*", "pull"))
    return cursor.seq if cursor is not None else 0


def accept_pulled(session: Session, batch: Batch) -> int:
    """Check a batch pulled from the level above and store it whole; how many were new."""
    here = local_office(session)
    upstream = session.get(Office, here.parent_code) if here.parent_code else None
    if upstream is None or not upstream.public_key or batch.sender != upstream.code:
        raise SyncRefused("error.sync.receipt_key", office=batch.sender)
    if batch.key_id != upstream.key_id or not batch.verifies(bytes.fromhex(upstream.public_key)):
        raise SyncRefused("error.sync.batch_signature", office=batch.sender)
    ours = subtree(session, here.code)
    stored = 0
    for index, wire, envelope, digest, known in incoming(session, batch):
        origin, seq = envelope["origin"], envelope["seq"]
        if origin in ours:
            raise SyncRefused("error.sync.own_origin", index=index, origin=origin)
        subject = projector.subject_of(envelope)
        if subject is not None and session.get(Application, subject) is None:
            # A bundle made for another office below carries its cases, not ours.
            raise SyncRefused("error.sync.not_ours", index=index, tracking_no=subject)
        if known:
            continue
        head = session.get(ChainHead, origin)
        if head is not None and seq <= head.seq:
            raise SyncRefused("error.sync.order", index=index, origin=origin, seq=seq)
        check_signer(session, envelope, wire, index, here=here.code)
        session.add(event_row(envelope, wire, digest))
        projector.apply(session, envelope, digest)
        session.flush()
        stored += 1
    cursor = session.get(SyncCursor, (UPSTREAM, "*", "pull")) or SyncCursor(
        peer=UPSTREAM, origin="*", direction="pull"
    )
    cursor.seq = max(cursor.seq, batch.upto)
    session.add(cursor)
    return stored
