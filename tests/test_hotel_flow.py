"""Acceptance: the paper's examples end to end through the services, on both backends.

开办旅馆: one intake, three departments at once, the rest opening as their predecessors are
approved, a 补正 that stops both clocks, 容缺 materials owed until delivery, a rating.
最低生活保障: village → township → county, strictly one after the other.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from models import Applicant, Application, ApplicationMaterial, Department, Event, Task
from tests.conftest import NOW, Hall
from tests.factories import CATALOG, request_for
from workstation import rebuild
from workstation.db import reading, writing
from workstation.errors import Conflict
from workstation.services import cases, intake, tasks
from workstation.services.auth import Actor
from workstation.verify import verify_log
from workstation.workdays import WorkCalendar

CAL = WorkCalendar()
"""The calendar the office uses: no schedule loaded, so the official package data."""
SETUP_EVENTS = 14
"""office.opened, catalog.published and twelve operator.registered events of the hall."""
HOTEL_OWED = ("fire-facility-report", "floor-plan", "hygiene-test-report", "staff-health")
"""The 容缺 materials of 开办旅馆, as the catalog marks them deferrable."""
PROMISED = date(2026, 11, 20)


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock on ``day`` in the office's time zone (that of NOW)."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=NOW.tzinfo)


def task_map(session: Session, tracking_no: str) -> dict[str, Task]:
    """The application's tasks by task code."""
    rows = session.scalars(select(Task).where(Task.tracking_no == tracking_no))
    return {t.task_code: t for t in rows}


def states(session: Session, tracking_no: str) -> dict[str, str]:
    """Task code → state."""
    return {code: t.state for code, t in task_map(session, tracking_no).items()}


def event_count(hall: Hall) -> int:
    with reading(hall.engine) as s:
        return s.scalar(select(func.count()).select_from(Event)) or 0


def events_after(hall: Hall, skip: int) -> list[Event]:
    with reading(hall.engine) as s:
        return list(s.scalars(select(Event).order_by(Event.id).offset(skip)))


def paused_workdays(start: date, end: date) -> int:
    """Working days from the day after ``start`` up to and including ``end``, day by day."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += CAL.is_workday(day)
    return count


def approve(hall: Hall, actor: Actor, task_id: str, when: datetime, permit: str = "") -> list[str]:
    with writing(hall.engine) as s:
        return tasks.approve(s, actor=actor, task_id=task_id, permit_no=permit, now=when)


def test_catalog_is_what_this_test_assumes() -> None:
    hotel = CATALOG.matter("hotel-open")
    assert hotel is not None
    assert tuple(sorted(m.code for m in hotel.materials if m.deferrable)) == HOTEL_OWED
    assert {t.code: (t.department, t.depends_on) for t in hotel.tasks} == {
        "licence": ("market", ()),
        "health": ("health", ()),
        "fire": ("fire", ()),
        "police": ("police", ("fire",)),
        "quality": ("quality", ("licence",)),
        "tax": ("tax", ("licence",)),
    }


def test_hotel_end_to_end(hall: Hall) -> None:
    assert event_count(hall) == SETUP_EVENTS
    hotel = CATALOG.matter("hotel-open")
    assert hotel is not None
    limits = {t.code: t.time_limit_days for t in hotel.tasks}
    market, health, fire = hall.officer("market"), hall.officer("health"), hall.officer("fire")
    police, quality, tax = hall.officer("police"), hall.officer("quality"), hall.officer("tax")
    day0 = NOW.date()  # Monday 2026-11-02

    # ── 一窗受理: one intake with the 容缺 materials promised for later ──────────────────────
    request = request_for("hotel-open", defer=True, promised=PROMISED)
    assert tuple(sorted(request.deferred)) == HOTEL_OWED
    with writing(hall.engine) as s:
        result = intake.accept(s, actor=hall.clerk, request=request, now=NOW)
    no = result.tracking_no
    app_due0 = CAL.add_workdays(day0, hotel.time_limit_days).date
    with reading(hall.engine) as s:
        application = s.get(Application, no)
        assert application is not None
        assert application.status == "in_progress"
        assert application.accepted_by == "clerk"
        assert application.due_date == app_due0
        assert application.paused_since is None
        assert states(s, no) == {
            "licence": "open", "health": "open", "fire": "open",
            "police": "waiting", "quality": "waiting", "tax": "waiting",
        }  # fmt: skip
        tm = task_map(s, no)
        for code in ("licence", "health", "fire"):
            assert tm[code].due_date == CAL.add_workdays(day0, limits[code]).date, code
            assert tm[code].opened_at == NOW
        for code in ("police", "quality", "tax"):
            assert tm[code].due_date is None and tm[code].opened_at is None, code
        assert {t.department_code for t in tm.values()} == {
            "market",
            "health",
            "fire",
            "police",
            "quality",
            "tax",
        }
        materials = {
            m.material_code: (m.status, m.promised_date)
            for m in s.scalars(
                select(ApplicationMaterial).where(ApplicationMaterial.tracking_no == no)
            )
        }
        assert {c for c, (st, _) in materials.items() if st == "owed"} == set(HOTEL_OWED)
        assert all(materials[c][1] == PROMISED for c in HOTEL_OWED)
        assert set(materials) == {m.code for m in hotel.materials if m.required}
    health_due0 = CAL.add_workdays(day0, limits["health"]).date

    # ── the licence is approved: quality and tax open, police still waits for fire ──────────
    t1 = at(day0 + timedelta(days=1))  # Tuesday
    assert approve(hall, market, f"{no}/licence", t1, permit="91610102MA0001") == ["quality", "tax"]
    with reading(hall.engine) as s:
        tm = task_map(s, no)
        assert tm["licence"].state == "approved"
        assert tm["licence"].decided_by == "o-market"
        assert tm["licence"].permit_no == "91610102MA0001"
        assert tm["police"].state == "waiting" and tm["police"].due_date is None
        for code in ("quality", "tax"):
            assert tm[code].state == "open", code
            assert tm[code].opened_at == t1
            assert tm[code].due_date == CAL.add_workdays(t1.date(), limits[code]).date, code

    # ── health asks for a supplement: its clock and the case's clock stop ──────────────────
    t2 = at(day0 + timedelta(days=2))  # Wednesday
    with writing(hall.engine) as s:
        tasks.request_supplement(
            s, actor=health, task_id=f"{no}/health", materials=["hygiene-rules"],
            reason="卫生管理制度缺少消毒记录", now=t2,
        )  # fmt: skip
    with reading(hall.engine) as s:
        task = task_map(s, no)["health"]
        assert task.state == "supplement"
        assert task.paused_since == t2.date()
        assert task.requested == ["hygiene-rules"]
        assert task.due_date == health_due0  # unchanged until the materials come
        application = s.get(Application, no)
        assert application is not None
        assert application.paused_since == t2.date()
        assert application.due_date == app_due0
        row = s.get(ApplicationMaterial, (no, "hygiene-rules"))
        assert row is not None and row.status == "requested"

    # ── fire is approved: only now does police open ────────────────────────────────────────
    t3 = at(day0 + timedelta(days=3))  # Thursday
    assert approve(hall, fire, f"{no}/fire", t3, permit="消检字〔2026〕第118号") == ["police"]
    with reading(hall.engine) as s:
        tm = task_map(s, no)
        assert tm["police"].state == "open"
        assert tm["police"].opened_at == t3
        assert tm["police"].due_date == CAL.add_workdays(t3.date(), limits["police"]).date

    # ── the clerk records the supplement some working days later: both clocks resume ──────
    t4 = at(date(2026, 11, 10))  # the Tuesday after
    paused = paused_workdays(t2.date(), t4.date())
    assert paused == 4  # Thu 5, Fri 6, Mon 9, Tue 10
    with writing(hall.engine) as s:
        cases.record_supplement(s, actor=hall.clerk, task_id=f"{no}/health", now=t4)
    with reading(hall.engine) as s:
        task = task_map(s, no)["health"]
        assert task.state == "open"
        assert task.paused_since is None
        assert task.requested == []
        assert task.due_date == CAL.add_workdays(health_due0, paused).date
        assert CAL.workdays_between(health_due0, task.due_date) == paused
        application = s.get(Application, no)
        assert application is not None
        assert application.paused_since is None
        assert application.due_date == CAL.add_workdays(app_due0, paused).date
        assert CAL.workdays_between(app_due0, application.due_date) == paused
        row = s.get(ApplicationMaterial, (no, "hygiene-rules"))
        assert row is not None and row.status == "received"

    # ── the rest are approved; the last approval completes the application ────────────────
    t5 = at(date(2026, 11, 11))
    assert approve(hall, health, f"{no}/health", t5, permit="卫公证字〔2026〕第061号") == []
    assert approve(hall, quality, f"{no}/quality", t5) == []
    assert approve(hall, tax, f"{no}/tax", t5) == []
    with reading(hall.engine) as s:
        application = s.get(Application, no)
        assert application is not None and application.status == "in_progress"
    t6 = at(date(2026, 11, 12))
    assert approve(hall, police, f"{no}/police", t6, permit="特行字〔2026〕第007号") == []
    with reading(hall.engine) as s:
        assert set(states(s, no).values()) == {"approved"}
        application = s.get(Application, no)
        assert application is not None
        assert application.status == "completed"
        assert application.completed_at == t6

    # ── 出件 is refused while 容缺 materials are owed, and changes nothing ──────────────────
    before = event_count(hall)
    t7 = at(date(2026, 11, 13))
    with pytest.raises(Conflict) as refused, writing(hall.engine) as s:
        cases.deliver(s, actor=hall.clerk, tracking_no=no, now=t7)
    assert refused.value.key == "error.deliver.owed"
    owed_names = {hotel.material(c).name.zh for c in HOTEL_OWED}  # type: ignore[union-attr]
    assert set(refused.value.params["materials"].split("、")) == owed_names
    assert event_count(hall) == before
    for code in HOTEL_OWED:
        with writing(hall.engine) as s:
            cases.record_material(s, actor=hall.clerk, tracking_no=no, material=code, now=t7)
    with reading(hall.engine) as s:
        assert cases.owed_materials(s, no) == []
    with writing(hall.engine) as s:
        cases.deliver(s, actor=hall.clerk, tracking_no=no, now=t7)
    with writing(hall.engine) as s:
        cases.rate(
            s, actor=hall.clerk, tracking_no=no, score=5, comment="只跑了一次，很方便", now=t7
        )
    with reading(hall.engine) as s:
        application = s.get(Application, no)
        assert application is not None
        assert application.status == "delivered"
        assert application.delivered_at == t7
        assert application.rating == 5
        assert application.rating_comment == "只跑了一次，很方便"

    # ── the signed log: who signed what, in which order; it verifies and rebuilds ─────────
    expected = [
        ("application.accepted", hall.clerk),
        ("task.approved", market),
        ("task.supplement_requested", health),
        ("task.approved", fire),
        ("supplement.received", hall.clerk),
        ("task.approved", health),
        ("task.approved", quality),
        ("task.approved", tax),
        ("task.approved", police),
        *[("material.received", hall.clerk)] * len(HOTEL_OWED),
        ("application.delivered", hall.clerk),
        ("application.rated", hall.clerk),
    ]
    flow = events_after(hall, SETUP_EVENTS)
    assert [e.type for e in flow] == [t for t, _ in expected]
    for event, (_, actor) in zip(flow, expected, strict=True):
        assert (event.actor, event.key_id) == (actor.username, actor.signer.key_id), event.type
        assert event.origin == "610102001"
    assert [e.seq for e in flow] == list(range(SETUP_EVENTS + 1, SETUP_EVENTS + 1 + len(expected)))
    setup = events_after(hall, 0)[:SETUP_EVENTS]
    assert {(e.actor, e.key_id) for e in setup} == {("admin", hall.admin.signer.key_id)}
    with reading(hall.engine) as s:
        report = verify_log(s)
        assert report.ok, report.problem
        assert report.checked == SETUP_EVENTS + len(expected)
        assert rebuild.check(s) == []


def test_case_view_shows_the_signed_timeline_of_the_case(hall: Hall) -> None:
    no = accept_hotel(hall)
    other = accept_hotel(hall)  # another case: none of its events belong to the first
    approve(hall, hall.officer("market"), f"{no}/licence", at(date(2026, 11, 3)), permit="L-1")
    with writing(hall.engine) as s:
        tasks.request_supplement(
            s, actor=hall.officer("health"), task_id=f"{no}/health", materials=["hygiene-rules"],
            reason="缺页", now=at(date(2026, 11, 3), 11),
        )  # fmt: skip
    with reading(hall.engine) as s:
        view = cases.case_view(s, actor=hall.clerk, tracking_no=no.lower())
    assert view.application.tracking_no == no
    assert len(view.tasks) == 6 and {t.tracking_no for t in view.tasks} == {no}
    assert {m.material_code for m in view.materials} >= {"application-form", "hygiene-rules"}
    # The timeline: this case's signed events, in order, and nothing of the other case.
    assert [(e.type, e.actor) for e in view.events] == [
        ("application.accepted", "clerk"),
        ("task.approved", "o-market"),
        ("task.supplement_requested", "o-health"),
    ]
    assert other not in b"".join(e.payload for e in view.events).decode()


def accept_hotel(hall: Hall) -> str:
    """Accept one complete hotel application at NOW; its tracking number."""
    with writing(hall.engine) as s:
        return intake.accept(
            s, actor=hall.clerk, request=request_for("hotel-open"), now=NOW
        ).tracking_no


def test_subsistence_allowance_is_strictly_sequential(hall: Hall) -> None:
    matter = CATALOG.matter("subsistence-allowance")
    assert matter is not None
    limits = {t.code: t.time_limit_days for t in matter.tasks}
    with reading(hall.engine) as s:
        offices = {d.code: d.office_code for d in s.scalars(select(Department))}
    assert offices["village-committee"] == "610102001"
    assert offices["township-civil"] == "610102001"
    assert offices["county-civil"] == "610102"  # above the township: at the parent office

    with writing(hall.engine) as s:
        result = intake.accept(
            s, actor=hall.clerk, request=request_for("subsistence-allowance"), now=NOW
        )
    no = result.tracking_no
    with reading(hall.engine) as s:
        assert states(s, no) == {"village": "open", "township": "waiting", "county": "waiting"}
        tm = task_map(s, no)
        assert {c: t.department_code for c, t in tm.items()} == {
            "village": "village-committee", "township": "township-civil",
            "county": "county-civil",
        }  # fmt: skip
        assert tm["village"].due_date == CAL.add_workdays(NOW.date(), limits["village"]).date
        applicant = s.get(Applicant, result_applicant_id(s, no))
        assert applicant is not None and applicant.kind == "person"

    # No one further down the line can act before their turn.
    with pytest.raises(Conflict) as early, writing(hall.engine) as s:
        tasks.approve(s, actor=hall.officer("township-civil"), task_id=f"{no}/township", now=NOW)
    assert early.value.key == "error.task.state"

    t1 = at(date(2026, 11, 4))
    assert approve(hall, hall.officer("village-committee"), f"{no}/village", t1) == ["township"]
    with reading(hall.engine) as s:
        assert states(s, no) == {"village": "approved", "township": "open", "county": "waiting"}
        tm = task_map(s, no)
        assert tm["township"].due_date == CAL.add_workdays(t1.date(), limits["township"]).date

    t2 = at(date(2026, 11, 16))
    assert approve(hall, hall.officer("township-civil"), f"{no}/township", t2) == ["county"]
    with reading(hall.engine) as s:
        assert states(s, no) == {"village": "approved", "township": "approved", "county": "open"}
        county = task_map(s, no)["county"]
        assert county.due_date == CAL.add_workdays(t2.date(), limits["county"]).date
        application = s.get(Application, no)
        assert application is not None and application.status == "in_progress"

    t3 = at(date(2026, 11, 20))
    county_officer = hall.officer("county-civil")
    assert approve(hall, county_officer, f"{no}/county", t3, permit="低保证〔2026〕0042") == []
    with reading(hall.engine) as s:
        assert set(states(s, no).values()) == {"approved"}
        application = s.get(Application, no)
        assert application is not None
        assert application.status == "completed"
        assert application.completed_at == t3
    flow = events_after(hall, SETUP_EVENTS)
    assert [(e.type, e.actor) for e in flow] == [
        ("application.accepted", "clerk"),
        ("task.approved", "o-village"),
        ("task.approved", "o-civil"),
        ("task.approved", "o-county"),
    ]
    assert flow[-1].key_id == county_officer.signer.key_id
    with reading(hall.engine) as s:
        report = verify_log(s)
        assert report.ok and report.checked == SETUP_EVENTS + 4
        assert rebuild.check(s) == []


def result_applicant_id(session: Session, tracking_no: str) -> str:
    """The applicant ID number stored on the application."""
    application = session.get(Application, tracking_no)
    assert application is not None
    return application.applicant_id
