"""Signed requests between levels: the office key signs method, path, time, nonce and body.

The hub keeps no state outside its database, so the nonces it has seen are rows there: two
hub processes on one database refuse the same replayed request alike.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from models import Office, SyncNonce
from workstation import eventlog
from workstation.crypto import Signer, canonical, sha256_hex, verify_signature
from workstation.errors import SyncRefused

PUSH = "/sync/push"
"""Where an office below sends its batches."""
PULL = "/sync/pull"
"""Where an office below fetches what is addressed to it (body: ``{"after": position}``)."""
OFFICE = "X-Onewindow-Office"
TIME = "X-Onewindow-Time"
NONCE = "X-Onewindow-Nonce"
SIGNATURE = "X-Onewindow-Signature"
WINDOW = timedelta(minutes=5)
"""A request older or newer than this (by the hub's clock) is refused."""


def message(method: str, path: str, office: str, time: str, nonce: str, body: bytes) -> bytes:
    """The bytes an office key signs for one request."""
    return canonical(
        {"m": method.upper(), "p": path, "o": office, "t": time, "n": nonce, "b": sha256_hex(body)}
    )


def sign(
    office: str, key: Signer, method: str, path: str, body: bytes, now: datetime
) -> dict[str, str]:
    """The headers that authenticate one request of ``office``."""
    time, nonce = eventlog.timestamp(now), secrets.token_hex(16)
    signature = key.sign(message(method, path, office, time, nonce, body))
    return {OFFICE: office, TIME: time, NONCE: nonce, SIGNATURE: signature.hex()}


def check(
    session: Session, headers: dict[str, str], method: str, path: str, body: bytes, now: datetime
) -> Office:
    """The enrolled office that signed this request; refused (and nothing kept) otherwise."""
    code, time = headers.get(OFFICE, ""), headers.get(TIME, "")
    nonce, signature = headers.get(NONCE, ""), headers.get(SIGNATURE, "")
    office = session.get(Office, code) if code else None
    if office is None or not office.enrolled or not office.public_key:
        raise SyncRefused("error.sync.unenrolled", office=code or "?")
    if office.revoked_at is not None:
        raise SyncRefused("error.sync.revoked", office=code)
    try:
        sent = datetime.fromisoformat(time)
        raw = bytes.fromhex(signature)
    except ValueError:
        raise SyncRefused("error.sync.request_signature", office=code) from None
    if sent.tzinfo is None or abs(now - sent) > WINDOW:
        raise SyncRefused("error.sync.clock", office=code, time=time)
    if not 16 <= len(nonce) <= 64:
        raise SyncRefused("error.sync.request_signature", office=code)
    if not verify_signature(
        bytes.fromhex(office.public_key), raw, message(method, path, code, time, nonce, body)
    ):
        raise SyncRefused("error.sync.request_signature", office=code)
    if session.get(SyncNonce, (code, nonce)) is not None:
        raise SyncRefused("error.sync.replay", office=code)
    session.execute(delete(SyncNonce).where(col(SyncNonce.seen_at) < now - 2 * WINDOW))
    session.add(SyncNonce(office=code, nonce=nonce, seen_at=now))
    return office
