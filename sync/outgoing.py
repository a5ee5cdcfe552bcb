"""Sending up: what the level above has not taken yet, and keeping its signed receipts.

The push cursor of an origin moves only when a receipt for it arrives, in the same
transaction that stores the receipt, so a push cut anywhere resends at most the batch that
was in flight; the receiver skips what it already holds.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from models import Event, Office, SyncCursor, SyncReceipt
from sync.wire import Batch, Receipt, WireEvent
from workstation.crypto import Signer
from workstation.errors import SyncRefused
from workstation.services.office import local_office
from workstation.services.outbox import UPSTREAM, pushed_up_to

BATCH_SIZE = 500
"""Events per batch: a cut costs at most this many resent."""


def origins_to_push(session: Session) -> list[str]:
    """This office and every office enrolled below it: the chains this office sends up."""
    query = select(col(Office.code)).where(or_(col(Office.local), col(Office.enrolled)))
    return sorted(session.scalars(query))


def next_batch(
    session: Session, office_key: Signer, *, limit: int | None = BATCH_SIZE
) -> Batch | None:
    """The next events the upstream has not receipted, in log order, signed; None if none.

    ``limit=None`` takes everything (a bundle for a USB stick).
    """
    here = local_office(session)
    after = {origin: pushed_up_to(session, origin) for origin in origins_to_push(session)}
    if not after:
        return None
    pending = or_(
        *(and_(col(Event.origin) == origin, col(Event.seq) > seq) for origin, seq in after.items())
    )
    rows = list(session.scalars(select(Event).where(pending).order_by(col(Event.id)).limit(limit)))
    wire = [WireEvent(row.payload, row.signature) for row in rows]
    # The batch presupposes what the upstream already signed for: one that lost it since (a
    # restored backup) refuses the batch and says what it has, and the tail goes again.
    needs = {row.origin: after[row.origin] for row in rows if after[row.origin]}
    return Batch.sign(here.code, wire, office_key, needs) if wire else None


def rewind(session: Session, origin: str, seq: int) -> bool:
    """The upstream holds ``origin`` only up to ``seq``: send from there again (True if moved)."""
    if seq >= pushed_up_to(session, origin):
        return False
    held = session.scalars(
        select(Event).where(col(Event.origin) == origin, col(Event.seq) == seq)
    ).first()
    _move_cursor(session, origin, seq, held.hash if held is not None else "0" * 64)
    return True


def take_receipt(session: Session, receipt: Receipt, *, now: datetime) -> int:
    """Check the upstream's receipt and move the push cursors; how many events it covers.

    A receipt for less than an earlier one (the upstream restored an old backup) moves the
    cursor back, so that the lost tail is sent again.
    """
    here = local_office(session)
    upstream = session.get(Office, here.parent_code) if here.parent_code else None
    if upstream is None or not upstream.public_key or receipt.key_id != upstream.key_id:
        raise SyncRefused("error.sync.receipt_key", office=receipt.receiver)
    if receipt.sender != here.code or receipt.receiver != upstream.code:
        raise SyncRefused("error.sync.receipt_key", office=receipt.receiver)
    if not receipt.verifies(bytes.fromhex(upstream.public_key)):
        raise SyncRefused("error.sync.receipt_signature", office=receipt.receiver)
    covered, document = 0, json.dumps(receipt.to_json(), sort_keys=True)
    for origin, (seq, digest) in sorted(receipt.heads.items()):
        ours = session.scalars(
            select(Event).where(col(Event.origin) == origin, col(Event.seq) == seq)
        ).first()
        if ours is None or ours.hash != digest:
            raise SyncRefused("error.sync.receipt_contradicts", origin=origin, seq=seq)
        covered += max(seq - pushed_up_to(session, origin), 0)
        _move_cursor(session, origin, seq, digest)
        stored = session.get(SyncReceipt, (upstream.code, origin)) or SyncReceipt(
            peer=upstream.code, origin=origin, seq=0, hash="", document="", received_at=now
        )
        stored.seq, stored.hash, stored.document = seq, digest, document
        stored.received_at = now
        session.add(stored)
    return covered


def _move_cursor(session: Session, origin: str, seq: int, digest: str) -> None:
    cursor = session.get(SyncCursor, (UPSTREAM, origin, "push")) or SyncCursor(
        peer=UPSTREAM, origin=origin, direction="push"
    )
    cursor.seq, cursor.hash = seq, digest
    session.add(cursor)
