"""Services: rights of every role (invariant 5), claims, decisions, bad input, supervision."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from models import Applicant, Application, ApplicationMaterial, Event, Task
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import CATALOG, person_id, request_for
from workstation import tracking
from workstation.catalog import load_catalog
from workstation.db import reading, writing
from workstation.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    WorkstationError,
)
from workstation.identity import mask_id, normalise_phone
from workstation.services import applicants, audit, cases, intake, office, supervision, tasks
from workstation.services.applicants import ApplicantInput
from workstation.services.auth import Actor, login
from workstation.workdays import WorkCalendar, bundled_schedule

CAL = WorkCalendar()
"""The office's calendar (nothing loaded: the official package data)."""
TZ = NOW.tzinfo


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A time on ``day`` in the office's time zone."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def event_count(hall: Hall) -> int:
    with reading(hall.engine) as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


def last_events(hall: Hall, n: int) -> list[Event]:
    with reading(hall.engine) as s:
        rows = list(s.scalars(select(Event).order_by(Event.id.desc()).limit(n)))  # type: ignore[union-attr]
    return rows[::-1]


def refused(
    hall: Hall, call: Callable[[Session], object], error: type[WorkstationError], key: str
) -> WorkstationError:
    """Run ``call`` in a write transaction: it must raise ``error`` (``key``) and log nothing."""
    before = event_count(hall)
    with pytest.raises(error) as info, writing(hall.engine) as s:
        call(s)
    assert info.value.key == key, info.value
    assert event_count(hall) == before
    return info.value


def accept(hall: Hall, matter: str = "hotel-open", *, when: datetime = NOW, seed: int = 7,
           defer: bool = False) -> str:  # fmt: skip
    with writing(hall.engine) as s:
        request = request_for(matter, rng=random.Random(seed), defer=defer)
        return intake.accept(s, actor=hall.clerk, request=request, now=when).tracking_no


def get_task(hall: Hall, task_id: str) -> Task:
    with reading(hall.engine) as s:
        task = s.get(Task, task_id)
        assert task is not None, task_id
        return task


def get_app(hall: Hall, tracking_no: str) -> Application:
    with reading(hall.engine) as s:
        application = s.get(Application, tracking_no)
        assert application is not None, tracking_no
        return application


def task_states(hall: Hall, tracking_no: str) -> dict[str, str]:
    with reading(hall.engine) as s:
        rows = s.scalars(select(Task).where(Task.tracking_no == tracking_no))
        return {t.task_code: t.state for t in rows}


def approve(hall: Hall, actor: Actor, task_id: str, when: datetime, permit: str = "") -> list[str]:
    with writing(hall.engine) as s:
        return tasks.approve(s, actor=actor, task_id=task_id, permit_no=permit, now=when)


def add_officer(hall: Hall, username: str, department: str) -> Actor:
    """Register one more officer of ``department`` (by the hall's administrator) and log in."""
    with writing(hall.engine) as s:
        office.add_operator(
            s, actor=hall.admin, key_dir=hall.key_dir, username=username, name=f"{username}审批员",
            role="officer", departments=[department], password=PASSWORD, now=NOW,
        )  # fmt: skip
    with reading(hall.engine) as s:
        return login(s, key_dir=hall.key_dir, username=username, password=PASSWORD)


# ── rights (invariant 5): every role against every action ─────────────────────────────────

ROLE_LABELS = ("clerk", "officer", "supervisor", "admin", "auditor")
"""``officer`` here is the market officer, acting on tasks of the health department."""


def _actor(hall: Hall, label: str) -> Actor:
    return {
        "clerk": hall.clerk, "officer": hall.officer("market"), "supervisor": hall.supervisor,
        "admin": hall.admin, "auditor": hall.auditor,
    }[label]  # fmt: skip


Action = Callable[[Session, Actor, dict[str, Any]], object]
# name → (roles that may, writes?, call); every call is valid apart from the rights, so that a
# missing check would let it through (or fail with some other error than PermissionDenied).
ACTIONS: dict[str, tuple[frozenset[str], bool, Action]] = {
    "accept": (frozenset({"clerk"}), True, lambda s, a, c: intake.accept(
        s, actor=a, request=request_for("hotel-open", rng=random.Random(99)), now=NOW)),
    "preview": (frozenset({"clerk"}), False, lambda s, a, c: intake.preview(
        s, actor=a, request=request_for("hotel-open"), now=NOW)),
    "refuse": (frozenset({"clerk"}), True, lambda s, a, c: intake.refuse(
        s, actor=a, applicant=request_for("hotel-open").applicant, matter_code="hotel-open",
        reason="不属于本中心受理范围", now=NOW)),
    "claim": (frozenset(), True, lambda s, a, c: tasks.claim(
        s, actor=a, task_id=c["health"], now=NOW)),
    "approve": (frozenset(), True, lambda s, a, c: tasks.approve(
        s, actor=a, task_id=c["health"], permit_no="卫证001", now=NOW)),
    "reject": (frozenset(), True, lambda s, a, c: tasks.reject(
        s, actor=a, task_id=c["health"], reason="不符合卫生条件", now=NOW)),
    "request_supplement": (frozenset(), True, lambda s, a, c: tasks.request_supplement(
        s, actor=a, task_id=c["health"], materials=["hygiene-rules"], reason="缺页", now=NOW)),
    "reassign": (frozenset({"supervisor"}), True, lambda s, a, c: tasks.reassign(
        s, actor=a, task_id=c["health"], to="o-health", now=NOW)),
    "release": (frozenset({"supervisor"}), True, lambda s, a, c: tasks.release(
        s, actor=a, task_id=c["fire_claimed"], now=NOW)),
    "record_supplement": (frozenset({"clerk"}), True, lambda s, a, c: cases.record_supplement(
        s, actor=a, task_id=c["supplement"], now=NOW)),
    "record_material": (frozenset({"clerk"}), True, lambda s, a, c: cases.record_material(
        s, actor=a, tracking_no=c["app"], material="floor-plan", now=NOW)),
    "withdraw": (frozenset({"clerk"}), True, lambda s, a, c: cases.withdraw(
        s, actor=a, tracking_no=c["app"], reason="申请人撤回", now=NOW)),
    "deliver": (frozenset({"clerk"}), True, lambda s, a, c: cases.deliver(
        s, actor=a, tracking_no=c["app"], now=NOW)),
    "rate": (frozenset({"clerk"}), True, lambda s, a, c: cases.rate(
        s, actor=a, tracking_no=c["app"], score=5, now=NOW)),
    "case_view": (frozenset({"clerk", "officer", "supervisor"}), False,
                  lambda s, a, c: cases.case_view(s, actor=a, tracking_no=c["app"])),
    "find_applicant": (frozenset({"clerk", "officer"}), False,
                       lambda s, a, c: applicants.find(s, actor=a, text="西安")),
    "get_applicant": (frozenset({"clerk", "officer"}), False,
                      lambda s, a, c: applicants.get(s, actor=a, id_number=c["applicant"])),
    "queue": (frozenset({"supervisor"}), False, lambda s, a, c: supervision.queue(
        s, actor=a, department="health", now=NOW)),
    "overview": (frozenset({"supervisor"}), False,
                 lambda s, a, c: supervision.overview(s, actor=a, now=NOW)),
    "overdue_applications": (frozenset({"supervisor"}), False,
                             lambda s, a, c: supervision.overdue_applications(s, actor=a, now=NOW)),
    "audit_entries": (frozenset({"auditor"}), False, lambda s, a, c: audit.entries(s, actor=a)),
    "add_operator": (frozenset({"admin"}), True, lambda s, a, c: office.add_operator(
        s, actor=a, key_dir=c["key_dir"], username="newclerk", name="新窗口", role="clerk",
        departments=[], password=PASSWORD, now=NOW)),
    "publish_catalog": (frozenset({"admin"}), True, lambda s, a, c: office.publish_catalog(
        s, actor=a, catalog=load_catalog(), now=NOW)),
    "load_calendar": (frozenset({"admin"}), True, lambda s, a, c: office.load_calendar(
        s, actor=a, schedule=bundled_schedule(2027), now=NOW)),  # type: ignore[arg-type]
}  # fmt: skip
DEPARTMENT_BOUND = frozenset(
    {"claim", "approve", "reject", "request_supplement", "release", "queue"}
)
"""Actions an officer is refused because of the department, not the role."""


def _rights_context(hall: Hall) -> dict[str, Any]:
    """An application with owed materials, a claimed fire task and a task awaiting a supplement."""
    app = accept(hall, defer=True)
    other = accept(hall, seed=8)
    with writing(hall.engine) as s:
        tasks.claim(s, actor=hall.officer("fire"), task_id=f"{app}/fire", now=NOW)
    with writing(hall.engine) as s:
        tasks.request_supplement(s, actor=hall.officer("health"), task_id=f"{other}/health",
                                 materials=["hygiene-rules"], reason="缺页", now=NOW)  # fmt: skip
    with reading(hall.engine) as s:
        applicant = s.get(Application, app).applicant_id  # type: ignore[union-attr]
    return {"app": app, "health": f"{app}/health", "fire_claimed": f"{app}/fire",
            "supplement": f"{other}/health", "applicant": applicant,
            "key_dir": hall.key_dir}  # fmt: skip


@pytest.mark.parametrize("label", ROLE_LABELS)
def test_each_role_is_refused_every_action_it_lacks_and_nothing_is_logged(
    hall: Hall, label: str
) -> None:
    context = _rights_context(hall)
    actor = _actor(hall, label)
    refusals = 0
    for name, (allowed, writes, call) in ACTIONS.items():
        if label in allowed:
            if not writes:  # reads are allowed, and leave the log as it was
                before = event_count(hall)
                with reading(hall.engine) as s:
                    call(s, actor, context)
                assert event_count(hall) == before, name
            continue
        key = (
            "error.permission.department"
            if label == "officer" and name in DEPARTMENT_BOUND
            else "error.permission.role"
        )
        error = refused(hall, lambda s, n=name: ACTIONS[n][2](s, actor, context),
                        PermissionDenied, key)  # fmt: skip
        if key == "error.permission.department":
            department = "fire" if name == "release" else "health"
            assert error.params == {"department": department}, name
        refusals += 1
    expected = {"clerk": 13, "officer": 21, "supervisor": 18, "admin": 21, "auditor": 23}
    assert refusals == expected[label]
    # The refused calls changed no projection either.
    assert task_states(hall, context["app"]) == {
        "licence": "open", "health": "open", "fire": "open",
        "police": "waiting", "quality": "waiting", "tax": "waiting",
    }  # fmt: skip
    assert get_task(hall, context["fire_claimed"]).claimed_by == "o-fire"


def test_the_owning_officer_may_decide_where_the_other_may_not(hall: Hall) -> None:
    no = accept(hall)
    market, health = hall.officer("market"), hall.officer("health")
    refused(hall, lambda s: tasks.approve(s, actor=market, task_id=f"{no}/health",
                                          permit_no="卫证001", now=NOW),
            PermissionDenied, "error.permission.department")  # fmt: skip
    assert approve(hall, health, f"{no}/health", NOW, permit="卫证001") == []
    [event] = last_events(hall, 1)
    assert (event.type, event.actor, event.key_id) == (
        "task.approved",
        "o-health",
        health.signer.key_id,
    )


def test_supervisor_reassigns_and_releases_but_does_not_decide(hall: Hall) -> None:
    no = accept(hall)
    task_id = f"{no}/licence"
    with writing(hall.engine) as s:
        tasks.reassign(s, actor=hall.supervisor, task_id=task_id, to="o-market", now=NOW)
    task = get_task(hall, task_id)
    assert task.claimed_by == "o-market"
    assert task.claim_expires == NOW + timedelta(hours=4)
    refused(hall, lambda s: tasks.approve(s, actor=hall.supervisor, task_id=task_id,
                                          permit_no="X1", now=NOW),
            PermissionDenied, "error.permission.role")  # fmt: skip
    with writing(hall.engine) as s:
        tasks.release(s, actor=hall.supervisor, task_id=task_id, now=NOW)
    task = get_task(hall, task_id)
    assert task.claimed_by is None and task.claim_expires is None and task.state == "open"
    assert [(e.type, e.actor, e.key_id) for e in last_events(hall, 2)] == [
        ("task.reassigned", "super", hall.supervisor.signer.key_id),
        ("task.released", "super", hall.supervisor.signer.key_id),
    ]


def test_auditor_reads_audit_entries(hall: Hall) -> None:
    with writing(hall.engine) as s:
        audit.record(s, actor="clerk", action="login", detail="终端 1", now=NOW)
        audit.record(s, actor="o-fire", action="read_personal", subject="610102…", now=NOW)
    with reading(hall.engine) as s:
        entries = audit.entries(s, actor=hall.auditor)
    assert [(e.actor, e.action) for e in entries] == [
        ("o-fire", "read_personal"),
        ("clerk", "login"),
    ]
    assert entries[0].at == NOW


# ── claims ───────────────────────────────────────────────────────────────────────────────


def test_claim_blocks_a_colleague_until_it_expires(hall: Hall) -> None:
    officer_a = hall.officer("market")
    officer_b = add_officer(hall, "o-market2", "market")
    no = accept(hall)
    task_id = f"{no}/licence"
    with writing(hall.engine) as s:
        tasks.claim(s, actor=officer_a, task_id=task_id, now=NOW)
    task = get_task(hall, task_id)
    assert task.claimed_by == "o-market"
    assert task.claim_expires == NOW + timedelta(hours=4)

    just_before = NOW + timedelta(hours=3, minutes=59)
    refused(
        hall,
        lambda s: tasks.approve(
            s, actor=officer_b, task_id=task_id, permit_no="L1", now=just_before
        ),
        Conflict,
        "error.task.claimed",
    )
    during = NOW + timedelta(hours=1)
    for call in (
        lambda s: tasks.approve(s, actor=officer_b, task_id=task_id, permit_no="L1", now=during),
        lambda s: tasks.claim(s, actor=officer_b, task_id=task_id, now=during),
        lambda s: tasks.reject(s, actor=officer_b, task_id=task_id, reason="不符", now=during),
        lambda s: tasks.request_supplement(s, actor=officer_b, task_id=task_id,
                                           materials=["floor-plan"], reason="缺", now=during),
    ):  # fmt: skip
        error = refused(hall, call, Conflict, "error.task.claimed")
        assert error.params == {"by": "o-market", "until": "13:00"}
    refused(hall, lambda s: tasks.release(s, actor=officer_b, task_id=task_id, now=during),
            Conflict, "error.task.not_yours")  # fmt: skip

    after = NOW + timedelta(hours=4, minutes=1)  # the lease ended at 13:00
    approve(hall, officer_b, task_id, after, permit="91610102MA0002")
    task = get_task(hall, task_id)
    assert (task.state, task.decided_by, task.decided_at) == ("approved", "o-market2", after)
    assert task.claimed_by is None
    [event] = last_events(hall, 1)
    assert (event.actor, event.key_id) == ("o-market2", officer_b.signer.key_id)


def test_supervisor_reassigns_to_a_colleague_then_releases(hall: Hall) -> None:
    officer_a = hall.officer("market")
    officer_b = add_officer(hall, "o-market2", "market")
    no = accept(hall)
    task_id = f"{no}/licence"
    with writing(hall.engine) as s:
        tasks.claim(s, actor=officer_a, task_id=task_id, now=NOW)
    t1 = NOW + timedelta(hours=1)
    refused(hall, lambda s: tasks.reassign(s, actor=hall.supervisor, task_id=task_id,
                                           to="o-fire", now=t1),
            InvalidInput, "error.task.wrong_department")  # fmt: skip
    refused(hall, lambda s: tasks.reassign(s, actor=hall.supervisor, task_id=task_id,
                                           to="clerk", now=t1),
            InvalidInput, "error.operator.not_officer")  # fmt: skip
    refused(hall, lambda s: tasks.reassign(s, actor=hall.supervisor, task_id=task_id,
                                           to="nobody", now=t1),
            NotFound, "error.operator.unknown")  # fmt: skip
    with writing(hall.engine) as s:
        tasks.reassign(s, actor=hall.supervisor, task_id=task_id, to="o-market2", now=t1)
    task = get_task(hall, task_id)
    assert task.claimed_by == "o-market2"
    assert task.claim_expires == t1 + timedelta(hours=4)

    t2 = NOW + timedelta(hours=2)
    error = refused(hall, lambda s: tasks.approve(s, actor=officer_a, task_id=task_id,
                                                  permit_no="L1", now=t2),
                    Conflict, "error.task.claimed")  # fmt: skip
    assert error.params["by"] == "o-market2"
    with reading(hall.engine) as s:
        mine_b = supervision.queue(s, actor=officer_b, department="market", now=t2, view="mine")
        mine_a = supervision.queue(s, actor=officer_a, department="market", now=t2, view="mine")
    assert ([t.id for t in mine_b.tasks], mine_a.tasks) == ([task_id], [])

    with writing(hall.engine) as s:
        tasks.release(s, actor=hall.supervisor, task_id=task_id, now=t2)
    task = get_task(hall, task_id)
    assert task.claimed_by is None and task.claim_expires is None
    refused(hall, lambda s: tasks.release(s, actor=hall.supervisor, task_id=task_id, now=t2),
            Conflict, "error.task.not_claimed")  # fmt: skip
    approve(hall, officer_a, task_id, t2, permit="91610102MA0003")
    assert get_task(hall, task_id).decided_by == "o-market"
    assert [(e.type, e.actor) for e in last_events(hall, 4)] == [
        ("task.claimed", "o-market"), ("task.reassigned", "super"),
        ("task.released", "super"), ("task.approved", "o-market"),
    ]  # fmt: skip


# ── decisions ────────────────────────────────────────────────────────────────────────────


def test_deciding_twice_names_the_first_decider(hall: Hall) -> None:
    officer_b = add_officer(hall, "o-market2", "market")
    no = accept(hall)
    task_id = f"{no}/licence"
    approve(hall, hall.officer("market"), task_id, NOW, permit="91610102MA0001")
    later = NOW + timedelta(hours=1)
    for actor in (officer_b, hall.officer("market")):
        error = refused(hall, lambda s, a=actor: tasks.approve(
            s, actor=a, task_id=task_id, permit_no="91610102MA0009", now=later),
            Conflict, "error.task.decided")  # fmt: skip
        assert error.params == {"by": "o-market", "state": "state.approved"}
    error = refused(hall, lambda s: tasks.reject(s, actor=officer_b, task_id=task_id,
                                                 reason="重复", now=later),
                    Conflict, "error.task.decided")  # fmt: skip
    assert error.params["by"] == "o-market"
    task = get_task(hall, task_id)
    assert (task.decided_by, task.permit_no) == ("o-market", "91610102MA0001")


def test_reject_ends_the_application_and_closes_every_unfinished_task(hall: Hall) -> None:
    no = accept(hall)
    approve(hall, hall.officer("market"), f"{no}/licence", NOW, permit="91610102MA0001")
    t1 = NOW + timedelta(days=1)
    with writing(hall.engine) as s:
        tasks.request_supplement(s, actor=hall.officer("health"), task_id=f"{no}/health",
                                 materials=["hygiene-rules"], reason="缺页", now=t1)  # fmt: skip
    assert get_app(hall, no).paused_since == t1.date()
    refused(hall, lambda s: tasks.reject(s, actor=hall.officer("fire"), task_id=f"{no}/fire",
                                         reason="  ", now=t1),
            InvalidInput, "error.field.required")  # fmt: skip
    t2 = NOW + timedelta(days=2)
    with writing(hall.engine) as s:
        tasks.reject(s, actor=hall.officer("fire"), task_id=f"{no}/fire",
                     reason="疏散通道不符合要求", now=t2)  # fmt: skip
    assert task_states(hall, no) == {
        "licence": "approved", "fire": "rejected", "health": "closed",
        "police": "closed", "quality": "closed", "tax": "closed",
    }  # fmt: skip
    fire = get_task(hall, f"{no}/fire")
    assert (fire.decided_by, fire.reason, fire.decided_at) == ("o-fire", "疏散通道不符合要求", t2)
    assert get_task(hall, f"{no}/health").paused_since is None
    application = get_app(hall, no)
    assert (application.status, application.reason) == ("rejected", "疏散通道不符合要求")
    assert application.completed_at == t2 and application.paused_since is None
    [event] = last_events(hall, 1)
    assert event.type == "task.rejected" and event.actor == "o-fire"
    # A closed task cannot be decided afterwards.
    refused(hall, lambda s: tasks.approve(s, actor=hall.officer("tax"), task_id=f"{no}/tax",
                                          now=t2),
            Conflict, "error.task.state")  # fmt: skip


def test_withdraw_closes_the_unfinished_tasks(hall: Hall) -> None:
    no = accept(hall)
    approve(hall, hall.officer("market"), f"{no}/licence", NOW, permit="91610102MA0001")
    t1 = NOW + timedelta(hours=2)
    with writing(hall.engine) as s:
        cases.withdraw(s, actor=hall.clerk, tracking_no=no, reason="申请人改变计划", now=t1)
    assert task_states(hall, no) == {
        "licence": "approved", "health": "closed", "fire": "closed",
        "police": "closed", "quality": "closed", "tax": "closed",
    }  # fmt: skip
    application = get_app(hall, no)
    assert (application.status, application.reason) == ("withdrawn", "申请人改变计划")
    assert application.completed_at == t1
    refused(hall, lambda s: cases.withdraw(s, actor=hall.clerk, tracking_no=no, reason="再撤",
                                           now=t1),
            Conflict, "error.application.state")  # fmt: skip
    refused(hall, lambda s: tasks.claim(s, actor=hall.officer("fire"), task_id=f"{no}/fire",
                                        now=t1),
            Conflict, "error.task.state")  # fmt: skip


def test_rejecting_a_task_that_waits_for_a_supplement_stops_its_wait(hall: Hall) -> None:
    no = accept(hall)
    health = hall.officer("health")
    with writing(hall.engine) as s:
        tasks.request_supplement(s, actor=health, task_id=f"{no}/health",
                                 materials=["hygiene-rules"], reason="缺页", now=NOW)  # fmt: skip
    t1 = NOW + timedelta(days=1)
    with writing(hall.engine) as s:
        tasks.reject(s, actor=health, task_id=f"{no}/health", reason="逾期未补正", now=t1)
    task = get_task(hall, f"{no}/health")
    assert (task.state, task.paused_since, task.requested) == ("rejected", None, [])


def test_a_material_two_departments_asked_for_stays_owed_until_both_have_it(hall: Hall) -> None:
    no = accept(hall)
    for department in ("health", "fire"):
        officer, task_id = hall.officer(department), f"{no}/{department}"
        with writing(hall.engine) as s:
            tasks.request_supplement(
                s,
                actor=officer,
                task_id=task_id,
                materials=["floor-plan"],
                reason="看不清",
                now=NOW,
            )
    t1 = NOW + timedelta(days=1)
    with writing(hall.engine) as s:
        cases.record_supplement(s, actor=hall.clerk, task_id=f"{no}/health", now=t1)
        owed = [m.material_code for m in cases.owed_materials(s, no)]
    assert owed == ["floor-plan"], "the fire task still waits for it"
    assert get_app(hall, no).paused_since == NOW.date()
    with writing(hall.engine) as s:
        cases.record_supplement(s, actor=hall.clerk, task_id=f"{no}/fire", now=t1)
        assert cases.owed_materials(s, no) == []
    assert get_app(hall, no).paused_since is None


def test_a_closed_case_takes_no_owed_material(hall: Hall) -> None:
    no = accept(hall, defer=True)
    with reading(hall.engine) as s:
        owed = [m.material_code for m in cases.owed_materials(s, no)]
    assert owed, "the request defers a material"
    with writing(hall.engine) as s:
        cases.withdraw(s, actor=hall.clerk, tracking_no=no, reason="申请人改变计划", now=NOW)
    refused(hall, lambda s: cases.record_material(s, actor=hall.clerk, tracking_no=no,
                                                  material=owed[0], now=NOW),
            Conflict, "error.application.state")  # fmt: skip


def test_permit_number_required_where_the_catalog_says(hall: Hall) -> None:
    hotel = CATALOG.matter("hotel-open")
    assert hotel is not None
    assert hotel.task("licence").permit is not None and hotel.task("tax").permit is None
    no = accept(hall)
    market = hall.officer("market")
    for permit in ("", "   "):
        error = refused(hall, lambda s, p=permit: tasks.approve(
            s, actor=market, task_id=f"{no}/licence", permit_no=p, now=NOW),
            InvalidInput, "error.task.permit_required")  # fmt: skip
        assert "营业执照" in error.message("zh_CN")
        assert "Business licence" in error.message("en")
    assert get_task(hall, f"{no}/licence").state == "open"
    approve(hall, market, f"{no}/licence", NOW, permit=" 91610102MA0001 ")
    assert get_task(hall, f"{no}/licence").permit_no == "91610102MA0001"
    approve(hall, hall.officer("tax"), f"{no}/tax", NOW)  # no permit for the tax task
    tax = get_task(hall, f"{no}/tax")
    assert (tax.state, tax.permit_no) == ("approved", "")


def test_supplement_request_needs_known_materials(hall: Hall) -> None:
    no = accept(hall)
    health = hall.officer("health")
    error = refused(hall, lambda s: tasks.request_supplement(
        s, actor=health, task_id=f"{no}/health", materials=["hygiene-rules", "horoscope"],
        reason="缺页", now=NOW), InvalidInput, "error.material.unknown")  # fmt: skip
    assert error.params == {"material": "horoscope"}
    refused(hall, lambda s: tasks.request_supplement(
        s, actor=health, task_id=f"{no}/health", materials=[], reason="缺页", now=NOW),
        InvalidInput, "error.supplement.no_materials")  # fmt: skip
    task = get_task(hall, f"{no}/health")
    assert (task.state, task.paused_since, task.requested) == ("open", None, [])
    assert get_app(hall, no).paused_since is None


def test_refuse_records_a_refused_application_with_its_reason(hall: Hall) -> None:
    applicant = request_for("hotel-open").applicant
    refused(hall, lambda s: intake.refuse(s, actor=hall.clerk, applicant=applicant,
                                          matter_code="hotel-open", reason=" ", now=NOW),
            InvalidInput, "error.field.required")  # fmt: skip
    with writing(hall.engine) as s:
        no = intake.refuse(s, actor=hall.clerk, applicant=applicant, matter_code="hotel-open",
                           reason="经营场所位于居民住宅楼内，不予受理", now=NOW)  # fmt: skip
    assert tracking.normalise(no) == no
    application = get_app(hall, no)
    assert (application.status, application.reason) == (
        "refused",
        "经营场所位于居民住宅楼内，不予受理",
    )
    assert (application.accepted_by, application.completed_at) == ("clerk", NOW)
    with reading(hall.engine) as s:
        stored = applicants.get(s, actor=hall.clerk, id_number=applicant.id_number)
    assert stored is not None and application.applicant_id == stored.ref
    assert task_states(hall, no) == {}
    [event] = last_events(hall, 1)
    assert (event.type, event.actor, event.key_id) == (
        "application.refused",
        "clerk",
        hall.clerk.signer.key_id,
    )


# ── intake: bad input gets a specific message and changes nothing ─────────────────────────

PROMISE = date(2026, 11, 20)


def _drop(request: intake.IntakeRequest, code: str) -> tuple[str, ...]:
    return tuple(c for c in request.received if c != code)


BAD_INTAKE: dict[str, tuple[Callable[[intake.IntakeRequest], intake.IntakeRequest], str, str]] = {
    # case → (how the good request is spoilt, the message key, what the Chinese message names)
    "missing material": (
        lambda r: replace(r, received=_drop(r, "premises-proof")),
        "error.material.missing", "经营场所使用证明（房屋产权证明或租赁合同）"),
    "defer a material that may not be deferred": (
        lambda r: replace(r, received=_drop(r, "security-plan"),
                          deferred={**r.deferred, "security-plan": PROMISE}),
        "error.material.not_deferrable", "治安保卫制度及旅馆业治安管理信息系统安装证明"),
    "promised date in the past": (
        lambda r: replace(r, deferred={**r.deferred, "floor-plan": date(2026, 11, 1)}),
        "error.material.promise_past", "旅馆平面布局图及客房分布图"),
    "unknown material": (
        lambda r: replace(r, received=(*r.received, "horoscope")),
        "error.material.unknown", "horoscope"),
    "unknown form field": (
        lambda r: replace(r, form={**r.form, "star-rating": "5"}),
        "error.field.unknown", "star-rating"),
    "bad integer": (
        lambda r: replace(r, form={**r.form, "room-count": "十二"}),
        "error.field.integer", "客房数（间）"),
    "fractional integer": (
        lambda r: replace(r, form={**r.form, "bed-count": "2.5"}),
        "error.field.integer", "床位数（张）"),
    "wrong choice": (
        lambda r: replace(r, form={**r.form, "hotel-type": "汽车旅馆"}),
        "error.field.choice", "宾馆（酒店）、旅馆（招待所）、民宿、青年旅舍"),
    "missing form field": (
        lambda r: replace(r, form={k: v for k, v in r.form.items() if k != "hotel-name"}),
        "error.field.required", "旅馆名称"),
    "wrong applicant kind": (
        lambda r: replace(r, applicant=ApplicantInput("person", person_id(), "张三",
                                                      "13812345678")),
        "error.applicant.wrong_kind", "单位"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INTAKE))
def test_bad_intake_is_refused_with_a_specific_key_and_changes_nothing(
    hall: Hall, case: str
) -> None:
    change, key, named = BAD_INTAKE[case]
    good = request_for("hotel-open", defer=True, promised=PROMISE)
    error = refused(hall, lambda s: intake.accept(s, actor=hall.clerk, request=change(good),
                                                  now=NOW), InvalidInput, key)  # fmt: skip
    assert named in error.message("zh_CN")  # a sentence naming what is wrong, not a bare key
    with reading(hall.engine) as s:
        for table in (Application, Applicant, Task, ApplicationMaterial):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table
    # The same request without the fault goes through.
    with writing(hall.engine) as s:
        intake.accept(s, actor=hall.clerk, request=good, now=NOW)


# ── applicants: collected once, found again ───────────────────────────────────────────────


def test_applicant_is_collected_once_and_found_by_id_phone_name_and_initials(hall: Hall) -> None:
    first = request_for("subsistence-allowance")
    assert first.applicant.name == "张三"
    with writing(hall.engine) as s:
        no1 = intake.accept(s, actor=hall.clerk, request=first, now=NOW).tracking_no
    other = ApplicantInput("person", person_id(random.Random(3), born=date(1991, 3, 8)), "李四",
                           "13900001111", "西一路9号")  # fmt: skip
    with writing(hall.engine) as s:
        request = replace(request_for("subsistence-allowance"), applicant=other)
        intake.accept(s, actor=hall.clerk, request=request, now=NOW)
    # Collect once: the second application of 张三 starts from the stored record.
    with reading(hall.engine) as s:
        stored = applicants.get(s, actor=hall.clerk, id_number=first.applicant.id_number.lower())
        assert stored is not None
    again = ApplicantInput("person", "", "张三", "", stored.address, ref=stored.ref)
    with writing(hall.engine) as s:
        request = replace(request_for("elderly-allowance"), applicant=again)
        no2 = intake.accept(s, actor=hall.clerk, request=request, now=NOW).tracking_no
    with reading(hall.engine) as s:
        rows = list(s.scalars(select(Applicant).order_by(Applicant.name)))
        assert [r.name for r in rows] == ["张三", "李四"]
        ids = {s.get(Application, n).applicant_id for n in (no1, no2)}  # type: ignore[union-attr]
        assert ids == {stored.ref}
        key = applicants.data_key(hall.clerk)
        assert applicants.open_numbers(stored, key) == applicants.Numbers(
            first.applicant.id_number, normalise_phone(first.applicant.phone)
        )
        assert (stored.initials, stored.id_masked) == ("zs", mask_id(first.applicant.id_number))

        def found(text: str) -> list[str]:
            return [a.name for a in applicants.find(s, actor=hall.clerk, text=text)]

        # Numbers are kept only as keyed hashes: found by the whole number, not a prefix.
        assert found(first.applicant.id_number) == ["张三"]
        assert found(first.applicant.id_number.lower()) == ["张三"]
        assert found(first.applicant.id_number[:14]) == []
        assert found(normalise_phone(first.applicant.phone)) == ["张三"]
        assert found(normalise_phone(first.applicant.phone)[:7]) == []
        assert found("张") == ["张三"]
        assert found("zs") == ["张三"]
        assert found("ZS") == ["张三"]
        assert found("ls") == ["李四"]
        assert found("139 0000 1111") == ["李四"]
        assert found(other.id_number) == ["李四"]
        assert found("wz") == []
        assert found("  ") == []


def test_applicant_search_for_a_bare_wildcard_finds_nobody(hall: Hall) -> None:
    accept(hall, "subsistence-allowance")
    with reading(hall.engine) as s:
        assert len(applicants.find(s, actor=hall.clerk, text="张")) == 1
        # "%" and "_" are dropped so they cannot act as wildcards; a search made of nothing
        # else must find nobody (as an empty search does), not list every applicant.
        assert applicants.find(s, actor=hall.clerk, text="%") == []
        assert applicants.find(s, actor=hall.clerk, text="__") == []


# ── supervision: overview, queues, lights ─────────────────────────────────────────────────


def test_overview_counts_backlog_overdue_and_due_soon_per_department(hall: Hall) -> None:
    hotel = CATALOG.matter("hotel-open")
    assert hotel is not None
    limit = {t.code: t.time_limit_days for t in hotel.tasks}
    a = accept(hall)
    b = accept(hall, seed=8)
    t1 = at(date(2026, 11, 3), 10)
    approve(hall, hall.officer("market"), f"{b}/licence", t1, permit="91610102MA0001")
    with writing(hall.engine) as s:
        tasks.request_supplement(s, actor=hall.officer("health"), task_id=f"{b}/health",
                                 materials=["hygiene-rules"], reason="缺页",
                                 now=at(date(2026, 11, 3), 11))  # fmt: skip
    now = at(date(2026, 11, 12), 10)  # a Thursday
    today = now.date()
    # The facts the expected counts rest on, computed independently:
    licence_due = CAL.add_workdays(NOW.date(), limit["licence"]).date
    fire_due = CAL.add_workdays(NOW.date(), limit["fire"]).date
    health_due = CAL.add_workdays(NOW.date(), limit["health"]).date
    quality_due = CAL.add_workdays(t1.date(), limit["quality"]).date
    tax_due = CAL.add_workdays(t1.date(), limit["tax"]).date
    assert licence_due < today and tax_due < today  # overdue
    assert CAL.workdays_between(today, fire_due) == 2  # due soon (within 2 working days)
    assert CAL.workdays_between(today, quality_due) == 3  # not yet
    assert CAL.workdays_between(today, health_due) > 2
    assert get_task(hall, f"{b}/quality").due_date == quality_due

    with reading(hall.engine) as s:
        view = supervision.overview(s, actor=hall.supervisor, now=now)
    figures = {
        d.department: (d.backlog, d.overdue, d.due_soon, d.waiting_supplement, d.decided)
        for d in view.departments
    }
    assert figures == {
        "market": (1, 1, 0, 0, 1),
        "health": (2, 0, 0, 1, 0),
        "fire": (2, 0, 2, 0, 0),
        "police": (0, 0, 0, 0, 0),
        "quality": (1, 0, 0, 0, 0),
        "tax": (1, 1, 0, 0, 0),
    }
    market = next(d for d in view.departments if d.department == "market")
    assert market.average_days == round((t1 - NOW).total_seconds() / 86400, 2) == 1.04
    assert next(d for d in view.departments if d.department == "fire").average_days is None
    assert len(view.throughput) == 30 and view.throughput[-1] == (today, 0)
    assert [(d, n) for d, n in view.throughput if n] == [(date(2026, 11, 3), 1)]
    at_intake = sorted([f"{a}/licence", f"{a}/health", f"{a}/fire", f"{b}/health", f"{b}/fire"])
    assert [t.id for t in view.oldest] == [*at_intake, f"{b}/quality", f"{b}/tax"]

    with reading(hall.engine) as s:
        none = supervision.overdue_applications(s, actor=hall.supervisor, now=now)
        assert none.applications == [] and none.total == 0
        app_due = get_app(hall, a).due_date
        assert app_due == CAL.add_workdays(NOW.date(), hotel.time_limit_days).date
        late = at(app_due + timedelta(days=1))  # type: ignore[operator]
        overdue = supervision.overdue_applications(s, actor=hall.supervisor, now=late)
    # b's clock is paused by its supplement
    assert [x.tracking_no for x in overdue.applications] == [a] and overdue.total == 1
    c = accept(hall, seed=9)
    with reading(hall.engine) as s:
        later = at(app_due + timedelta(days=60))  # type: ignore[operator]
        both = supervision.overdue_applications(s, actor=hall.supervisor, now=later)
        first = supervision.overdue_applications(s, actor=hall.supervisor, now=later, limit=1)
    assert both.total == 2 and {x.tracking_no for x in both.applications} == {a, c}
    assert first.total == 2 and first.applications == both.applications[:1]


def test_throughput_counts_a_decision_on_the_offices_day_not_utcs(hall: Hall) -> None:
    """00:30 in Beijing is 16:30 the day before in UTC, where the database keeps it."""
    number = accept(hall)
    just_after_midnight = at(date(2026, 11, 4), 0, 30)
    approve(hall, hall.officer("market"), f"{number}/licence", just_after_midnight, permit="P1")
    with reading(hall.engine) as s:
        view = supervision.overview(s, actor=hall.supervisor, now=at(date(2026, 11, 12), 10))
    assert [(d, n) for d, n in view.throughput if n] == [(date(2026, 11, 4), 1)]
    market = next(d for d in view.departments if d.department == "market")
    expected = (just_after_midnight - NOW).total_seconds() / 86400
    assert market.average_days == round(expected, 2)


def test_queue_pages_filters_and_lights(hall: Hall) -> None:
    health = hall.officer("health")
    a, b, c = accept(hall, seed=1), accept(hall, seed=2), accept(hall, seed=3)
    assert a < b < c
    due = CAL.add_workdays(NOW.date(), 15).date
    assert due == date(2026, 11, 23)
    t1 = at(date(2026, 11, 3), 10)
    with writing(hall.engine) as s:
        tasks.claim(s, actor=health, task_id=f"{a}/health", now=t1)
    with writing(hall.engine) as s:
        tasks.request_supplement(s, actor=health, task_id=f"{b}/health",
                                 materials=["staff-health"], reason="健康证过期",
                                 now=at(date(2026, 11, 3), 10, 30))  # fmt: skip

    def page(now: datetime, view: str = "all", actor: Actor = health, **kw: Any) -> tuple[
        list[str], int, list[str]
    ]:  # fmt: skip
        search = kw.get("search", "")
        with reading(hall.engine) as s:
            result = supervision.queue(
                s, actor=actor, department="health", now=now, view=view, **kw
            )
            total = supervision.queue_size(
                s, actor=actor, department="health", now=now, view=view, search=search
            )
        ids = [t.id for t in result.tasks]
        return ids, total, [result.lights[i] for i in ids]

    noon = at(date(2026, 11, 3), 12)
    ah, bh, ch = f"{a}/health", f"{b}/health", f"{c}/health"
    assert page(noon, limit=2) == ([ah, bh], 3, ["green", "paused"])
    assert page(noon, limit=2, offset=2) == ([ch], 3, ["green"])
    with reading(hall.engine) as s:
        first = supervision.queue(s, actor=health, department="health", now=noon, limit=2)
    assert first.last_key == (get_task(hall, bh).due_date, bh)
    assert page(noon, limit=2, after=first.last_key) == ([ch], 3, ["green"])
    assert page(noon, after=(date.max, ch))[0] == []
    assert page(noon, "mine") == ([ah], 1, ["green"])
    assert page(noon, "unclaimed") == ([bh, ch], 2, ["paused", "green"])
    assert page(noon, "supplement") == ([bh], 1, ["paused"])
    assert page(noon, "overdue") == ([], 0, [])
    assert page(noon, search=c.lower()) == ([ch], 1, ["green"])
    assert page(noon, actor=hall.supervisor) == ([ah, bh, ch], 3, ["green", "paused", "green"])
    assert page(noon, "mine", actor=hall.supervisor)[1] == 0

    wednesday, thursday = at(date(2026, 11, 18)), at(date(2026, 11, 19))
    assert CAL.workdays_until(wednesday.date(), due) == 3
    assert CAL.workdays_until(thursday.date(), due) == 2
    assert page(wednesday)[2] == ["green", "paused", "green"]
    assert page(thursday)[2] == ["yellow", "paused", "yellow"]  # within 2 working days
    friday = at(date(2026, 11, 20))  # one working day before the due Monday
    assert CAL.workdays_until(friday.date(), due) == 1
    assert page(friday) == ([ah, bh, ch], 3, ["yellow", "paused", "yellow"])
    assert page(friday, soon_days=0)[2] == ["green", "paused", "green"]

    late = at(date(2026, 11, 24))
    assert page(late, "overdue") == ([ah, ch], 2, ["red", "red"])
    assert page(late, "mine") == ([], 0, [])  # the claim ran out long ago
    assert page(late, "unclaimed")[1] == 3

    with reading(hall.engine) as s:
        with pytest.raises(InvalidInput) as bad:
            supervision.queue(s, actor=health, department="health", now=noon, view="urgent")
        assert bad.value.key == "error.queue.filter"
        with pytest.raises(PermissionDenied) as denied:
            supervision.queue(s, actor=hall.officer("fire"), department="health", now=noon)
        assert denied.value.key == "error.permission.department"
        decided = s.get(Task, f"{a}/fire")
        assert decided is not None
    assert supervision.light(decided, noon.date(), CAL) == "green"
    approve(hall, hall.officer("fire"), f"{a}/fire", noon, permit="消检001")
    assert supervision.light(get_task(hall, f"{a}/fire"), noon.date(), CAL) == "none"


# ── tracking numbers ──────────────────────────────────────────────────────────────────────


def test_tracking_numbers_accept_real_ones_and_catch_every_single_typo(hall: Hall) -> None:
    no = accept(hall)
    assert no.startswith("610102001261102")
    assert tracking.normalise(no) == no
    assert tracking.normalise(no.lower()) == no
    spaced = " ".join(no[i : i + 4] for i in range(0, len(no), 4))
    assert tracking.normalise(f"  {spaced.lower()} ") == no
    assert tracking.normalise(f"{no[:9]}-{no[9:15]}-{no[15:]}") == no
    with reading(hall.engine) as s:
        assert cases.get_application(s, spaced.lower()).tracking_no == no
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    typos = 0
    for i, original in enumerate(no):
        for ch in alphabet:
            if ch == original:
                continue
            typo = no[:i] + ch + no[i + 1 :]
            with pytest.raises(InvalidInput) as caught:
                tracking.normalise(typo)
            assert caught.value.key == "error.tracking.check", typo
            typos += 1
    assert typos == len(no) * 35
    with pytest.raises(InvalidInput) as short:
        tracking.normalise(no[:10])
    assert short.value.key == "error.tracking.format"


def test_tasks_of_a_department_above_with_no_officer_here_go_upstream(hall: Hall) -> None:
    with reading(hall.engine) as s:
        upstream = office.upstream_departments(s)
    # County bureaux with an officer at this hall stay here; the others go up; the township's
    # and the village's own departments never do.
    assert {"medical-insurance", "social-security"} <= upstream
    assert not upstream & {"market", "health", "fire", "police", "quality", "tax", "county-civil"}
    assert not upstream & {"township-civil", "village-committee"}
