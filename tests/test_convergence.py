"""Two levels acting on the same cases at once end with the same cases after a final sync.

The township accepts 最低生活保障 applications and works its own tasks; the county decides
the county task; either may act before hearing of the other's action. Each office applies
a case's events in one agreed order (signed time, origin, sequence), and an action no longer
allowed at its place in that order is kept and marked superseded, the same everywhere.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Applicant, Application, ApplicationMaterial, CaseEvent, Task
from sync.downstream import accept_pulled, next_pull, pulled_up_to
from tests.conftest import NOW, Hall
from tests.factories import request_for
from tests.levels import link, open_county
from tests.test_sync_pull import county_officer, push_all, township_at
from workstation import officekey, rebuild
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import WorkstationError
from workstation.services import cases, intake, tasks
from workstation.services.auth import Actor
from workstation.verify import verify_log

MATTER = "subsistence-allowance"


@dataclass(frozen=True)
class Levels:
    """A township on SQLite linked to a county on SQLite, with a county-civil officer."""

    township: Hall
    county: Engine
    county_key: Signer
    county_officer: Actor


@dataclass(frozen=True)
class Template:
    """Where the linked pair was built once; each example starts from a copy of it."""

    root: Path
    levels: Levels


def linked_pair(root: Path) -> Levels:
    """A township linked to a county, each on its own SQLite file in ``root`` (closed)."""
    county = make_engine(f"sqlite:///{root / 'county.db'}")
    upgrade(county)
    keys = root / "county-keys"
    admin = open_county(county, keys)
    township = township_at(root, "township", "610102001")
    link(county, admin, keys, township)
    officer = county_officer(county, admin, keys, "county-civil")
    levels = Levels(township, county, officekey.load(keys, admin.office_code), officer)
    county.dispose()
    township.engine.dispose()
    return levels


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Build the two linked offices once for the module."""
    root = tmp_path_factory.mktemp("levels")
    return Template(root, linked_pair(root))


@pytest.fixture
def fresh(template: Template, tmp_path: Path) -> Iterator[Any]:
    """A function giving a new copy of the linked pair for each Hypothesis example."""
    made: list[Engine] = []

    def copy() -> Levels:
        where = Path(shutil.copytree(template.root, tmp_path / f"copy-{len(made)}"))
        county = make_engine(f"sqlite:///{where / 'county.db'}")
        township = make_engine(f"sqlite:///{where / 'township.db'}")
        made.extend((county, township))
        hall = replace(template.levels.township, engine=township, key_dir=where / "township-keys")
        return replace(template.levels, township=hall, county=county)

    yield copy
    for engine in made:
        engine.dispose()


class Run:
    """One interleaving: each office with its own clock, acting, syncing when told."""

    def __init__(self, levels: Levels, skew: int) -> None:
        self.levels = levels
        self.t_now = NOW
        self.c_now = NOW + timedelta(minutes=skew)
        self.cases: list[str] = []

    def push(self) -> None:
        """Everything the township holds goes up."""
        push_all(self.levels.township, self.levels.county, self.levels.county_key)

    def pull(self) -> None:
        """Everything the county holds for the township comes down."""
        hall = self.levels.township
        while True:
            with reading(hall.engine) as session:
                after = pulled_up_to(session)
            with reading(self.levels.county) as session:
                batch = next_pull(
                    session, hall.admin.office_code, after, self.levels.county_key, limit=5
                )
            with writing(hall.engine) as session:
                accept_pulled(session, batch)
            if not batch.events:
                return

    def township(self, action: str, case: int) -> None:
        """A township action on a case; refused ones change nothing."""
        hall = self.levels.township
        self.t_now += timedelta(minutes=7)
        if action == "accept":
            request = request_for(MATTER, rng=random.Random(len(self.cases)))
            with writing(hall.engine) as session:
                number = intake.accept(session, actor=hall.clerk, request=request, now=self.t_now)
            self.cases.append(number.tracking_no)
            return
        if not self.cases:
            return
        number = self.cases[case % len(self.cases)]
        with suppress(WorkstationError), writing(hall.engine) as session:
            if action == "approve":
                for code, department in (("village", "village-committee"),
                                         ("township", "township-civil")):  # fmt: skip
                    task = session.get(Task, f"{number}/{code}")
                    if task is not None and task.state == "open":
                        tasks.approve(
                            session, actor=hall.officer(department), task_id=task.id,
                            now=self.t_now,
                        )  # fmt: skip
                        return
            elif action == "withdraw":
                cases.withdraw(
                    session, actor=hall.clerk, tracking_no=number, reason="申请人撤回",
                    now=self.t_now,
                )  # fmt: skip
            elif action == "supplied":
                cases.record_supplement(
                    session, actor=hall.clerk, task_id=f"{number}/county", now=self.t_now
                )
            elif action == "deliver":
                cases.deliver(session, actor=hall.clerk, tracking_no=number, now=self.t_now)

    def county(self, action: str, case: int) -> None:
        """A county-civil decision on a case the county holds; refused ones change nothing."""
        self.c_now += timedelta(minutes=5)
        with reading(self.levels.county) as session:
            held = sorted(
                session.scalars(
                    select(col(Task.id)).where(col(Task.department_code) == "county-civil")
                )
            )
        if not held:
            return
        task_id, who = held[case % len(held)], self.levels.county_officer
        with suppress(WorkstationError), writing(self.levels.county) as session:
            if action == "approve":
                tasks.approve(
                    session, actor=who, task_id=task_id, permit_no="低保-1", now=self.c_now
                )
            elif action == "reject":
                tasks.reject(session, actor=who, task_id=task_id, reason="收入超标", now=self.c_now)
            elif action == "supplement":
                tasks.request_supplement(
                    session, actor=who, task_id=task_id, materials=["household-register"],
                    reason="户口簿页不全", now=self.c_now,
                )  # fmt: skip


def cases_of(engine: Engine, numbers: list[str]) -> dict[str, set[tuple[Any, ...]]]:
    """The projections of ``numbers`` as one office holds them, row by row."""
    tables = {
        "application": (Application, Application.tracking_no),
        "task": (Task, Task.tracking_no),
        "material": (ApplicationMaterial, ApplicationMaterial.tracking_no),
        "case_event": (CaseEvent, CaseEvent.tracking_no),
    }
    held: dict[str, set[tuple[Any, ...]]] = {}
    with reading(engine) as session:
        for name, (model, column) in tables.items():
            rows = session.scalars(select(model).where(col(column).in_(numbers)))
            held[name] = {tuple(sorted(_plain(row.model_dump()).items())) for row in rows}
        applicants = select(Applicant).join(
            Application, col(Application.applicant_id) == col(Applicant.ref)
        )
        held["applicant"] = {
            tuple(sorted(_plain(row.model_dump()).items())) for row in session.scalars(applicants)
        }
    return held


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, sort_keys=True, default=str) for k, v in row.items()}


def settle(run: Run) -> None:
    """Sync until neither side has anything new for the other."""
    for _ in range(3):
        run.push()
        run.pull()


def outcomes(engine: Engine) -> dict[str, int]:
    """How many case events each office applied, superseded or held."""
    with reading(engine) as session:
        counted: dict[str, int] = {}
        for outcome in session.scalars(select(col(CaseEvent.outcome))):
            counted[outcome] = counted.get(outcome, 0) + 1
        return counted


def at_the_county(fresh: Any, *, skew: int) -> tuple[Levels, Run]:
    """One case accepted and approved at the township, its county task open at both levels."""
    levels: Levels = fresh()
    run = Run(levels, skew)
    run.township("accept", 0)
    run.township("approve", 0)
    run.township("approve", 0)
    run.push()
    return levels, run


STEP = st.one_of(
    st.tuples(
        st.sampled_from(["accept", "approve", "withdraw", "supplied", "deliver"]),
        st.integers(0, 7),
        st.just("township"),
    ),
    st.tuples(
        st.sampled_from(["approve", "reject", "supplement"]), st.integers(0, 7), st.just("county")
    ),
    st.tuples(st.sampled_from(["push", "pull"]), st.just(0), st.just("sync")),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=5, max_size=40), skew=st.integers(-90, 90))
def test_two_levels_converge_after_a_final_sync(
    fresh: Any, steps: list[tuple[str, int, str]], skew: int
) -> None:
    levels: Levels = fresh()
    run = Run(levels, skew)
    run.township("accept", 0)
    for action, case, where in steps:
        if where == "township":
            run.township(action, case)
        elif where == "county":
            run.county(action, case)
        elif action == "push":
            run.push()
        else:
            run.pull()
    settle(run)
    assert cases_of(levels.township.engine, run.cases) == cases_of(levels.county, run.cases)
    for engine in (levels.township.engine, levels.county):
        with reading(engine) as session:
            report = verify_log(session)
            assert report.ok, report.problem
            assert rebuild.check(session) == []


def test_a_withdrawal_and_an_approval_made_at_once_resolve_the_same_way_at_both_levels(
    fresh: Any,
) -> None:
    levels, run = at_the_county(fresh, skew=0)
    number = run.cases[0]
    # The county approves at 10:05 (its clock); the township, not yet hearing of it,
    # records the applicant's withdrawal at 10:10.
    run.c_now, run.t_now = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=3)
    run.county("approve", 0)
    run.township("withdraw", 0)
    settle(run)
    assert cases_of(levels.township.engine, run.cases) == cases_of(levels.county, run.cases)
    for engine in (levels.township.engine, levels.county):
        with reading(engine) as session:
            application = session.get(Application, number)
            assert application is not None and application.status == "completed"
            county_task = session.get(Task, f"{number}/county")
            assert county_task is not None and county_task.state == "approved"
            withdrawal = session.scalars(
                select(CaseEvent).where(
                    col(CaseEvent.tracking_no) == number, col(CaseEvent.outcome) == "superseded"
                )
            ).one()
            assert (withdrawal.origin, withdrawal.reason) == ("610102001", "status.completed")
        assert outcomes(engine) == {"applied": 4, "superseded": 1}


def test_the_earlier_action_wins_whichever_office_hears_of_it_last(fresh: Any) -> None:
    levels, run = at_the_county(fresh, skew=0)
    number = run.cases[0]
    # This time the withdrawal comes first; the county's approval arrives too late to count.
    run.t_now, run.c_now = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=3)
    run.township("withdraw", 0)
    run.county("approve", 0)
    settle(run)
    assert cases_of(levels.township.engine, run.cases) == cases_of(levels.county, run.cases)
    with reading(levels.county) as session:
        application = session.get(Application, number)
        assert application is not None and application.status == "withdrawn"
        county_task = session.get(Task, f"{number}/county")
        assert county_task is not None and county_task.state == "closed"
        late = session.scalars(
            select(CaseEvent).where(col(CaseEvent.outcome) == "superseded")
        ).one()
        assert (late.origin, late.reason) == ("610102", "state.closed")


def test_an_office_whose_clock_is_behind_still_signs_after_what_it_answered(fresh: Any) -> None:
    levels, run = at_the_county(
        fresh, skew=-120
    )  # the county's clock is two hours behind the township's
    number = run.cases[0]
    run.county("approve", 0)
    settle(run)
    number = run.cases[0]
    with reading(levels.township.engine) as session:
        application = session.get(Application, number)
        assert application is not None and application.status == "completed"
        assert set(session.scalars(select(col(CaseEvent.outcome)))) == {"applied"}
        keys = list(
            session.scalars(
                select(col(CaseEvent.order_key))
                .where(col(CaseEvent.tracking_no) == number)
                .order_by(col(CaseEvent.order_key))
            )
        )
    assert keys[-1].split(" ")[1] == "610102", "the county's approval sorts last"
    assert datetime.fromisoformat(keys[-1].split(" ")[0]) > NOW


def test_one_task_decided_at_both_levels_ends_decided_once_everywhere(fresh: Any) -> None:
    levels, run = at_the_county(fresh, skew=0)
    number = run.cases[0]
    # The county rejects the county task; offline, a township officer of the same department
    # approves it five minutes later. The rejection came first: the approval is superseded.
    run.c_now, run.t_now = NOW + timedelta(hours=1), NOW + timedelta(hours=1, minutes=10)
    run.county("reject", 0)
    with writing(levels.township.engine) as session:
        tasks.approve(
            session, actor=levels.township.officer("county-civil"),
            task_id=f"{number}/county", permit_no="低保-T", now=run.t_now,
        )  # fmt: skip
    settle(run)
    assert cases_of(levels.township.engine, run.cases) == cases_of(levels.county, run.cases)
    with reading(levels.county) as session:
        task = session.get(Task, f"{number}/county")
        assert task is not None
        assert (task.state, task.decided_by, task.permit_no) == ("rejected", "c-county-civil", "")
        late = session.scalars(select(CaseEvent).where(col(CaseEvent.outcome) == "superseded"))
        assert [(e.origin, e.reason) for e in late] == [("610102001", "state.rejected")]
