"""Operators: who is acting, logging in, and the rights of each role (invariant 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from models import AuditEntry, Office, Operator
from workstation import datakey, eventlog, keystore
from workstation.crypto import Signer, check_password, open_private_key
from workstation.datakey import DataKey
from workstation.errors import AccountLocked, AuthenticationFailed, PermissionDenied

ROLES = ("clerk", "officer", "supervisor", "admin", "auditor")
"""综合窗口受理员 · 部门审批人员 · 督查 · 管理员 · 审计员."""

RIGHTS: dict[str, frozenset[str]] = {
    "clerk": frozenset(
        {"accept", "refuse", "handle_case", "read_personal", "read_cases", "register_applicant"}
    ),
    "officer": frozenset({"decide", "read_personal", "read_cases"}),
    "supervisor": frozenset({"supervise", "reassign", "read_cases"}),
    "admin": frozenset({"administer"}),
    "auditor": frozenset({"audit"}),
}
"""What each role may do; services call ``require`` before anything else."""

SIGNING_RIGHTS: dict[str, str] = {
    "application.accepted": "accept",
    "application.refused": "refuse",
    "task.claimed": "decide",
    "task.approved": "decide",
    "task.rejected": "decide",
    "task.supplement_requested": "decide",
    "task.reassigned": "reassign",
    "supplement.received": "handle_case",
    "material.received": "handle_case",
    "application.withdrawn": "handle_case",
    "application.delivered": "handle_case",
    "application.rated": "handle_case",
    "held.admitted": "supervise",
    "held.refused": "supervise",
    "catalog.published": "administer",
    "calendar.loaded": "administer",
    "operator.registered": "administer",
    "operator.revoked": "administer",
    "office.key_registered": "administer",
    "office.enrolled": "administer",
    "office.revoked": "administer",
    "office.upstream_registered": "administer",
}
"""The right the signer of each event type must hold: the services require it before they
sign, and every office that receives the event checks it again (a forged approval signed
with a clerk's key is refused upstream)."""
DEPARTMENT_TYPES = frozenset({"task.claimed", "task.approved", "task.rejected",
                              "task.supplement_requested", "task.released"})  # fmt: skip
"""Events on a task, which only an officer of the task's department signs."""
OWN_CASE_TYPES = frozenset({"supplement.received", "material.received", "application.withdrawn",
                            "application.delivered", "application.rated"})  # fmt: skip
"""The window's work on a case, which only the office that accepted the case signs."""
READ_RIGHTS: dict[str, str] = {
    "case": "read_cases",
    "document": "read_cases",
    "applicant": "read_personal",
    "reveal": "read_personal",
    "dashboard": "supervise",
    "overdue": "supervise",
    "audit": "audit",
}
"""The right each kind of reading needs (a department's queue: see ``may_read_queue``)."""


def may_sign(role: str, departments: tuple[str, ...], kind: str, department: str | None) -> bool:
    """Whether an operator of ``role`` (in ``departments``) may sign an event ``kind`` on a
    task of ``department``."""
    rights = RIGHTS.get(role, frozenset())
    if kind == "task.released":
        # The holder gives a task back, or a supervisor frees it.
        return "supervise" in rights or ("decide" in rights and department in departments)
    right = SIGNING_RIGHTS.get(kind)
    if right is None or right not in rights:
        return False
    return kind not in DEPARTMENT_TYPES or department in departments


def may_act_on(kind: str, office: str, case_office: str, above_case: tuple[str, ...]) -> bool:
    """Whether an office may sign an event ``kind`` about (or read) a case accepted at
    ``case_office``, whose offices above are ``above_case``: the window's work only there,
    anything else there or above it (a county decides its bureau's task of a township case);
    never at a sibling office, never below."""
    if kind in OWN_CASE_TYPES:
        return office == case_office
    return office == case_office or office in above_case


def may_read_queue(role: str, departments: tuple[str, ...], department: str) -> bool:
    """Whether an operator may read the queue of ``department``: its officers, supervisors."""
    rights = RIGHTS.get(role, frozenset())
    return "supervise" in rights or ("decide" in rights and department in departments)


@dataclass(frozen=True)
class Actor:
    """A logged-in operator with their unlocked signing key."""

    username: str
    name: str
    role: str
    office_code: str
    departments: tuple[str, ...]
    signer: Signer = field(repr=False)
    data_key: DataKey | None = field(default=None, repr=False)
    """The office's data key, unlocked only for roles that handle personal numbers."""

    def may(self, right: str) -> bool:
        """True when the operator's role grants ``right``."""
        return right in RIGHTS.get(self.role, frozenset())


def record(
    session: Session, actor: Actor, type: str, body: dict[str, Any], now: datetime
) -> eventlog.Appended:
    """Append ``body`` as the next event of the actor's office, signed by the actor."""
    return eventlog.append(
        session,
        signer=actor.signer,
        actor=actor.username,
        origin=actor.office_code,
        type=type,
        body=body,
        now=now,
    )


def require(actor: Actor, right: str, *, department: str | None = None) -> None:
    """Raise PermissionDenied unless ``actor`` holds ``right`` (for ``department``, if given)."""
    if not actor.may(right):
        raise PermissionDenied(
            "error.permission.role", role=f"role.{actor.role}", action=f"right.{right}"
        )
    if department is not None and department not in actor.departments:
        raise PermissionDenied("error.permission.department", department=department)


def require_case_office(actor: Actor, kind: str, case_office: str) -> None:
    """Raise PermissionDenied unless the actor's office may sign ``kind`` on a case accepted at
    ``case_office`` (an office holds only the cases at or below it, so only the window's work
    is left to check: a county's clerk does not deliver a township's case)."""
    if kind not in OWN_CASE_TYPES or case_office == actor.office_code:
        return
    raise PermissionDenied("error.permission.office", office=case_office)


def require_queue(actor: Actor, department: str) -> None:
    """Raise PermissionDenied unless the actor may read the queue of ``department``."""
    if may_read_queue(actor.role, actor.departments, department):
        return
    if actor.may("decide"):
        raise PermissionDenied("error.permission.department", department=department)
    raise PermissionDenied(
        "error.permission.role", role=f"role.{actor.role}", action="right.supervise"
    )


LOCK_AFTER = 5
"""Wrong passwords in a row (within ``LOCK_FOR``) that lock an operator name."""
LOCK_FOR = timedelta(minutes=10)


def locked_until(session: Session, username: str, now: datetime) -> datetime | None:
    """When a locked operator name may try again (None if it is not locked).

    Counted from the audit trail: the failed logins since the last good one, within the last
    ``LOCK_FOR``. Names that do not exist lock the same way, so a lock tells nothing.
    """
    last_good = select(func.max(AuditEntry.id)).where(
        col(AuditEntry.actor) == username, col(AuditEntry.action) == "login"
    )
    failures = list(
        session.scalars(
            select(col(AuditEntry.at))
            .where(
                col(AuditEntry.actor) == username,
                col(AuditEntry.action) == "login_failed",
                col(AuditEntry.at) > now - LOCK_FOR,
                col(AuditEntry.id) > func.coalesce(last_good.scalar_subquery(), 0),
            )
            .order_by(col(AuditEntry.at).desc())
        )
    )
    if len(failures) < LOCK_AFTER:
        return None
    until = _aware(failures[LOCK_AFTER - 1]) + LOCK_FOR
    return until if until > now else None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def login(
    session: Session,
    *,
    key_dir: Path,
    username: str,
    password: str,
    now: datetime | None = None,
) -> Actor:
    """Check the password against its scrypt hash and unlock the operator's key (offline).

    Refused, whatever the password, while the name is locked after repeated failures.
    """
    now = now or datetime.now(UTC)
    until = locked_until(session, username, now)
    if until is not None:
        raise AccountLocked(until=f"{until.astimezone(now.tzinfo):%H:%M}")
    here = session.scalars(select(Office.code).where(col(Office.local) == True)).first()  # noqa: E712
    operator = session.get(Operator, (here, username)) if here else None
    if operator is None or not operator.active:
        raise AuthenticationFailed()
    record = keystore.load(key_dir, username)
    if record.get("key_id") != operator.key_id or not check_password(password, record["password"]):
        raise AuthenticationFailed()
    private_key = open_private_key(record["key"], password)
    if private_key is None:
        raise AuthenticationFailed()
    signer = Signer(private_key)
    if signer.key_id != operator.key_id:
        raise AuthenticationFailed()
    return Actor(
        username=operator.username,
        name=operator.name,
        role=operator.role,
        office_code=operator.office_code,
        departments=tuple(operator.departments),
        signer=signer,
        data_key=datakey.load_or_create(key_dir, operator.office_code)
        if handles_personal_data(operator.role)
        else None,
    )


def handles_personal_data(role: str) -> bool:
    """Whether ``role`` stores or reads ID and phone numbers (and so unlocks the data key)."""
    return bool(RIGHTS.get(role, frozenset()) & {"read_personal", "accept", "refuse"})
