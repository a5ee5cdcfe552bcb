"""Applicants: validated once, stored once, found again by ID, phone, name or initials."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session, col

from models import Applicant
from workstation.errors import InvalidInput
from workstation.identity import normalise_phone, parse_org_code, parse_person_id
from workstation.pinyin import initials
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


def validate(data: ApplicantInput, *, today: date) -> dict[str, Any]:
    """The applicant as an event body part: ID checked, birth date and gender derived."""
    name = clean_text(data.name, field="field.name", max_length=100)
    phone = normalise_phone(data.phone) if data.phone.strip() else ""
    address = clean_text(data.address, field="field.address", max_length=200, required=False)
    if data.kind == "person":
        person = parse_person_id(data.id_number, today=today)
        number, id_kind = person.number, person.kind
        birth: str | None = person.birth_date.isoformat()
        gender: str | None = person.gender
    elif data.kind == "organisation":
        org = parse_org_code(data.id_number)
        number, id_kind, birth, gender = org.code, org.kind, None, None
    else:
        raise InvalidInput("error.applicant.kind", value=data.kind)
    return {
        "id_number": number,
        "kind": data.kind,
        "id_kind": id_kind,
        "name": name,
        "initials": initials(name),
        "phone": phone,
        "address": address,
        "birth_date": birth,
        "gender": gender,
    }


def as_input(applicant: Applicant) -> ApplicantInput:
    """A stored applicant as input for a new application (collect once)."""
    return ApplicantInput(
        applicant.kind, applicant.id_number, applicant.name, applicant.phone, applicant.address
    )


def get(session: Session, *, actor: Actor, id_number: str) -> Applicant | None:
    """The stored applicant with exactly this ID number or credit code."""
    require(actor, "read_personal")
    return session.get(Applicant, re.sub(r"\s", "", id_number).upper())


def find(session: Session, *, actor: Actor, text: str, limit: int = 20) -> list[Applicant]:
    """Applicants whose ID number, phone, name or pinyin initials start with ``text``."""
    require(actor, "read_personal")
    # LIKE wildcards typed by the operator are text, never a way to list everyone.
    text = text.strip().replace("%", "").replace("_", "")
    if not text:
        return []
    like = text + "%"
    query = (
        select(Applicant)
        .where(
            or_(
                col(Applicant.id_number).like(like.upper()),
                col(Applicant.phone).like(like),
                col(Applicant.name).like(like),
                col(Applicant.initials).like(like.lower()),
            )
        )
        .order_by(col(Applicant.name))
        .limit(limit)
    )
    return list(session.scalars(query))
