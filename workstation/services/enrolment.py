"""Offices below this one: the office key, the card an office hands upstream, enrol, revoke.

An upstream administrator enrols an office from its card (code, name, level and the public
half of its office key); from then on the office's sync requests are checked against that key.
Every step is a signed event, so the levels above learn of it when they sync.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from models import Office
from workstation import crypto, officekey
from workstation.crypto import Signer
from workstation.errors import Conflict, InvalidInput, NotFound
from workstation.services.applicants import clean_text
from workstation.services.auth import Actor, record, require
from workstation.services.office import LEVELS, local_office

CODE = re.compile(r"[0-9A-Z]{4,20}")
"""An office code (the same rule as at ``init``)."""


@dataclass(frozen=True)
class OfficeCard:
    """What an office hands to the level above to be enrolled: who it is and its public key."""

    code: str
    name: str
    level: str
    key_id: str
    public_key: str
    """Raw Ed25519 public key, hex."""

    def to_json(self) -> str:
        """The card as the file ``onewindow office card`` writes."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> OfficeCard:
        """A card read from a file; anything else is refused with the reason."""
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidInput("error.office_card.not_json") from None
        fields = ("code", "name", "level", "key_id", "public_key")
        if not isinstance(data, dict) or not all(isinstance(data.get(f), str) for f in fields):
            raise InvalidInput("error.office_card.fields", fields=", ".join(fields))
        return cls(**{f: data[f] for f in fields})

    def check(self) -> None:
        """Refuse a card whose code, level or key is not well formed, or whose key id lies."""
        if not CODE.fullmatch(self.code):
            raise InvalidInput("error.office.code", value=self.code)
        if self.level not in LEVELS:
            raise InvalidInput("error.office.level", value=self.level)
        clean_text(self.name, field="field.office", max_length=120)
        try:
            key = bytes.fromhex(self.public_key)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise InvalidInput("error.office_card.key")
        if crypto.key_id(key) != self.key_id:
            raise InvalidInput("error.office_card.key_id", key_id=self.key_id)


def register_office_key(
    session: Session, *, actor: Actor, key_dir: Path, now: datetime, signer: Signer | None = None
) -> str:
    """Give this office its office key (once) and register its public half; the key id."""
    require(actor, "administer")
    here = local_office(session)
    if here.key_id:
        raise Conflict("error.office_key.registered", key_id=here.key_id)
    path = officekey.office_key_file(key_dir, here.code)
    # A key file left by an attempt that did not commit is this office's own: register it.
    signer = (
        officekey.load(key_dir, here.code)
        if path.exists()
        else officekey.create(key_dir, here.code, signer)
    )
    body = {"office": here.code, "key_id": signer.key_id, "public_key": signer.public_key.hex()}
    record(session, actor, "office.key_registered", body, now)
    return signer.key_id


def office_card(session: Session) -> OfficeCard:
    """This office's card, to hand to the administrator of the level above."""
    here = local_office(session)
    if not here.key_id or not here.public_key:
        raise NotFound("error.office_key.unregistered")
    return OfficeCard(here.code, here.name, here.level, here.key_id, here.public_key)


def enrol(session: Session, *, actor: Actor, card: OfficeCard, now: datetime) -> Office:
    """Enrol an office below this one from its card (an administrator's act, signed)."""
    require(actor, "administer")
    card.check()
    here = local_office(session)
    if card.code == here.code:
        raise InvalidInput("error.enrol.self")
    if LEVELS.index(card.level) >= LEVELS.index(here.level):
        raise InvalidInput("error.enrol.level", level=f"level.{card.level}")
    existing = session.get(Office, card.code)
    if existing is not None and existing.enrolled and existing.revoked_at is None:
        raise Conflict("error.enrol.exists", code=card.code, key_id=existing.key_id or "")
    body = {**asdict(card), "parent": here.code}
    record(session, actor, "office.enrolled", body, now)
    office = session.get(Office, card.code)
    assert office is not None
    return office


def register_upstream(session: Session, *, actor: Actor, card: OfficeCard, now: datetime) -> None:
    """Learn the level above from its card: where this office syncs to, and its office key."""
    require(actor, "administer")
    card.check()
    here = local_office(session)
    if LEVELS.index(card.level) <= LEVELS.index(here.level):
        raise InvalidInput("error.upstream.level", level=f"level.{card.level}")
    if here.parent_code and here.parent_code != card.code:
        raise InvalidInput("error.upstream.other", parent=here.parent_code, code=card.code)
    record(session, actor, "office.upstream_registered", asdict(card), now)


def revoke(session: Session, *, actor: Actor, code: str, reason: str, now: datetime) -> None:
    """Stop accepting an enrolled office's key (a lost or stolen machine)."""
    require(actor, "administer")
    office = session.get(Office, code.strip())
    if office is None or not office.enrolled:
        raise NotFound("error.enrol.unknown", code=code)
    if office.revoked_at is not None:
        raise Conflict("error.enrol.revoked", code=office.code)
    reason = clean_text(reason, field="field.reason", max_length=500)
    record(session, actor, "office.revoked", {"code": office.code, "reason": reason}, now)


def enrolled(session: Session) -> list[Office]:
    """The offices enrolled below this one, revoked ones included, by code."""
    query = select(Office).where(col(Office.enrolled) == True).order_by(col(Office.code))  # noqa: E712
    return list(session.scalars(query))
