"""Rows in memory (the rebuild's fold) behave as the session's rows do, and a rebuild by them
gives back exactly the projections kept live."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select
from sqlmodel import Session, col

from models import ApplicationMaterial, CaseEvent, Department, Task, TaskTally
from tests.conftest import NOW, Hall
from tests.factories import request_for
from workstation import rebuild
from workstation.db import alembic_config, reading, upgrade, writing
from workstation.rows import MemoryRows, SessionRows
from workstation.services import intake, tasks


def _rows_of(session: Session) -> MemoryRows:
    return MemoryRows(session)


def test_a_new_row_takes_the_models_defaults_each_its_own(sqlite_hall: Hall) -> None:
    with reading(sqlite_hall.engine) as session:
        rows = _rows_of(session)
        first = rows.add(Task, id="T1/a", tracking_no="T1", task_code="a", department_code="x",
                         state="open")  # fmt: skip
        second = rows.add(Task, id="T1/b", tracking_no="T1", task_code="b", department_code="x",
                          state="open")  # fmt: skip
        assert first.requested == [] and first.permit_no == "" and first.claimed_by is None
        first.requested.append("m")
        assert second.requested == []  # a default factory runs for every row
        assert rows.get(Task, "T1/a") is first
        assert [t.id for t in rows.tasks_of("T1")] == ["T1/a", "T1/b"]


def test_a_key_projected_twice_is_refused_as_a_live_insert_would_be(sqlite_hall: Hall) -> None:
    with reading(sqlite_hall.engine) as session:
        rows = _rows_of(session)
        rows.add(ApplicationMaterial, tracking_no="T1", material_code="m", status="owed")
        with pytest.raises(ValueError, match="already projected"):
            rows.add(ApplicationMaterial, tracking_no="T1", material_code="m", status="received")


def test_put_replaces_every_column_as_merge_does(sqlite_hall: Hall) -> None:
    values: dict[str, Any] = {"code": "d", "name_zh": "甲", "name_en": "A", "level": "township",
                              "office_code": "o"}  # fmt: skip
    with reading(sqlite_hall.engine) as session:
        rows = _rows_of(session)
        rows.put(Department, **values)
        rows.put(Department, **{**values, "name_en": "B"})
        department = rows.get(Department, "d")
        assert department is not None and department.name_en == "B"


def test_deleted_rows_are_gone_from_every_index(sqlite_hall: Hall) -> None:
    with reading(sqlite_hall.engine) as session:
        rows = _rows_of(session)
        task = rows.add(Task, id="T1/a", tracking_no="T1", task_code="a", department_code="x",
                        state="open")  # fmt: skip
        rows.delete(task)
        assert rows.get(Task, "T1/a") is None and rows.tasks_of("T1") == []


def test_case_events_come_in_their_agreed_order(sqlite_hall: Hall) -> None:
    with reading(sqlite_hall.engine) as session:
        rows = _rows_of(session)
        for key in ("2026-01-02", "2026-01-01", "2026-01-03"):
            rows.add(CaseEvent, tracking_no="T1", order_key=key, origin="o", seq=1)
            rows.placed("T1", key)
        assert [e.order_key for e in rows.case_events("T1")] == [
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
        ]
        assert rows.latest("T1") == "2026-01-03" and rows.latest("T2") is None


def test_rebuild_in_place_gives_back_the_live_projections(hall: Hall) -> None:
    """On both databases: an intake, claims, a supplement, approvals, a rejection."""
    with writing(hall.engine) as session:
        numbers = [
            intake.accept(
                session, actor=hall.clerk, request=request_for(matter), now=NOW
            ).tracking_no
            for matter in ("hotel-open", "hotel-open", "subsistence-allowance")
        ]
        open_tasks = list(
            session.scalars(
                select(Task).where(col(Task.tracking_no).in_(numbers), col(Task.state) == "open")
            )
        )
        for n, task in enumerate(open_tasks):
            if task.state != "open":
                continue  # closed by a rejection of its application
            officer = hall.officer(task.department_code)
            tasks.claim(session, actor=officer, task_id=task.id, now=NOW)
            if n % 3 == 0:
                tasks.approve(session, actor=officer, task_id=task.id, permit_no="P", now=NOW)
            elif n % 3 == 1:
                tasks.reject(session, actor=officer, task_id=task.id, reason="不符", now=NOW)
    with reading(hall.engine) as session:
        before = rebuild._snapshot(session)
        assert rebuild.check(session) == []
    with writing(hall.engine) as session:
        count = rebuild.rebuild_in_place(session)
    with reading(hall.engine) as session:
        assert rebuild._snapshot(session) == before
        assert count == session.scalar(rebuild.event_count())


def test_session_rows_and_memory_rows_offer_the_same_operations() -> None:
    def public(kind: type) -> set[str]:
        return {name for name in vars(kind) if not name.startswith("_")}

    assert public(SessionRows) <= public(MemoryRows)


def _tally(session: Session) -> dict[tuple[str, str], int]:
    return {(t.department_code, t.state): t.n for t in session.scalars(select(TaskTally))}


def _counted(session: Session) -> dict[tuple[str, str], int]:
    return dict(Counter((t.department_code, t.state) for t in session.scalars(select(Task))))


def test_the_tally_follows_every_move_and_an_older_database_starts_from_its_tasks(
    sqlite_hall: Hall,
) -> None:
    hall = sqlite_hall
    with writing(hall.engine) as session:
        number = intake.accept(
            session, actor=hall.clerk, request=request_for("hotel-open"), now=NOW
        ).tracking_no
        assert _tally(session) == _counted(session) != {}
        first = session.scalars(
            select(Task).where(col(Task.tracking_no) == number, col(Task.state) == "open")
        ).first()
        assert first is not None
        officer = hall.officer(first.department_code)
        tasks.claim(session, actor=officer, task_id=first.id, now=NOW)
        tasks.reject(session, actor=officer, task_id=first.id, reason="不符", now=NOW)
        assert _tally(session) == _counted(session)
        assert 0 not in _tally(session).values()  # a state emptied is no row, as rebuilt
        expected = _counted(session)
    command.downgrade(alembic_config(hall.engine), "0012")  # as before the tally existed
    upgrade(hall.engine)
    with reading(hall.engine) as session:
        assert _tally(session) == expected
