"""Every action of the rights matrix, calling the real service with a real actor.

Each action names the event it signs (its rule: ``SIGNING_RIGHTS``, ``may_sign``,
``may_act_on``) or the reading it does (``READ_RIGHTS``, ``may_read_queue``), and whether it
is about a case (then it runs against a target office's case) or about the office itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from models import Applicant
from tests.conftest import PASSWORD
from tests.factories import CATALOG, request_for
from tests.rights_world import LATER, Place, World
from workstation import documents
from workstation.services import applicants, audit, cases, held, intake, office, supervision, tasks
from workstation.services.auth import Actor

Run = Callable[[Session, "Context"], object]


@dataclass(frozen=True)
class Context:
    """Who acts where, on which office's cases."""

    world: World
    place: Place
    """The actor's office."""
    actor: Actor
    numbers: dict[str, str]
    """The target office's cases (state → tracking number)."""
    scratch: Path
    """Where an allowed operator registration may write its key file."""

    def task(self, state: str, code: str) -> str:
        """The id of task ``code`` of the target's case in ``state``."""
        return f"{self.numbers[state]}/{code}"


@dataclass(frozen=True)
class Action:
    """One row family of the matrix."""

    name: str
    kind: str
    """The event type it signs, or ``read.<what>`` for a reading."""
    on_case: bool
    run: Run
    task: Callable[[Context], str] | None = None
    """The id of the task it works on, for task actions."""


def _person() -> applicants.ApplicantInput:
    return request_for("elderly-allowance").applicant


def _reveal(s: Session, c: Context) -> None:
    # The row is found by the office's own data key, so only operators who hold one see it;
    # the reveal itself is refused by role first.
    own = f"h1.{c.actor.data_key.key_id}." if c.actor.data_key else "h1."
    ref = s.scalars(
        select(col(Applicant.ref)).where(
            col(Applicant.name) == _person().name, col(Applicant.ref).startswith(own)
        )
    )
    applicants.reveal(s, actor=c.actor, ref=ref.first() or "", reason="核对身份", now=LATER)


def _task(state: str, code: str) -> Callable[[Context], str]:
    return lambda c: c.task(state, code)


def _reassign_to(c: Context) -> str:
    return c.place.officer("market").username


def _release_task(c: Context) -> str:
    # At the county, A's fire task is the one a county officer holds.
    below = c.place.code != c.world.a.code and c.numbers is c.world.a.cases
    return c.task("open", "fire" if below else "health")


ACTIONS: tuple[Action, ...] = (
    Action("accept", "application.accepted", False, lambda s, c: intake.accept(
        s, actor=c.actor, request=request_for("hotel-open"), now=LATER)),
    Action("refuse", "application.refused", False, lambda s, c: intake.refuse(
        s, actor=c.actor, applicant=_person(), matter_code="elderly-allowance",
        reason="不符合条件", now=LATER)),
    Action("claim", "task.claimed", True, lambda s, c: tasks.claim(
        s, actor=c.actor, task_id=c.task("open", "licence"), now=LATER), _task("open", "licence")),
    Action("approve", "task.approved", True, lambda s, c: tasks.approve(
        s, actor=c.actor, task_id=c.task("open", "licence"), permit_no="JY-1", now=LATER),
        _task("open", "licence")),
    Action("reject", "task.rejected", True, lambda s, c: tasks.reject(
        s, actor=c.actor, task_id=c.task("open", "licence"), reason="不符合", now=LATER),
        _task("open", "licence")),
    Action("request_supplement", "task.supplement_requested", True,
        lambda s, c: tasks.request_supplement(
            s, actor=c.actor, task_id=c.task("open", "licence"), materials=["floor-plan"],
            reason="看不清", now=LATER), _task("open", "licence")),
    Action("release", "task.released", True, lambda s, c: tasks.release(
        s, actor=c.actor, task_id=_release_task(c), now=LATER), _release_task),
    Action("reassign", "task.reassigned", True, lambda s, c: tasks.reassign(
        s, actor=c.actor, task_id=c.task("open", "licence"), to=_reassign_to(c), now=LATER),
        _task("open", "licence")),
    Action("receive_supplement", "supplement.received", True, lambda s, c: cases.record_supplement(
        s, actor=c.actor, task_id=c.task("supplement", "licence"), now=LATER),
        _task("supplement", "licence")),
    Action("receive_material", "material.received", True, lambda s, c: cases.record_material(
        s, actor=c.actor, tracking_no=c.numbers["open"], material="floor-plan", now=LATER)),
    Action("withdraw", "application.withdrawn", True, lambda s, c: cases.withdraw(
        s, actor=c.actor, tracking_no=c.numbers["open"], reason="不办了", now=LATER)),
    Action("deliver", "application.delivered", True, lambda s, c: cases.deliver(
        s, actor=c.actor, tracking_no=c.numbers["completed"], now=LATER)),
    Action("rate", "application.rated", True, lambda s, c: cases.rate(
        s, actor=c.actor, tracking_no=c.numbers["delivered"], score=5, now=LATER)),
    Action("held_admit", "held.admitted", False, lambda s, c: held.decide(
        s, actor=c.actor, origin=c.world.held[0], seq=c.world.held[1], admit=True,
        reason="核实无误", now=LATER)),
    Action("held_refuse", "held.refused", False, lambda s, c: held.decide(
        s, actor=c.actor, origin=c.world.held[0], seq=c.world.held[1], admit=False,
        reason="离职后所签", now=LATER)),
    Action("register_operator", "operator.registered", False, lambda s, c: office.add_operator(
        s, actor=c.actor, key_dir=c.scratch, username="newclerk", name="新人", role="clerk",
        departments=[], password=PASSWORD, now=LATER)),
    Action("revoke_operator", "operator.revoked", False, lambda s, c: office.revoke_operator(
        s, actor=c.actor, username=c.place.staff["clerk"].username, reason="离职", now=LATER)),
    Action("publish_catalog", "catalog.published", False, lambda s, c: office.publish_catalog(
        s, actor=c.actor, catalog=CATALOG, now=LATER)),
    Action("read_case", "read.case", True, lambda s, c: cases.case_view(
        s, actor=c.actor, tracking_no=c.numbers["open"])),
    Action("read_document", "read.document", True, lambda s, c: documents.issue(
        s, "acceptance", c.numbers["open"], actor=c.actor, language="en",
        key_dir=c.place.key_dir, now=LATER)),
    Action("applicant_lookup", "read.applicant", False, lambda s, c: applicants.get(
        s, actor=c.actor, id_number=_person().id_number)),
    Action("applicant_search", "read.applicant", False, lambda s, c: applicants.find(
        s, actor=c.actor, text="张")),
    Action("reveal", "read.reveal", False, _reveal),
    Action("queue_market", "read.queue:market", False, lambda s, c: supervision.queue(
        s, actor=c.actor, department="market", now=LATER)),
    Action("dashboard", "read.dashboard", False, lambda s, c: supervision.overview(
        s, actor=c.actor, now=LATER)),
    Action("overdue", "read.overdue", False, lambda s, c: supervision.overdue_applications(
        s, actor=c.actor, now=LATER)),
    Action("audit_log", "read.audit", False, lambda s, c: audit.entries(s, actor=c.actor)),
)  # fmt: skip
"""What the matrix tries, in the order of a case's life."""
