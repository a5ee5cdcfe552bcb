"""Taking a batch from an office below: check everything, then store it all or nothing.

The checks, in order: the sender is enrolled here and not revoked; its office key signed the
batch; each event is canonical, of an origin in the sender's subtree, the next of its chain
(sequence without gap, previous hash) and signed by an active operator of its origin with
the right to sign its type (one signed by a key revoked before it is stored but held for a
supervisor's review, not applied: its office's chain stays whole). An event already held is
skipped only if it is the same event; the same place with another hash is a fork, refused
and recorded. Events, projections, chain
heads and cursors are written in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models import (
    Application,
    ChainHead,
    Event,
    Office,
    Operator,
    SyncCursor,
    SyncFork,
    Task,
)
from sync.wire import Batch, Receipt, WireEvent
from workstation import projector
from workstation.crypto import ALG_ED25519, Signer, canonical, key_id, sha256_hex, verify_signature
from workstation.errors import SyncRefused
from workstation.eventlog import GENESIS_PREV, decode
from workstation.projector import subject_of
from workstation.services.auth import may_act_on, may_sign
from workstation.services.office import local_office

MAX_RELAY_DEPTH = 6
"""Levels from a village to the nation: an origin further below the sender is not its own."""


@dataclass(frozen=True)
class Fork:
    """Where a peer's history and ours part."""

    origin: str
    seq: int
    stored_hash: str
    offered_hash: str


class ForkRefused(SyncRefused):
    """The batch rewrites history; the caller records ``fork`` apart from the refused batch."""

    def __init__(self, fork: Fork, sender: str) -> None:
        super().__init__("error.sync.fork", origin=fork.origin, seq=fork.seq)
        self.fork = fork
        self.sender = sender


@dataclass(frozen=True)
class Accepted:
    """What one batch did here."""

    stored: int
    skipped: int
    receipt: Receipt
    held: int = 0
    """Stored events signed by a revoked key: kept for review, not applied."""


def accept(session: Session, batch: Batch, *, office_key: Signer) -> Accepted:
    """Check ``batch`` whole and store it; refused whole with the first reason found."""
    here = local_office(session)
    sender = session.get(Office, batch.sender)
    if sender is None or not sender.enrolled or sender.parent_code != here.code:
        raise SyncRefused("error.sync.unenrolled", office=batch.sender)
    if sender.revoked_at is not None:
        raise SyncRefused("error.sync.revoked", office=batch.sender)
    if not sender.public_key or batch.key_id != sender.key_id:
        raise SyncRefused("error.sync.batch_signature", office=batch.sender)
    if not batch.verifies(bytes.fromhex(sender.public_key)):
        raise SyncRefused("error.sync.batch_signature", office=batch.sender)
    for origin, needed in sorted(batch.after.items()):
        head = session.get(ChainHead, origin)
        have = head.seq if head is not None else 0
        if have < needed:
            raise SyncRefused("error.sync.prerequisite", origin=origin, need=needed, have=have)
    stored = skipped = held = 0
    origins: set[str] = set()
    for index, wire, envelope, digest, known in incoming(session, batch):
        origin, seq = envelope["origin"], envelope["seq"]
        origins.add(origin)
        if known:
            skipped += 1
            continue
        if not _below(session, origin, batch.sender):
            raise SyncRefused("error.sync.foreign_origin", index=index, origin=origin)
        _check_link(session, envelope, index)
        check_signer(session, envelope, wire, index, here=here.code)
        session.add(event_row(envelope, wire, digest))
        try:
            held += projector.apply(session, envelope, digest)
        except (ValueError, KeyError, TypeError):
            # Well signed, but about something this office does not hold (an office, an
            # application, a material it never saw): refused whole, nothing half applied.
            raise SyncRefused(
                "error.sync.cannot_apply", index=index, origin=origin, seq=seq
            ) from None
        stored += 1
    heads = {}
    for origin in sorted(origins):
        head = session.get(ChainHead, origin)
        if head is not None:
            heads[origin] = (head.seq, head.hash)
            _advance(session, batch.sender, origin, head)
    receipt = Receipt.sign(here.code, batch.sender, heads, office_key, batch.version)
    return Accepted(stored, skipped, receipt, held)


def incoming(
    session: Session, batch: Batch
) -> Iterator[tuple[int, WireEvent, dict[str, Any], str, bool]]:
    """Each event of ``batch`` in order: its index, wire form, envelope, hash, and whether this
    very event is held here already (skip it). Another event held at its place is a fork,
    refused; an undecodable event is refused at its index. What is held is read once per
    batch, not once per event; an event the caller goes on from counts as held after it.
    """
    decoded: list[tuple[dict[str, Any], str] | SyncRefused] = []
    for index, wire in enumerate(batch.events):
        try:
            decoded.append(envelope_of(wire, index))
        except SyncRefused as refusal:
            decoded.append(refusal)  # raised in its turn, after the events before it
    held = _held_hashes(session, [item[0] for item in decoded if isinstance(item, tuple)])
    for index, (wire, item) in enumerate(zip(batch.events, decoded, strict=True)):
        if isinstance(item, SyncRefused):
            raise item
        envelope, digest = item
        place = (envelope["origin"], envelope["seq"])
        stored = held.get(place)
        if stored is not None and stored != digest:
            raise ForkRefused(Fork(place[0], place[1], stored, digest), batch.sender)
        yield index, wire, envelope, digest, stored is not None
        held[place] = digest


def _held_hashes(session: Session, envelopes: list[dict[str, Any]]) -> dict[tuple[str, int], str]:
    """The hashes of the stored events at the places ``envelopes`` name, one query per origin."""
    spans: dict[str, tuple[int, int]] = {}
    for envelope in envelopes:
        low, high = spans.get(envelope["origin"], (envelope["seq"], envelope["seq"]))
        spans[envelope["origin"]] = (min(low, envelope["seq"]), max(high, envelope["seq"]))
    held: dict[tuple[str, int], str] = {}
    for origin, (low, high) in sorted(spans.items()):
        rows = session.execute(
            select(col(Event.seq), col(Event.hash)).where(
                col(Event.origin) == origin, col(Event.seq) >= low, col(Event.seq) <= high
            )
        )
        held.update(((origin, seq), digest) for seq, digest in rows)
    return held


def record_fork(session: Session, refused: ForkRefused, now: datetime) -> None:
    """Keep the evidence of a fork (in its own transaction: the batch itself was refused)."""
    fork = refused.fork
    session.add(
        SyncFork(
            origin=fork.origin,
            seq=fork.seq,
            stored_hash=fork.stored_hash,
            offered_hash=fork.offered_hash,
            sender=refused.sender,
            detected_at=now,
        )
    )


def envelope_of(wire: WireEvent, index: int) -> tuple[dict[str, Any], str]:
    """The event's envelope, if its payload is one, in canonical form; and its hash."""
    try:
        envelope = decode(wire.payload)
    except (ValueError, UnicodeDecodeError):
        raise SyncRefused("error.sync.event_malformed", index=index) from None
    fields = {"origin": str, "seq": int, "prev": str, "type": str, "ts": str, "actor": str}
    if any(not isinstance(envelope.get(k), t) for k, t in fields.items()):
        raise SyncRefused("error.sync.event_malformed", index=index)
    if envelope.get("alg") != ALG_ED25519 or not isinstance(envelope.get("key_id"), str):
        raise SyncRefused("error.sync.event_malformed", index=index)
    if canonical(envelope) != wire.payload:
        raise SyncRefused("error.sync.event_not_canonical", index=index)
    if envelope["type"] not in projector.event_types():
        raise SyncRefused("error.sync.event_type", index=index, type=envelope["type"])
    return envelope, sha256_hex(wire.payload)


def _below(session: Session, origin: str, sender: str) -> bool:
    """True when ``origin`` is the sender or an office enrolled somewhere below it."""
    code: str | None = origin
    for _ in range(MAX_RELAY_DEPTH):
        if code == sender:
            return True
        office = session.get(Office, code) if code else None
        if office is None or not office.enrolled:
            return False
        code = office.parent_code
    return False


def _check_link(session: Session, envelope: dict[str, Any], index: int) -> None:
    head = session.get(ChainHead, envelope["origin"])
    seq, prev = (1, GENESIS_PREV) if head is None else (head.seq + 1, head.hash)
    if envelope["seq"] != seq:
        raise SyncRefused(
            "error.sync.gap", index=index, origin=envelope["origin"], seq=envelope["seq"], want=seq
        )
    if envelope["prev"] != prev:
        raise SyncRefused("error.sync.prev", index=index, origin=envelope["origin"], seq=seq)


def check_signer(
    session: Session, envelope: dict[str, Any], wire: WireEvent, index: int, *, here: str
) -> None:
    """Refuse an event not signed by an active operator of its origin (office ``here``
    receiving it) allowed to sign it."""
    origin, actor = envelope["origin"], envelope["actor"]
    if envelope["type"] == "office.opened" and envelope["seq"] == 1:
        body = envelope["body"]
        admin = body.get("admin") or {}
        public = bytes.fromhex(str(admin.get("public_key", "")))
        office = body.get("office") or {}
        genuine = key_id(public) == envelope["key_id"] and admin.get("username") == actor
        if not genuine or office.get("code") != origin:
            raise SyncRefused("error.sync.genesis", index=index, origin=origin)
    else:
        operator = session.get(Operator, (origin, actor))
        if operator is None or operator.key_id != envelope["key_id"]:
            raise SyncRefused("error.sync.unknown_key", index=index, key_id=envelope["key_id"])
        if not may_sign(
            operator.role, tuple(operator.departments), envelope["type"],
            _department(session, envelope),
        ):  # fmt: skip
            raise SyncRefused(
                "error.sync.not_allowed", index=index, actor=actor, role=f"role.{operator.role}",
                type=envelope["type"],
            )  # fmt: skip
        if not _may_touch_case(session, envelope, here):
            raise SyncRefused(
                "error.sync.not_allowed", index=index, actor=actor, role=f"role.{operator.role}",
                type=envelope["type"],
            )  # fmt: skip
        public = bytes.fromhex(operator.public_key)
    if not verify_signature(public, wire.signature, wire.payload):
        raise SyncRefused("error.sync.signature", index=index, origin=origin, seq=envelope["seq"])


def _may_touch_case(session: Session, envelope: dict[str, Any], here: str) -> bool:
    """Whether an event made here or below may be about its case: the window's work only at the
    office that accepted the case, the rest there or above it; never a sibling's or a parent's
    case. Events from above were checked by the upstream that relays them."""
    subject = subject_of(envelope)
    if subject is None or envelope["type"] in projector.OPENERS:
        return True
    application = session.get(Application, subject)
    if application is None or not _below(session, envelope["origin"], here):
        return True  # an unknown case is refused by the projector; one above is not ours to judge
    above: list[str] = []
    code = session.get(Office, application.origin)
    for _ in range(MAX_RELAY_DEPTH):
        if code is None or not code.parent_code:
            break
        above.append(code.parent_code)
        code = session.get(Office, code.parent_code)
    return may_act_on(envelope["type"], envelope["origin"], application.origin, tuple(above))


def _department(session: Session, envelope: dict[str, Any]) -> str | None:
    """The department of the task an event is about (None if it is not about a task)."""
    task_id = envelope["body"].get("task")
    task = session.get(Task, task_id) if isinstance(task_id, str) else None
    return task.department_code if task is not None else None


def event_row(envelope: dict[str, Any], wire: WireEvent, digest: str) -> Event:
    """The stored row of a checked event (every column derived from its payload)."""
    return Event(
        origin=envelope["origin"],
        seq=envelope["seq"],
        prev_hash=envelope["prev"],
        hash=digest,
        type=envelope["type"],
        ts=envelope["ts"],
        actor=envelope["actor"],
        subject=subject_of(envelope),
        key_id=envelope["key_id"],
        alg=envelope["alg"],
        payload=wire.payload,
        signature=wire.signature,
    )


def _advance(session: Session, peer: str, origin: str, head: ChainHead) -> None:
    """The cursor of what ``peer`` gave us of ``origin``, moved with the events it covers."""
    cursor = session.get(SyncCursor, (peer, origin, "in")) or SyncCursor(
        peer=peer, origin=origin, direction="in"
    )
    cursor.seq, cursor.hash = head.seq, head.hash
    session.add(cursor)
