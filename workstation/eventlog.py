"""Append signed, chained events; every change of state goes through ``append``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from models import ChainHead, Event
from workstation import projector
from workstation.crypto import ALG_ED25519, Signer, canonical, sha256_hex
from workstation.projector import subject_of

GENESIS_PREV = "0" * 64
"""``prev`` of the first event of every origin."""

ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class Appended:
    """What ``append`` stored: the event row and the decoded envelope."""

    event: Event
    envelope: dict[str, Any]


def timestamp(now: datetime) -> str:
    """The event time as stored and signed: ISO 8601, milliseconds, with the UTC offset."""
    if now.tzinfo is None:
        now = now.astimezone()
    return now.isoformat(timespec="milliseconds")


def next_seq(session: Session, origin: str) -> int:
    """The sequence number the next event of ``origin`` will get."""
    head = session.get(ChainHead, origin)
    return 1 if head is None else head.seq + 1


def append(
    session: Session,
    *,
    signer: Signer,
    actor: str,
    origin: str,
    type: str,
    body: dict[str, Any],
    now: datetime,
) -> Appended:
    """Sign ``body`` as the next event of ``origin`` and apply it to the projections."""
    head = session.get(ChainHead, origin)
    seq, prev = (1, GENESIS_PREV) if head is None else (head.seq + 1, head.hash)
    if now.tzinfo is None:
        now = now.astimezone()
    subject = subject_of({"body": body})
    if subject is not None and type not in projector.OPENERS:
        now = projector.not_before(projector.latest_key(session, subject), origin, now)
    ts = timestamp(now)
    envelope = {
        "v": ENVELOPE_VERSION,
        "origin": origin,
        "seq": seq,
        "prev": prev,
        "type": type,
        "ts": ts,
        "actor": actor,
        "key_id": signer.key_id,
        "alg": ALG_ED25519,
        "body": body,
    }
    payload = canonical(envelope)
    event = Event(
        origin=origin,
        seq=seq,
        prev_hash=prev,
        hash=sha256_hex(payload),
        type=type,
        ts=ts,
        actor=actor,
        subject=subject,
        key_id=signer.key_id,
        alg=ALG_ED25519,
        payload=payload,
        signature=signer.sign(payload),
    )
    session.add(event)
    projector.apply(session, envelope, event.hash)
    return Appended(event, envelope)


def decode(payload: bytes) -> dict[str, Any]:
    """The envelope of a stored event (raises ValueError if the bytes are not an envelope)."""
    value = json.loads(payload.decode("utf-8"))
    if not isinstance(value, dict) or not isinstance(value.get("body"), dict):
        raise ValueError("not an event envelope")
    return value
