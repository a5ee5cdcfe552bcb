"""Applicants: validated once, stored once, found again by ID, phone, name or initials."""

from __future__ import annotations

import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from models import Applicant
from workstation.datakey import LEGACY, DataKey
from workstation.errors import InvalidInput, NotFound, PermissionDenied
from workstation.identity import (
    mask_id,
    mask_phone,
    normalise_phone,
    parse_org_code,
    parse_person_id,
)
from workstation.pinyin import initials
from workstation.services import audit
from workstation.services.auth import Actor, require


@dataclass(frozen=True)
class ApplicantInput:
    """What the clerk typed about the applicant."""

    kind: str
    """``person`` or ``organisation``."""
    id_number: str
    name: str
    phone: str = ""
    address: str = ""
    ref: str = ""
    """A stored applicant picked from a search: its numbers are taken from the store."""


@dataclass(frozen=True)
class Numbers:
    """An applicant's ID and phone numbers in clear, for a reveal or a new application."""

    id_number: str
    phone: str


def clean_text(
    value: str, *, field: str | dict[str, str], max_length: int, required: bool = True
) -> str:
    """Trim ``value``; refuse control characters, over-long text, or an empty required value."""
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise InvalidInput("error.field.required", field=field)
    if len(value) > max_length:
        raise InvalidInput("error.field.too_long", field=field, max=max_length)
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        raise InvalidInput("error.field.control", field=field)
    return value


def validate(
    session: Session, data: ApplicantInput, *, key: DataKey, today: date
) -> dict[str, Any]:
    """The applicant as an event body part: ID checked, numbers sealed and referenced."""
    name = clean_text(data.name, field="field.name", max_length=100)
    address = clean_text(data.address, field="field.address", max_length=200, required=False)
    if data.ref:
        stored = session.get(Applicant, data.ref)
        if stored is None:
            raise NotFound("error.applicant.not_found", ref=data.ref[-8:])
        numbers = open_numbers(stored, key)
        number, phone, kind, id_kind = numbers.id_number, numbers.phone, stored.kind, stored.id_kind
    else:
        phone = normalise_phone(data.phone) if data.phone.strip() else ""
        number, id_kind = _checked_number(data.kind, data.id_number, today)
        kind = data.kind
    return {
        "ref": key.reference(number, kind="id"),
        "id_sealed": key.seal(number, kind="id"),
        "id_masked": mask_id(number),
        "kind": kind,
        "id_kind": id_kind,
        "name": name,
        "initials": initials(name),
        "phone_ref": key.reference(phone, kind="phone"),
        "phone_sealed": key.seal(phone, kind="phone"),
        "phone_masked": mask_phone(phone),
        "address": address,
    }


def _checked_number(kind: str, number: str, today: date) -> tuple[str, str]:
    if kind == "person":
        person = parse_person_id(number, today=today)
        return person.number, person.kind
    if kind == "organisation":
        org = parse_org_code(number)
        return org.code, org.kind
    raise InvalidInput("error.applicant.kind", value=kind)


def open_numbers(applicant: Applicant, key: DataKey) -> Numbers:
    """The applicant's numbers in clear (rows projected from events older than the seals
    carry them in their references)."""
    if applicant.ref.startswith(LEGACY):
        return Numbers(applicant.ref.removeprefix(LEGACY), applicant.phone_ref.removeprefix(LEGACY))
    return Numbers(
        key.open(applicant.id_sealed, kind="id"), key.open(applicant.phone_sealed, kind="phone")
    )


def data_key(actor: Actor) -> DataKey:
    """The data key the operator unlocked at login; refused if there is none."""
    if actor.data_key is None:
        raise PermissionDenied("error.datakey.missing")
    return actor.data_key


def get(session: Session, *, actor: Actor, id_number: str) -> Applicant | None:
    """The stored applicant with exactly this ID number or credit code."""
    require(actor, "read_personal")
    number = re.sub(r"\s", "", id_number).upper()
    return session.get(Applicant, data_key(actor).reference(number, kind="id")) or session.get(
        Applicant, LEGACY + number
    )


def find(session: Session, *, actor: Actor, text: str, limit: int = 20) -> list[Applicant]:
    """Applicants whose name or pinyin initials start with ``text``, or whose ID or phone
    number is exactly ``text`` (numbers are stored only as keyed hashes)."""
    require(actor, "read_personal")
    key = data_key(actor)
    # LIKE wildcards typed by the operator are text, never a way to list everyone.
    text = text.strip().replace("%", "").replace("_", "")
    if not text:
        return []
    like = text + "%"
    number = re.sub(r"[\s-]", "", text)
    refs = [key.reference(number.upper(), kind="id"), LEGACY + number.upper()]
    phones = [key.reference(number, kind="phone")]
    with suppress(InvalidInput):
        phones.append(key.reference(normalise_phone(text), kind="phone"))
    query = (
        select(Applicant)
        .where(
            or_(
                col(Applicant.ref).in_(refs),
                col(Applicant.phone_ref).in_(phones),
                col(Applicant.name).like(like),
                col(Applicant.initials).like(like.lower()),
            )
        )
        .order_by(col(Applicant.name))
        .limit(limit)
    )
    return list(session.scalars(query))


def reveal(session: Session, *, actor: Actor, ref: str, reason: str, now: datetime) -> Numbers:
    """An applicant's numbers in full, for an operator who gave a reason; the look is audited."""
    require(actor, "read_personal")
    why = clean_text(reason, field="field.reason", max_length=200)
    applicant = session.get(Applicant, ref)
    if applicant is None:
        raise NotFound("error.applicant.not_found", ref=ref[-8:])
    numbers = open_numbers(applicant, data_key(actor))
    audit.record(
        session, actor=actor.username, action="reveal", subject=applicant.id_masked, detail=why,
        now=now,
    )  # fmt: skip
    return numbers
