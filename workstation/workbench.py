"""The workstation as the screens see it: one method per action, one transaction per call.

Screens never open sessions or write SQL; they call a ``Workbench``, which logs the operator in,
runs the service in its own transaction with the office clock, and hands back plain results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlmodel import col

from models import Applicant, Department, Event, Operator
from workstation import documents
from workstation.catalog.schema import Matter
from workstation.crypto import sha256_hex, verify_signature
from workstation.db import reading, writing
from workstation.errors import AccountLocked, AuthenticationFailed, PermissionDenied
from workstation.services import applicants, audit, cases, intake, outbox, supervision, tasks
from workstation.services.auth import Actor, login
from workstation.services.office import local_office, upstream_departments
from workstation.settings import Settings


@dataclass(frozen=True)
class OfficeInfo:
    """What the header shows about the office."""

    code: str
    name: str
    level: str
    demo: bool
    upstream: bool
    """Whether a level above is configured to sync with."""
    waiting: int
    """This office's events the upstream has not taken yet."""


@dataclass(frozen=True)
class MatterChoice:
    """A matter in a pick list."""

    code: str
    name_zh: str
    name_en: str
    initials: str
    applicant_kind: str

    def name(self, language: str) -> str:
        """The matter's name in ``language``."""
        return self.name_zh if language.startswith("zh") else self.name_en


class Workbench:
    """Every action of the screens, rights enforced by the services below."""

    def __init__(
        self, settings: Settings, engine: Engine, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self._clock = clock or (lambda: datetime.now().astimezone())
        self.actor: Actor | None = None

    def now(self) -> datetime:
        """The office's current time."""
        return self._clock()

    @property
    def me(self) -> Actor:
        """The logged-in operator (screens only call this after login)."""
        if self.actor is None:
            raise AuthenticationFailed()
        return self.actor

    # ── office and login ───────────────────────────────────────────────────────────────
    def office(self) -> OfficeInfo:
        """The local office."""
        with reading(self.engine) as session:
            row = local_office(session)
            upstream = bool(self.settings.upstream_url)
            return OfficeInfo(
                row.code, row.name, row.level, row.demo, upstream, outbox.waiting(session)
            )

    def sync_overview(self) -> outbox.Overview:
        """This office's place between the levels: waiting, sent, held, offices below."""
        with reading(self.engine) as session:
            return outbox.overview(session)

    def demo_operators(self) -> list[tuple[str, str, str]]:
        """(user, name, role) of every operator, on a demo office only; else nothing."""
        with reading(self.engine) as session:
            here = local_office(session)
            if not here.demo:
                return []
            query = select(Operator).where(col(Operator.office_code) == here.code)
            rows = session.scalars(query.order_by(col(Operator.username)))
            return [(o.username, o.name, o.role) for o in rows if o.active]

    def login(self, username: str, password: str) -> Actor:
        """Log in offline; a failure is audited and says nothing about which part was wrong."""
        try:
            with reading(self.engine) as session:
                actor = login(
                    session,
                    key_dir=self.settings.key_dir,
                    username=username.strip(),
                    password=password,
                    now=self.now(),
                )
        except AccountLocked:
            raise  # a try while locked is not one more wrong password
        except AuthenticationFailed:
            self._audit(username.strip()[:40] or "?", "login_failed")
            raise
        self.actor = actor
        self._audit(actor.username, "login")
        return actor

    def logout(self) -> None:
        """Forget the operator and their unlocked key."""
        if self.actor is not None:
            self._audit(self.actor.username, "logout")
        self.actor = None

    def _audit(self, who: str, action: str, subject: str = "", detail: str = "") -> None:
        with writing(self.engine) as session:
            audit.record(
                session, actor=who, action=action, subject=subject, detail=detail, now=self.now()
            )

    def refused(self, error: PermissionDenied) -> None:
        """Record a refusal in the audit trail (the screens call this when one reaches them)."""
        self._audit(self.me.username, "refused", detail=error.key)

    # ── intake ───────────────────────────────────────────────────────────────────────────
    def matters(self) -> list[MatterChoice]:
        """Every published matter, for the pick list."""
        from models import Matter as MatterRow

        with reading(self.engine) as session:
            rows = session.scalars(select(MatterRow).order_by(col(MatterRow.code)))
            return [
                MatterChoice(r.code, r.name_zh, r.name_en, r.initials, r.applicant_kind)
                for r in rows
            ]

    def matter(self, code: str) -> Matter:
        """The published matter ``code``."""
        with reading(self.engine) as session:
            return intake.matter(session, code)

    def find_applicants(self, text: str) -> list[Applicant]:
        """Stored applicants matching an ID number, phone, name or pinyin initials."""
        with reading(self.engine) as session:
            return applicants.find(session, actor=self.me, text=text)

    def preview(self, request: intake.IntakeRequest) -> intake.FanOut:
        """The fan-out of a request before it is submitted."""
        with reading(self.engine) as session:
            return intake.preview(session, actor=self.me, request=request, now=self.now())

    def accept(self, request: intake.IntakeRequest) -> intake.IntakeResult:
        """Accept the application whole."""
        with writing(self.engine) as session:
            return intake.accept(session, actor=self.me, request=request, now=self.now())

    def document(
        self, kind: str, tracking_no: str, language: str, task_id: str = ""
    ) -> documents.Issued:
        """A sealed document of a case, in ``language``."""
        with reading(self.engine) as session:
            return documents.issue(
                session, kind, tracking_no, actor=self.me, language=language,
                key_dir=self.settings.key_dir, now=self.now(), task_id=task_id,
            )  # fmt: skip

    def intake_papers(self, tracking_no: str, language: str) -> list[documents.Issued]:
        """What the applicant takes from the window: the receipt, and the notice of what is
        still owed when something is."""
        papers = [self.document("acceptance", tracking_no, language)]
        with reading(self.engine) as session:
            owed = bool(cases.owed_materials(session, tracking_no))
        if owed:
            papers.append(self.document("owed", tracking_no, language))
        return papers

    def refuse(self, applicant: applicants.ApplicantInput, matter_code: str, reason: str) -> str:
        """不予受理 with the reason; the tracking number issued for the record."""
        with writing(self.engine) as session:
            return intake.refuse(
                session, actor=self.me, applicant=applicant, matter_code=matter_code,
                reason=reason, now=self.now(),
            )  # fmt: skip

    def reveal(self, ref: str, reason: str) -> applicants.Numbers:
        """An applicant's ID and phone in full, for a reason written to the audit trail
        (no reason, no look)."""
        with writing(self.engine) as session:
            return applicants.reveal(session, actor=self.me, ref=ref, reason=reason, now=self.now())

    # ── department queue ─────────────────────────────────────────────────────────────────
    def queue(
        self,
        department: str,
        *,
        view: str = "all",
        search: str = "",
        after: supervision.QueueKey | None = None,
        limit: int = 50,
    ) -> supervision.QueuePage:
        """One page of a department's queue: the first, or the one after a task."""
        with reading(self.engine) as session:
            return supervision.queue(
                session,
                actor=self.me,
                department=department,
                now=self.now(),
                view=view,
                search=search,
                after=after,
                limit=limit,
                soon_days=self.settings.due_soon_days,
            )

    def queue_size(self, department: str, *, view: str = "all", search: str = "") -> int:
        """How many tasks one view of a department's queue holds."""
        with reading(self.engine) as session:
            return supervision.queue_size(
                session,
                actor=self.me,
                department=department,
                now=self.now(),
                view=view,
                search=search,
            )

    def claim(self, task_id: str) -> None:
        """Claim a task for the settings' lease."""
        with writing(self.engine) as session:
            tasks.claim(
                session,
                actor=self.me,
                task_id=task_id,
                now=self.now(),
                hours=self.settings.claim_hours,
            )

    def approve(self, task_id: str, permit_no: str) -> list[str]:
        """Approve; returns the codes of the tasks it opens."""
        with writing(self.engine) as session:
            return tasks.approve(
                session, actor=self.me, task_id=task_id, permit_no=permit_no, now=self.now()
            )

    def reject(self, task_id: str, reason: str) -> None:
        """Reject with a reason."""
        with writing(self.engine) as session:
            tasks.reject(session, actor=self.me, task_id=task_id, reason=reason, now=self.now())

    def request_supplement(self, task_id: str, materials: list[str], reason: str) -> None:
        """Ask for materials; the clocks stop."""
        with writing(self.engine) as session:
            tasks.request_supplement(
                session,
                actor=self.me,
                task_id=task_id,
                materials=materials,
                reason=reason,
                now=self.now(),
            )

    # ── case ─────────────────────────────────────────────────────────────────────────────
    def case(self, tracking_no: str) -> cases.CaseView:
        """The case with its tasks, materials and signed timeline."""
        with reading(self.engine) as session:
            return cases.case_view(session, actor=self.me, tracking_no=tracking_no)

    def event_checks(self, events: Sequence[Event]) -> dict[int, bool]:
        """Event id → its hash matches its bytes and its signer's registered key verifies it."""
        with reading(self.engine) as session:
            keys = {
                o.key_id: (o.username, bytes.fromhex(o.public_key))
                for o in session.scalars(select(Operator))
            }
        checks: dict[int, bool] = {}
        for event in events:
            signer = keys.get(event.key_id)
            checks[event.id or 0] = (
                signer is not None
                and signer[0] == event.actor
                and sha256_hex(event.payload) == event.hash
                and verify_signature(signer[1], event.signature, event.payload)
            )
        return checks

    def sync_marks(self, events: Sequence[Event]) -> dict[int, str]:
        """Event id → provisional, receipted, from_above or from_below (see ``outbox``)."""
        with reading(self.engine) as session:
            return outbox.sync_marks(session, list(events))

    def record_supplement(self, task_id: str) -> None:
        """The applicant brought what a department asked for."""
        with writing(self.engine) as session:
            cases.record_supplement(session, actor=self.me, task_id=task_id, now=self.now())

    def record_material(self, tracking_no: str, material: str) -> None:
        """A 容缺 material arrived."""
        with writing(self.engine) as session:
            cases.record_material(
                session, actor=self.me, tracking_no=tracking_no, material=material, now=self.now()
            )

    def withdraw(self, tracking_no: str, reason: str) -> None:
        """The applicant withdraws."""
        with writing(self.engine) as session:
            cases.withdraw(
                session, actor=self.me, tracking_no=tracking_no, reason=reason, now=self.now()
            )

    def owed(self, tracking_no: str) -> list[str]:
        """Codes of the materials still owed (容缺 or 补正) by an application."""
        with reading(self.engine) as session:
            return [m.material_code for m in cases.owed_materials(session, tracking_no)]

    def deliver(self, tracking_no: str) -> None:
        """Hand the result over."""
        with writing(self.engine) as session:
            cases.deliver(session, actor=self.me, tracking_no=tracking_no, now=self.now())

    def rate(self, tracking_no: str, score: int, comment: str) -> None:
        """Record the applicant's rating."""
        with writing(self.engine) as session:
            cases.rate(
                session,
                actor=self.me,
                tracking_no=tracking_no,
                score=score,
                comment=comment,
                now=self.now(),
            )

    # ── supervision ──────────────────────────────────────────────────────────────────────
    def overview(self, days: int = 30) -> supervision.Overview:
        """The dashboard figures."""
        with reading(self.engine) as session:
            return supervision.overview(
                session,
                actor=self.me,
                now=self.now(),
                days=days,
                soon_days=self.settings.due_soon_days,
            )

    def overdue_applications(self) -> supervision.OverdueCases:
        """Applications past their promised date, oldest first (the first few hundred)."""
        with reading(self.engine) as session:
            return supervision.overdue_applications(session, actor=self.me, now=self.now())

    def department_names(self) -> dict[str, tuple[str, str]]:
        """Department code → (Chinese name, English name)."""
        with reading(self.engine) as session:
            return {d.code: (d.name_zh, d.name_en) for d in session.scalars(select(Department))}

    def upstream_departments(self) -> set[str]:
        """Departments whose tasks are decided at the level above (shown as sent upstream)."""
        with reading(self.engine) as session:
            return upstream_departments(session)

    def officers(self, department: str) -> list[tuple[str, str]]:
        """(user, name) of the active officers of ``department``, for reassigning."""
        with reading(self.engine) as session:
            here = local_office(session).code
            query = select(Operator).where(
                col(Operator.role) == "officer", col(Operator.office_code) == here
            )
            rows = session.scalars(query)
            return [(o.username, o.name) for o in rows if o.active and department in o.departments]

    def reassign(self, task_id: str, to: str) -> None:
        """Hand a task to another officer."""
        with writing(self.engine) as session:
            tasks.reassign(
                session,
                actor=self.me,
                task_id=task_id,
                to=to,
                now=self.now(),
                hours=self.settings.claim_hours,
            )

    def release(self, task_id: str) -> None:
        """Give a claimed task back to its department."""
        with writing(self.engine) as session:
            tasks.release(session, actor=self.me, task_id=task_id, now=self.now())
