"""Random operators drive random cases; after every step the log, rights and projections hold.

A ``RuleBasedStateMachine`` works one real SQLite file through the services, as any operator
of the hall (right or wrong role, right or wrong department), while a simulated clock moves
forward.  A small model of its own decides what each action should do: an allowed action must
succeed and add exactly one event; a refused one must raise the right ``WorkstationError``
(PermissionDenied for rights, Conflict for state, InvalidInput for bad input), change nothing
and have a message in both languages.  After every step the invariants are checked against the
database itself: no task decided twice, no task open before its dependencies are approved,
nothing delivered while materials are owed, rights hold in the log, the model agrees with the
projections (task states and claims, application statuses and stopped clocks, materials), due
dates never move earlier, ``verify`` passes, and the projections equal a rebuild from the log.

Run ``pytest tests/test_stateful.py --hypothesis-show-statistics`` to see how far the
generated cases get (which actions went through, which were refused, which statuses were
reached).
"""

from __future__ import annotations

import atexit
import dataclasses
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select
from sqlmodel import Session

from models import PROJECTIONS, Application, ApplicationMaterial, ChainHead, Event, Operator, Task
from tests.conftest import DEPARTMENT_OFFICERS, NOW, PASSWORD, open_hall
from tests.factories import CATALOG, request_for
from workstation import i18n, rebuild
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import Conflict, InvalidInput, PermissionDenied, WorkstationError
from workstation.eventlog import decode
from workstation.services import cases, intake, office, tasks
from workstation.services.auth import Actor, login
from workstation.verify import verify_log

MATTERS = ("hotel-open", "subsistence-allowance")
"""Matters the machine accepts: six tasks in two chains, and three tasks in a row."""
ACTIVE_APPLICATIONS = 2
"""Cases worked at once; more would spread the few steps too thin to finish any."""
EXTRA_OFFICERS = {
    "o-fire2": ["fire"],
    "o-market2": ["market"],
    "o-civil2": ["township-civil"],
    "o-multi": ["health", "tax"],
}
"""Second officers, so that claims can collide and reassignments have somewhere to go."""
OPERATORS = ("admin", "clerk", "super", "audit", *DEPARTMENT_OFFICERS.values(), *EXTRA_OFFICERS)
"""Everyone who can be picked to act, whatever the action."""
OPEN_STATES = ("waiting", "open", "supplement")
"""Task states that are not finished."""
OWING = ("owed", "requested")
"""Material states that block delivery."""
CLAIM_HOURS = 4
"""How long ``tasks.claim`` and ``tasks.reassign`` hold a task by default."""

GAPS = st.sampled_from(("minutes",) * 4 + ("hours", "days")).flatmap(
    lambda unit: {
        "minutes": st.integers(0, 45),
        "hours": st.integers(45, 8 * 60),
        "days": st.integers(20 * 60, 3 * 24 * 60),
    }[unit]
)
"""Minutes the clock moves before an action: mostly within a claim, or past it, or days."""
MISTAKES = {"none": None, "missing": "a required material is missing",
            "promise_past": "a 容缺 promise lies in the past",
            "not_deferrable": "an essential material is deferred",
            "kind": "a person applies for a company's matter (or the reverse)"}  # fmt: skip
"""What the clerk can get wrong at intake."""
REASONS = {"given": "材料不符合要求", "empty": "", "blank": "   ", "control": "原因\x07",
           "too long": "长" * 501}  # fmt: skip
"""Reasons an operator may type; only ``given`` is acceptable."""
ANY_REASON = st.sampled_from(tuple(REASONS))
"""For the actions that end a case (reject, withdraw): mostly refused, so cases live on."""
PERMITS = {"given": "许可-2026-0001", "empty": "", "blank": "  ", "control": "证\x00号"}
"""Permit numbers an officer may type; ``empty``/``blank`` only where no permit is issued."""


def mostly(good: str, names: dict[str, Any]) -> st.SearchStrategy[str]:
    """A key of ``names``: ``good`` more than half the time, otherwise any key."""
    return st.sampled_from((good,) * len(names) + tuple(names))


def _choose(data: st.DataObject, good: list[str], everything: list[str], label: str) -> str:
    """Three times in four something that fits the action, otherwise anything at all."""
    if good and data.draw(st.sampled_from(("fits", "fits", "fits", "any")), label=label) == "fits":
        return data.draw(st.sampled_from(sorted(good)), label=label)
    return data.draw(st.sampled_from(sorted(everything)), label=label)


@cache
def _hall_template() -> tuple[Path, dict[str, Actor]]:
    """A hall opened with ``open_hall`` plus the extra officers, all logged in; built once.

    Every run starts from a copy of its database file (opening a hall takes longer than a run
    of steps); the operators' keys are already unlocked in the returned actors.
    """
    root = Path(tempfile.mkdtemp(prefix="onewindow-stateful-hall-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    engine = make_engine(f"sqlite:///{root / 'office.db'}")
    upgrade(engine)
    key_dir = root / "keys"
    hall = open_hall(engine, key_dir)
    with writing(engine) as session:
        for username, departments in EXTRA_OFFICERS.items():
            office.add_operator(
                session,
                actor=hall.admin,
                key_dir=key_dir,
                username=username,
                name=f"{username}审批员",
                role="officer",
                departments=departments,
                password=PASSWORD,
                now=NOW,
            )
    actors = {
        "admin": hall.admin,
        "clerk": hall.clerk,
        "super": hall.supervisor,
        "audit": hall.auditor,
        **{actor.username: actor for actor in hall.officers.values()},
    }
    with reading(engine) as session:
        for username in EXTRA_OFFICERS:
            actors[username] = login(session, key_dir=key_dir, username=username, password=PASSWORD)
    with engine.connect() as connection:  # everything into the main file, so one copy will do
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    assert set(actors) == set(OPERATORS)
    return root / "office.db", actors


@dataclass
class TaskModel:
    """What the model expects of one department task."""

    id: str
    department: str
    depends_on: tuple[str, ...]
    permit: bool
    state: str
    claimed_by: str | None = None
    claim_expires: datetime | None = None
    requested: tuple[str, ...] = ()

    def unclaim(self) -> None:
        """Decided, closed or released: nobody holds it any more."""
        self.claimed_by, self.claim_expires = None, None

    def finish(self, state: str) -> None:
        """Decided or closed: nobody holds it and it waits for nothing any more."""
        self.state, self.requested = state, ()
        self.unclaim()


@dataclass
class AppModel:
    """What the model expects of one application."""

    tracking_no: str
    status: str
    tasks: dict[str, TaskModel]
    materials: dict[str, str]
    """Material code → received · owed · requested."""
    material_codes: tuple[str, ...]
    """Every material the matter knows (what a supplement request may ask for)."""
    rating: int | None = None


class CaseMachine(RuleBasedStateMachine):
    """One township hall, every operator logged in, a clock that only moves forward."""

    def __init__(self) -> None:
        super().__init__()
        template, self.actors = _hall_template()
        self.tmp = Path(tempfile.mkdtemp(prefix="onewindow-stateful-"))
        shutil.copyfile(template, self.tmp / "office.db")
        self.engine = make_engine(f"sqlite:///{self.tmp / 'office.db'}")
        upgrade(self.engine)
        self.now = NOW + timedelta(minutes=30)
        self.apps: dict[str, AppModel] = {}
        self.events = self._count_events()
        self.dues: dict[str, date | None] = {}
        """Due date of every application and task at the last step."""
        self.rebuilt_at: tuple[int, str] | None = None
        """The log head at the last full rebuild check, and the projections then."""
        self.projections_then: dict[str, list[tuple[Any, ...]]] = {}

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ── helpers ──────────────────────────────────────────────────────────────────────────

    def _count_events(self) -> int:
        with reading(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Event)) or 0

    def _tasks(self, *states: str) -> list[TaskModel]:
        every = [t for app in self.apps.values() for t in app.tasks.values()]
        return [t for t in every if not states or t.state in states]

    def _apps(self, *statuses: str) -> list[AppModel]:
        return [a for a in self.apps.values() if a.status in statuses]

    def _who(self, data: st.DataObject, fitting: list[str]) -> Actor:
        return self.actors[_choose(data, fitting, list(OPERATORS), "operator")]

    def _officers_of(self, department: str) -> list[str]:
        return [name for name, a in self.actors.items() if self._decides(a, department)]

    @staticmethod
    def _decides(actor: Actor, department: str) -> bool:
        return actor.role == "officer" and department in actor.departments

    def _pick_task(
        self, data: st.DataObject, *states: str, held: bool = False
    ) -> tuple[AppModel, TaskModel]:
        """Mostly a task in one of ``states`` (and claimed by someone, if ``held``)."""
        good = [t.id for t in self._tasks(*states) if t.claimed_by or not held]
        task_id = _choose(data, good, [t.id for t in self._tasks()], "task")
        number, code = task_id.split("/")
        return self.apps[number], self.apps[number].tasks[code]

    def _pick_app(self, data: st.DataObject, *statuses: str) -> AppModel:
        good = [a.tracking_no for a in self._apps(*statuses)]
        return self.apps[_choose(data, good, list(self.apps), "application")]

    def _held_by_other(self, task: TaskModel, actor: Actor) -> bool:
        return (
            task.claimed_by is not None
            and task.claimed_by != actor.username
            and task.claim_expires is not None
            and task.claim_expires > self.now
        )

    def _attempt(
        self,
        name: str,
        what: str,
        expected: type[WorkstationError] | None,
        action: Callable[[Session], Any],
    ) -> tuple[bool, Any]:
        """Run ``action`` in one write transaction and hold the answer against the model's.

        Returns whether it went through, and what the service returned.
        """
        before = self._count_events()
        assert before == self.events, f"the log changed between actions ({before}≠{self.events})"
        try:
            with writing(self.engine) as session:
                result = action(session)
        except WorkstationError as error:
            assert self._count_events() == before, f"{what}: refused ({error!r}), log grew"
            assert expected is not None, f"{what}: the model allows it, refused with {error!r}"
            assert isinstance(error, expected), f"{what}: not {expected.__name__}: {error!r}"
            for language in i18n.LANGUAGES:
                assert error.key in i18n.keys(language), f"no {language} message: {error.key}"
            event(f"{name}: {type(error).__name__} {error.key}")
            return False, None
        after = self._count_events()
        assert expected is None, f"{what}: expected {expected.__name__}, but it went through"
        assert after == before + 1, f"{what}: added {after - before} events instead of one"
        self.events = after
        event(f"{name}: done")
        return True, result

    # ── the window ───────────────────────────────────────────────────────────────────────

    @precondition(lambda self: len(self._apps("in_progress", "completed")) < ACTIVE_APPLICATIONS)
    @rule(
        data=st.data(),
        matter=st.sampled_from(MATTERS),
        seed=st.integers(0, 999),
        mistake=mostly("none", MISTAKES),
        promise=st.integers(0, 30),
        gap=GAPS,
    )
    def accept(
        self, data: st.DataObject, matter: str, seed: int, mistake: str, promise: int, gap: int
    ) -> None:
        """The clerk (or anyone else) accepts an application, maybe with 容缺 items or a mistake."""
        self.now += timedelta(minutes=gap)
        actor = self._who(data, ["clerk"])
        spec = CATALOG.matter(matter)
        assert spec is not None
        today = self.now.date()
        deferrable = [m.code for m in spec.materials if m.deferrable]
        chosen = data.draw(
            st.sampled_from(((), *((code,) for code in deferrable), tuple(deferrable))),
            label="容缺",
        )
        deferred = {code: today + timedelta(days=promise) for code in chosen}
        request = request_for(matter, rng=random.Random(seed))
        form_code = spec.materials[0].code  # the application form: required, never deferrable
        if mistake == "promise_past":
            deferred[deferrable[0]] = today - timedelta(days=1)
        elif mistake == "not_deferrable":
            deferred[form_code] = today + timedelta(days=promise)
        elif mistake == "kind":
            other = next(m for m in MATTERS if m != matter)
            request = dataclasses.replace(request, applicant=request_for(other).applicant)
        received = [m.code for m in spec.materials if m.required and m.code not in deferred]
        if mistake == "missing":
            received.remove(form_code)
        request = dataclasses.replace(request, received=tuple(received), deferred=deferred)
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif mistake != "none":
            expected = InvalidInput
        done, result = self._attempt(
            "accept",
            f"{actor.username} accepts {matter} ({mistake})",
            expected,
            lambda s: intake.accept(s, actor=actor, request=request, now=self.now),
        )
        if not done:
            return
        number = result.tracking_no
        assert number not in self.apps, f"tracking number {number} issued twice"
        assert result.owed == deferred
        self.apps[number] = AppModel(
            tracking_no=number,
            status="in_progress",
            tasks={
                t.code: TaskModel(
                    id=f"{number}/{t.code}",
                    department=t.department,
                    depends_on=tuple(t.depends_on),
                    permit=t.permit is not None,
                    state="waiting" if t.depends_on else "open",
                )
                for t in spec.tasks
            },
            materials={**dict.fromkeys(received, "received"), **dict.fromkeys(deferred, "owed")},
            material_codes=tuple(m.code for m in spec.materials),
        )

    @precondition(lambda self: self._tasks("supplement"))
    @rule(data=st.data(), gap=GAPS)
    def record_supplement(self, data: st.DataObject, gap: int) -> None:
        """The applicant brings what a department asked for."""
        self.now += timedelta(minutes=gap)
        app, task = self._pick_task(data, "supplement")
        actor = self._who(data, ["clerk"])
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif task.state != "supplement":
            expected = Conflict
        done, _ = self._attempt(
            "record_supplement",
            f"{actor.username} records the supplement for {task.id}",
            expected,
            lambda s: cases.record_supplement(s, actor=actor, task_id=task.id, now=self.now),
        )
        if done:
            # A material another waiting task also asked for stays owed until that task too
            # records its supplement: the applicant is told to bring it, not that it is done.
            still = {
                code
                for other in app.tasks.values()
                if other is not task and other.state == "supplement"
                for code in other.requested
            }
            for code in task.requested:
                app.materials[code] = "requested" if code in still else "received"
            task.state, task.requested = "open", ()

    @precondition(lambda self: any("owed" in a.materials.values() for a in self.apps.values()))
    @rule(data=st.data(), gap=GAPS)
    def record_material(self, data: st.DataObject, gap: int) -> None:
        """A material promised at intake (容缺) arrives."""
        self.now += timedelta(minutes=gap)
        owing = [a.tracking_no for a in self.apps.values() if "owed" in a.materials.values()]
        app = self.apps[_choose(data, owing, list(self.apps), "application")]
        owed = [code for code, status in app.materials.items() if status == "owed"]
        material = _choose(data, owed, list(app.material_codes), "material")
        actor = self._who(data, ["clerk"])
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif app.status not in ("in_progress", "completed"):
            expected = Conflict
        elif app.materials.get(material) != "owed":
            expected = InvalidInput
        done, _ = self._attempt(
            "record_material",
            f"{actor.username} records {material} for {app.tracking_no}",
            expected,
            lambda s: cases.record_material(
                s, actor=actor, tracking_no=app.tracking_no, material=material, now=self.now
            ),
        )
        if done:
            app.materials[material] = "received"

    @precondition(lambda self: self._apps("in_progress"))
    @rule(data=st.data(), reason=ANY_REASON, gap=GAPS)
    def withdraw(self, data: st.DataObject, reason: str, gap: int) -> None:
        """The applicant withdraws the application."""
        self.now += timedelta(minutes=gap)
        app = self._pick_app(data, "in_progress")
        actor = self._who(data, ["clerk"])
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif app.status != "in_progress":
            expected = Conflict
        elif reason != "given":
            expected = InvalidInput
        done, _ = self._attempt(
            "withdraw",
            f"{actor.username} withdraws {app.tracking_no} (reason {reason})",
            expected,
            lambda s: cases.withdraw(
                s, actor=actor, tracking_no=app.tracking_no, reason=REASONS[reason], now=self.now
            ),
        )
        if done:
            app.status = "withdrawn"
            for task in app.tasks.values():
                if task.state in OPEN_STATES:
                    task.finish("closed")

    @precondition(lambda self: self._apps("completed"))
    @rule(data=st.data(), typo=st.sampled_from((False, False, False, True)), gap=GAPS)
    def deliver(self, data: st.DataObject, typo: bool, gap: int) -> None:
        """The result is handed over (refused while anything is still owed)."""
        self.now += timedelta(minutes=gap)
        app = self._pick_app(data, "completed")
        actor = self._who(data, ["clerk"])
        number = app.tracking_no
        if typo:  # one character typed wrong: the check character must catch it
            number = number[:-2] + ("1" if number[-2] != "1" else "2") + number[-1]
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif typo:
            expected = InvalidInput
        elif app.status != "completed" or set(OWING) & set(app.materials.values()):
            expected = Conflict
        done, _ = self._attempt(
            "deliver",
            f"{actor.username} delivers {number}",
            expected,
            lambda s: cases.deliver(s, actor=actor, tracking_no=number, now=self.now),
        )
        if done:
            app.status = "delivered"

    @precondition(lambda self: self._apps("delivered"))
    @rule(data=st.data(), score=st.one_of(st.integers(1, 5), st.sampled_from((0, 6))), gap=GAPS)
    def rate(self, data: st.DataObject, score: int, gap: int) -> None:
        """The applicant rates the service, once."""
        self.now += timedelta(minutes=gap)
        app = self._pick_app(data, "delivered")
        actor = self._who(data, ["clerk"])
        expected: type[WorkstationError] | None = None
        if actor.role != "clerk":
            expected = PermissionDenied
        elif app.status != "delivered" or app.rating is not None:
            expected = Conflict
        elif not 1 <= score <= 5:
            expected = InvalidInput
        done, _ = self._attempt(
            "rate",
            f"{actor.username} rates {app.tracking_no} with {score}",
            expected,
            lambda s: cases.rate(
                s, actor=actor, tracking_no=app.tracking_no, score=score, now=self.now
            ),
        )
        if done:
            app.rating = score

    # ── the departments ──────────────────────────────────────────────────────────────────

    @precondition(lambda self: self._tasks("open", "supplement"))
    @rule(data=st.data(), held=st.booleans(), gap=GAPS)
    def claim(self, data: st.DataObject, held: bool, gap: int) -> None:
        """An officer takes a task for four hours (often one that somebody already holds)."""
        self.now += timedelta(minutes=gap)
        _, task = self._pick_task(data, "open", "supplement", held=held)
        actor = self._who(data, self._officers_of(task.department))
        expected: type[WorkstationError] | None = None
        if not self._decides(actor, task.department):
            expected = PermissionDenied
        elif task.state not in ("open", "supplement") or self._held_by_other(task, actor):
            expected = Conflict
        done, _ = self._attempt(
            "claim",
            f"{actor.username} claims {task.id}",
            expected,
            lambda s: tasks.claim(s, actor=actor, task_id=task.id, now=self.now),
        )
        if done:
            task.claimed_by = actor.username
            task.claim_expires = self.now + timedelta(hours=CLAIM_HOURS)

    @precondition(lambda self: self._tasks("open"))
    @rule(data=st.data())
    def approve(self, data: st.DataObject) -> None:
        """An officer approves a task (a permit number where one is issued); others may open."""
        # One argument, so that Hypothesis, which sorts rules by their number of arguments and
        # favours the first, picks approving more often than claiming and releasing.
        self.now += timedelta(minutes=data.draw(GAPS, label="gap"))
        permit = data.draw(mostly("given", PERMITS), label="permit")
        app, task = self._pick_task(data, "open")
        actor = self._who(data, self._officers_of(task.department))
        expected: type[WorkstationError] | None = None
        if not self._decides(actor, task.department):
            expected = PermissionDenied
        elif task.state != "open" or self._held_by_other(task, actor):
            expected = Conflict
        elif (task.permit and permit != "given") or permit == "control":
            expected = InvalidInput
        done, opened = self._attempt(
            "approve",
            f"{actor.username} approves {task.id} (permit {permit})",
            expected,
            lambda s: tasks.approve(
                s, actor=actor, task_id=task.id, permit_no=PERMITS[permit], now=self.now
            ),
        )
        if not done:
            return
        task.finish("approved")
        approved = {code for code, t in app.tasks.items() if t.state == "approved"}
        opens = sorted(
            code
            for code, t in app.tasks.items()
            if t.state == "waiting" and set(t.depends_on) <= approved
        )
        assert sorted(opened) == opens, f"approving {task.id} opened {opened}, not {opens}"
        for code in opens:
            app.tasks[code].state = "open"
        if approved == set(app.tasks):
            app.status = "completed"

    # Hypothesis picks each enabled rule equally often, but a case needs up to six approvals
    # and only one rejection or withdrawal to end: approving counts three times, so that
    # cases live long enough to be completed, delivered and rated.
    approve_again = approve
    approve_once_more = approve

    @precondition(lambda self: self._tasks("open", "supplement"))
    @rule(data=st.data(), reason=ANY_REASON, gap=GAPS)
    def reject(self, data: st.DataObject, reason: str, gap: int) -> None:
        """An officer rejects a task; the application ends."""
        self.now += timedelta(minutes=gap)
        app, task = self._pick_task(data, "open", "supplement")
        actor = self._who(data, self._officers_of(task.department))
        expected: type[WorkstationError] | None = None
        if not self._decides(actor, task.department):
            expected = PermissionDenied
        elif task.state not in ("open", "supplement") or self._held_by_other(task, actor):
            expected = Conflict
        elif reason != "given":
            expected = InvalidInput
        done, _ = self._attempt(
            "reject",
            f"{actor.username} rejects {task.id} (reason {reason})",
            expected,
            lambda s: tasks.reject(
                s, actor=actor, task_id=task.id, reason=REASONS[reason], now=self.now
            ),
        )
        if not done:
            return
        task.finish("rejected")
        for other in app.tasks.values():
            if other.state in OPEN_STATES:
                other.finish("closed")
        app.status = "rejected"

    @precondition(lambda self: self._tasks("open"))
    @rule(data=st.data(), reason=mostly("given", REASONS), gap=GAPS)
    def request_supplement(self, data: st.DataObject, reason: str, gap: int) -> None:
        """An officer asks for materials (补正); the task waits."""
        self.now += timedelta(minutes=gap)
        app, task = self._pick_task(data, "open")
        actor = self._who(data, self._officers_of(task.department))
        codes = list(app.material_codes)
        materials = data.draw(
            st.one_of(
                st.lists(st.sampled_from(codes), min_size=1, max_size=3),
                st.lists(st.sampled_from([*codes, "no-such-material"]), max_size=3),
            ),
            label="materials",
        )
        expected: type[WorkstationError] | None = None
        if not self._decides(actor, task.department):
            expected = PermissionDenied
        elif task.state != "open" or self._held_by_other(task, actor):
            expected = Conflict
        elif not materials or "no-such-material" in materials or reason != "given":
            expected = InvalidInput
        done, _ = self._attempt(
            "request_supplement",
            f"{actor.username} asks for {materials} on {task.id} (reason {reason})",
            expected,
            lambda s: tasks.request_supplement(
                s,
                actor=actor,
                task_id=task.id,
                materials=materials,
                reason=REASONS[reason],
                now=self.now,
            ),
        )
        if done:
            task.state, task.requested = "supplement", tuple(sorted(set(materials)))
            for code in task.requested:
                app.materials[code] = "requested"

    # ── the supervisor ───────────────────────────────────────────────────────────────────

    @precondition(lambda self: self._tasks(*OPEN_STATES))
    @rule(data=st.data(), gap=GAPS)
    def reassign(self, data: st.DataObject, gap: int) -> None:
        """The supervisor hands a task to an officer of its department."""
        self.now += timedelta(minutes=gap)
        _, task = self._pick_task(data, *OPEN_STATES)
        actor = self._who(data, ["super"])
        to = _choose(data, self._officers_of(task.department), list(OPERATORS), "to")
        target = self.actors[to]
        expected: type[WorkstationError] | None = None
        if actor.role != "supervisor":
            expected = PermissionDenied
        elif task.state not in OPEN_STATES:
            expected = Conflict
        elif target.role != "officer" or task.department not in target.departments:
            expected = InvalidInput
        done, _ = self._attempt(
            "reassign",
            f"{actor.username} hands {task.id} to {to}",
            expected,
            lambda s: tasks.reassign(s, actor=actor, task_id=task.id, to=to, now=self.now),
        )
        if done:
            task.claimed_by = to
            task.claim_expires = self.now + timedelta(hours=CLAIM_HOURS)

    @precondition(lambda self: any(t.claimed_by for t in self._tasks()))
    @rule(data=st.data(), gap=GAPS)
    def release(self, data: st.DataObject, gap: int) -> None:
        """The holder (or the supervisor) gives a claimed task back."""
        self.now += timedelta(minutes=gap)
        _, task = self._pick_task(data, held=True)
        actor = self._who(data, [task.claimed_by, "super"] if task.claimed_by else ["super"])
        expected: type[WorkstationError] | None = None
        if actor.role != "supervisor" or task.claimed_by == actor.username:
            if not self._decides(actor, task.department):
                expected = PermissionDenied
            elif task.claimed_by != actor.username:
                expected = Conflict
        if expected is None and not task.claimed_by:
            expected = Conflict
        done, _ = self._attempt(
            "release",
            f"{actor.username} releases {task.id}",
            expected,
            lambda s: tasks.release(s, actor=actor, task_id=task.id, now=self.now),
        )
        if done:
            task.unclaim()

    # ── invariants ───────────────────────────────────────────────────────────────────────

    @invariant()
    def no_task_is_decided_twice(self) -> None:
        decisions: Counter[str] = Counter()
        decided_by: dict[str, str] = {}
        with reading(self.engine) as session:
            query = select(Event).where(Event.type.in_(("task.approved", "task.rejected")))
            for row in session.scalars(query):
                task_id = decode(row.payload)["body"]["task"]
                decisions[task_id] += 1
                decided_by[task_id] = row.actor
            for task in session.scalars(select(Task)):
                assert task.decided_by == decided_by.get(task.id), f"{task.id} decided by whom?"
        twice = sorted(task_id for task_id, n in decisions.items() if n > 1)
        assert not twice, f"decided more than once: {twice}"

    @invariant()
    def no_task_opens_before_its_dependencies(self) -> None:
        with reading(self.engine) as session:
            rows = list(session.scalars(select(Task)))
            matter_of = {a.tracking_no: a.matter_code for a in session.scalars(select(Application))}
        state = {t.id: t.state for t in rows}
        for task in rows:
            if task.state not in ("open", "supplement", "approved", "rejected"):
                continue
            spec = CATALOG.matter(matter_of[task.tracking_no])
            assert spec is not None
            for dep in spec.task(task.task_code).depends_on:
                dep_state = state[f"{task.tracking_no}/{dep}"]
                assert dep_state == "approved", f"{task.id} is {task.state} but {dep} {dep_state}"

    @invariant()
    def nothing_delivered_while_materials_are_owed(self) -> None:
        with reading(self.engine) as session:
            owing = session.execute(
                select(ApplicationMaterial.tracking_no, ApplicationMaterial.material_code)
                .join(Application)
                .where(Application.status == "delivered", ApplicationMaterial.status.in_(OWING))
            ).all()
        assert not owing, f"delivered with materials still owed: {owing}"

    @invariant()
    def the_projections_agree_with_the_model(self) -> None:
        with reading(self.engine) as session:
            stored_tasks = {
                t.id: (
                    t.state,
                    t.claimed_by,
                    t.claim_expires,
                    tuple(t.requested),
                    t.paused_since is not None,
                )
                for t in session.scalars(select(Task))
            }
            stored_apps = {
                a.tracking_no: (a.status, a.rating, a.paused_since is not None)
                for a in session.scalars(select(Application))
            }
            stored_materials = {
                (m.tracking_no, m.material_code): m.status
                for m in session.scalars(select(ApplicationMaterial))
            }
        assert stored_tasks == {
            # A task's clock stands still, and it lists what it asked for, only while it waits.
            t.id: (t.state, t.claimed_by, t.claim_expires, t.requested, t.state == "supplement")
            for t in self._tasks()
        }
        # The case's clock stands still exactly while one of its tasks waits for a supplement.
        assert stored_apps == {
            n: (a.status, a.rating, any(t.state == "supplement" for t in a.tasks.values()))
            for n, a in self.apps.items()
        }
        assert stored_materials == {
            (n, code): status for n, a in self.apps.items() for code, status in a.materials.items()
        }
        for status, *_ in stored_apps.values():
            event(f"an application reached {status}")

    @invariant()
    def due_dates_never_move_earlier(self) -> None:
        with reading(self.engine) as session:
            dues = {a.tracking_no: a.due_date for a in session.scalars(select(Application))}
            dues |= {t.id: t.due_date for t in session.scalars(select(Task)) if t.due_date}
        for key, due in dues.items():
            before = self.dues.get(key)
            assert due is not None and (before is None or due >= before), f"{key}: {before}→{due}"
        self.dues = dues

    @invariant()
    def rights_hold_in_the_log(self) -> None:
        clerk = {"application.accepted", "application.withdrawn", "application.delivered",
                 "application.rated", "material.received", "supplement.received"}  # fmt: skip
        officer = {"task.claimed", "task.approved", "task.rejected", "task.supplement_requested"}
        admin = {"office.opened", "operator.registered", "catalog.published"}
        with reading(self.engine) as session:
            operators = {o.username: o for o in session.scalars(select(Operator))}
            department = {t.id: t.department_code for t in session.scalars(select(Task))}
            rows = list(session.scalars(select(Event).order_by(Event.id)))
        for row in rows:
            body = decode(row.payload)["body"]
            who = operators[row.actor]
            where = f"{row.type} #{row.seq} by {who.username} ({who.role})"
            if row.type in clerk:
                assert who.role == "clerk", where
            elif row.type in officer:
                assert who.role == "officer", where
                assert department[body["task"]] in who.departments, where
            elif row.type == "task.reassigned":
                target = operators[body["to"]]
                assert who.role == "supervisor", where
                assert target.role == "officer", where
                assert department[body["task"]] in target.departments, where
            elif row.type == "task.released":
                assert who.role == "supervisor" or (
                    who.role == "officer" and department[body["task"]] in who.departments
                ), where
            else:
                assert row.type in admin and who.role == "admin", where

    @invariant()
    def the_log_verifies(self) -> None:
        with reading(self.engine) as session:
            report = verify_log(session)
        assert report.ok, report.problem
        assert report.checked == self.events

    @invariant()
    def rebuild_equals_the_projections(self) -> None:
        """Replay the log whenever it grew; while it did not, the projections must not move.

        A rebuild is a pure function of the log, so when the log head is the one last rebuilt
        and checked, comparing the projections with what they were then is the same check
        (and a stricter one for refusals: a refused action changes nothing at all).
        """
        with reading(self.engine) as session:
            head = session.scalars(select(ChainHead)).one()
            projections = {
                table.name: [tuple(row) for row in session.execute(select(table).order_by(*key))]
                for table, key in ((m.__table__, m.__table__.primary_key) for m in PROJECTIONS)
            }
            if (head.seq, head.hash) == self.rebuilt_at:
                assert projections == self.projections_then, "projections moved, the log did not"
                return
            differences = rebuild.check(session)
            assert not differences, f"rebuilt projections differ: {differences}"
        self.rebuilt_at, self.projections_then = (head.seq, head.hash), projections


CaseMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=35,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestCaseEngine = CaseMachine.TestCase
