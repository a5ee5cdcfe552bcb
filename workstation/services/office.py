"""Setting up an office: the genesis event, operators and their keys, catalog, holidays."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from models import CalendarYear, Department, Office, Operator
from workstation import eventlog, keystore
from workstation.catalog import Catalog
from workstation.crypto import Signer, canonical, hash_password, seal_private_key
from workstation.errors import Conflict, InvalidInput, NotFound
from workstation.pinyin import initials
from workstation.services.applicants import clean_text
from workstation.services.auth import ROLES, Actor, record, require
from workstation.workdays import WorkCalendar, YearSchedule

LEVELS = ("village", "township", "county", "city", "province", "national")
"""Levels of office, from the bottom up (层级)."""


@dataclass(frozen=True)
class OfficeSpec:
    """What ``init_office`` needs to know about an office."""

    code: str
    name: str
    level: str


def local_office(session: Session) -> Office:
    """The office this database belongs to; NotFound before ``onewindow init``."""
    office = session.scalars(select(Office).where(col(Office.local) == True)).first()  # noqa: E712
    if office is None:
        raise NotFound("error.not_initialised")
    return office


def work_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar, with every holiday schedule an administrator loaded."""
    rows = session.scalars(select(CalendarYear).order_by(col(CalendarYear.year)))
    return _calendar(tuple(canonical(row.schedule).decode() for row in rows))


@lru_cache(maxsize=8)
def _calendar(schedules: tuple[str, ...]) -> WorkCalendar:
    # Building a calendar computes whole years of days; reuse it while the schedules stand.
    return WorkCalendar(YearSchedule.from_dict(json.loads(text)) for text in schedules)


def _check_username(username: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{1,39}", username):
        raise InvalidInput("error.operator.username", value=username)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise InvalidInput("error.operator.password")


def _check_name(name: str, field: str) -> str:
    name = name.strip()
    if not name or len(name) > 80 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput("error.name", field=field)
    return name


def _seal(key_dir: Path, username: str, password: str, signer: Signer) -> dict[str, str]:
    keystore.save(
        key_dir,
        username,
        {
            "username": username,
            "key_id": signer.key_id,
            "public_key": signer.public_key.hex(),
            "password": hash_password(password),
            "key": seal_private_key(signer.private_key, password),
        },
    )
    return {"key_id": signer.key_id, "public_key": signer.public_key.hex()}


def init_office(
    session: Session,
    *,
    key_dir: Path,
    office: OfficeSpec,
    parent: OfficeSpec | None,
    admin_username: str,
    admin_name: str,
    admin_password: str,
    now: datetime,
    demo: bool = False,
    signer: Signer | None = None,
) -> Actor:
    """Open a new office: the genesis event, signed by its first administrator."""
    if session.scalars(select(Office).where(col(Office.local) == True)).first():  # noqa: E712
        raise Conflict("error.already_initialised")
    for spec in (office, parent):
        if spec is None:
            continue
        if not re.fullmatch(r"[0-9A-Z]{4,20}", spec.code):
            raise InvalidInput("error.office.code", value=spec.code)
        if spec.level not in LEVELS:
            raise InvalidInput("error.office.level", value=spec.level)
        _check_name(spec.name, "office")
    if parent and LEVELS.index(parent.level) <= LEVELS.index(office.level):
        raise InvalidInput("error.office.parent_level")
    _check_username(admin_username)
    _check_password(admin_password)
    name = _check_name(admin_name, "name")
    signer = signer or Signer.generate()
    keys = _seal(key_dir, admin_username, admin_password, signer)
    admin = {
        "username": admin_username,
        "name": name,
        "role": "admin",
        "office": office.code,
        "departments": [],
        **keys,
    }
    body = {
        "office": {"code": office.code, "name": office.name, "level": office.level},
        "parent": (
            {"code": parent.code, "name": parent.name, "level": parent.level} if parent else None
        ),
        "admin": admin,
        "demo": demo,
    }
    eventlog.append(
        session,
        signer=signer,
        actor=admin_username,
        origin=office.code,
        type="office.opened",
        body=body,
        now=now,
    )
    return Actor(admin_username, name, "admin", office.code, (), signer)


def add_operator(
    session: Session,
    *,
    actor: Actor,
    key_dir: Path,
    username: str,
    name: str,
    role: str,
    departments: list[str],
    password: str,
    now: datetime,
    signer: Signer | None = None,
) -> Operator:
    """Register an operator and their new key (signed by an administrator)."""
    require(actor, "administer")
    _check_username(username)
    _check_password(password)
    name = _check_name(name, "name")
    if role not in ROLES:
        raise InvalidInput("error.operator.role", value=role, roles=", ".join(ROLES))
    if session.get(Operator, (actor.office_code, username)) is not None:
        raise Conflict("error.operator.exists", username=username)
    for code in departments:
        if session.get(Department, code) is None:
            raise NotFound("error.department.unknown", code=code)
    if role == "officer" and not departments:
        raise InvalidInput("error.operator.needs_department")
    if role != "officer" and departments:
        raise InvalidInput("error.operator.only_officers")
    signer = signer or Signer.generate()
    keys = _seal(key_dir, username, password, signer)
    body = {
        "username": username,
        "name": name,
        "role": role,
        "office": actor.office_code,
        "departments": sorted(departments),
        **keys,
    }
    record(session, actor, "operator.registered", body, now)
    operator = session.get(Operator, (actor.office_code, username))
    assert operator is not None
    return operator


def revoke_operator(
    session: Session, *, actor: Actor, username: str, reason: str, now: datetime
) -> None:
    """Revoke an operator's key: what it signs from here on is held for review, not applied."""
    require(actor, "administer")
    operator = session.get(Operator, (actor.office_code, username))
    if operator is None:
        raise NotFound("error.operator.unknown", username=username)
    if not operator.active:
        raise Conflict("error.operator.revoked", username=username)
    if username == actor.username:
        raise Conflict("error.operator.revoke_self")
    reason = clean_text(reason, field="field.reason", max_length=500)
    record(session, actor, "operator.revoked", {"username": username, "reason": reason}, now)


def publish_catalog(session: Session, *, actor: Actor, catalog: Catalog, now: datetime) -> int:
    """Publish departments and matters; the routing's departments are placed at an office."""
    require(actor, "administer")
    office = local_office(session)
    parent = session.get(Office, office.parent_code) if office.parent_code else None
    departments = []
    for dep in catalog.departments:
        above = LEVELS.index(dep.level) > LEVELS.index(office.level)
        host = parent.code if (above and parent is not None) else office.code
        departments.append(
            {
                "code": dep.code,
                "name_zh": dep.name.zh,
                "name_en": dep.name.en,
                "level": dep.level,
                "office_code": host,
            }
        )
    matters = [
        {"definition": m.model_dump(mode="json"), "initials": initials(m.name.zh)}
        for m in catalog.matters
    ]
    body = {"departments": departments, "matters": matters}
    record(session, actor, "catalog.published", body, now)
    return len(matters)


def load_calendar(session: Session, *, actor: Actor, schedule: YearSchedule, now: datetime) -> None:
    """Record an official holiday schedule; due dates counted from now on use it."""
    require(actor, "administer")
    body = {"schedule": schedule.to_dict()}
    record(session, actor, "calendar.loaded", body, now)


def upstream_departments(session: Session) -> set[str]:
    """Departments that sit above this office and have no officer here: their tasks go up.

    Such a task is decided at the level above after sync, and its decision comes back down.
    (A hall may host a county bureau's officer at its window; then the task stays here.)
    """
    here = local_office(session)
    above = {
        d.code
        for d in session.scalars(select(Department))
        if d.level in LEVELS and LEVELS.index(d.level) > LEVELS.index(here.level)
    }
    query = select(Operator).where(
        col(Operator.office_code) == here.code, col(Operator.role) == "officer"
    )
    staffed = {d for o in session.scalars(query) if o.active for d in o.departments}
    return above - staffed
