"""督查 in the TUI: figures per department, throughput, overdue cases, reassign, release."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from models import Task
from screens.app import WorkstationApp
from screens.dashboard import DashboardScreen
from screens.dialogs.officer_picker import OfficerPicker
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from workstation.app import build_app
from workstation.db import reading, writing
from workstation.i18n import translate
from workstation.services import intake, office, tasks
from workstation.settings import load_settings

DAY = timedelta(days=1)


def accept(hall: Hall, seed: int, when: datetime) -> str:
    """Accept a hotel-open application at ``when``; its tracking number."""
    with writing(hall.engine) as s:
        request = request_for("hotel-open", rng=random.Random(seed))
        return intake.accept(s, actor=hall.clerk, request=request, now=when).tracking_no


def approve(hall: Hall, department: str, task_id: str, when: datetime) -> None:
    """The department's officer approves ``task_id`` at ``when``."""
    with writing(hall.engine) as s:
        tasks.approve(s, actor=hall.officer(department), task_id=task_id, permit_no="P-1", now=when)


def prepare(hall: Hall) -> dict[str, str]:
    """A mix of cases; returns their tracking numbers by name.

    old:   accepted 45 days ago, licence approved 40 days ago (outside the 30-day window);
           the application itself is past its promised date.
    late:  accepted 20 days ago, nothing decided: licence and fire are overdue.
    busy:  accepted 20 days ago; licence, fire and tax approved within the window.
    fresh: accepted today.
    """
    old = accept(hall, 9, NOW - 45 * DAY)
    approve(hall, "market", f"{old}/licence", NOW - 40 * DAY)
    late = accept(hall, 7, NOW - 20 * DAY)
    busy = accept(hall, 8, NOW - 20 * DAY)
    approve(hall, "market", f"{busy}/licence", NOW - 19 * DAY)
    approve(hall, "fire", f"{busy}/fire", NOW - 10 * DAY)
    approve(hall, "tax", f"{busy}/tax", NOW - 2 * DAY)
    fresh = accept(hall, 10, NOW)
    return {"old": old, "late": late, "busy": busy, "fresh": fresh}


DECISIONS_IN_WINDOW = 3
"""busy's licence, fire and tax; old's licence was decided 40 days ago."""


def all_tasks(hall: Hall) -> list[Task]:
    with reading(hall.engine) as s:
        return list(s.scalars(select(Task)))


def expected(hall: Hall, department: str) -> tuple[int, int]:
    """(backlog, overdue) of ``department`` counted from the task rows themselves."""
    rows = [t for t in all_tasks(hall) if t.department_code == department]
    backlog = sum(t.state in ("open", "supplement") for t in rows)
    overdue = sum(
        t.state == "open" and t.due_date is not None and t.due_date < NOW.date() for t in rows
    )
    return backlog, overdue


def add_fire_officer(hall: Hall) -> None:
    with writing(hall.engine) as s:
        office.add_operator(
            s, actor=hall.admin, key_dir=hall.key_dir, username="o-fire2", name="第二消防审批员",
            role="officer", departments=["fire"], password=PASSWORD, now=NOW,
        )  # fmt: skip


def make_app(hall: Hall) -> WorkstationApp:
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", cursor_blink=False)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for workers and for the messages they post (and the workers those start)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def log_in(pilot: Pilot[None], username: str) -> None:
    await pilot.press(*username, "enter", *PASSWORD, "enter")
    await settle(pilot)


def cell(table: DataTable[object], row: str, column: int) -> str:
    return str(table.get_row(row)[column])


def dashboard(pilot: Pilot[None]) -> DashboardScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


async def test_supervisor_sees_backlog_overdue_throughput_and_overdue_cases(
    sqlite_hall: Hall,
) -> None:
    hall = sqlite_hall
    cases = prepare(hall)
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "super")
        screen = dashboard(pilot)
        table = screen.departments_table
        for department in ("fire", "market"):
            backlog, overdue = expected(hall, department)
            assert (cell(table, department, 1), cell(table, department, 2)) == (
                str(backlog),
                str(overdue),
            ), department
        # The independent counts themselves, so the test cannot pass on two empty tables:
        assert expected(hall, "fire") == (3, 2)  # old/fire, late/fire overdue; fresh/fire not
        assert expected(hall, "market") == (2, 1)  # late/licence overdue; fresh/licence not
        label = str(screen.throughput_label.content)
        assert f"共办结 {DECISIONS_IN_WINDOW} 件" in label
        assert screen.figures is not None
        assert sum(n for _, n in screen.figures.overview.throughput) == DECISIONS_IN_WINDOW
        overdue = screen.overdue_table
        assert overdue.row_count == 1
        assert cell(overdue, cases["old"], 0) == cases["old"]

        # A decision taken elsewhere shows after the refresh key; the cursor stays on its task.
        oldest, watched = screen.oldest_table, f"{cases['late']}/health"
        before = oldest.get_row_index(watched)
        oldest.move_cursor(row=before)
        approve(hall, "fire", f"{cases['late']}/fire", NOW - timedelta(hours=1))
        assert cell(table, "fire", 2) == "2"
        await pilot.press("r")
        await settle(pilot)
        assert oldest.get_row_index(watched) == before - 1  # late/fire, above it, is gone
        assert oldest.coordinate_to_cell_key(oldest.cursor_coordinate).row_key.value == watched
        assert (cell(table, "fire", 1), cell(table, "fire", 2)) == ("2", "1")
        assert f"共办结 {DECISIONS_IN_WINDOW + 1} 件" in str(screen.throughput_label.content)


async def test_supervisor_reassigns_an_open_fire_task_and_releases_it(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    cases = prepare(hall)
    add_fire_officer(hall)
    task_id = f"{cases['old']}/fire"
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, "super")
        screen = dashboard(pilot)
        oldest = screen.oldest_table
        oldest.focus()
        oldest.move_cursor(row=oldest.get_row_index(task_id))
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, OfficerPicker)
        options = picker.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == ["o-fire", "o-fire2"]
        await pilot.press(*["down"] * ids.index("o-fire2"), "enter")
        await settle(pilot)
        assert app.screen is screen
        task = next(t for t in all_tasks(hall) if t.id == task_id)
        assert task.claimed_by == "o-fire2"
        assert cell(oldest, task_id, 5) == "o-fire2"
        assert "o-fire2" in str(screen.message.content)

        # The refresh after the hand-over keeps the cursor on the same task.
        assert oldest.coordinate_to_cell_key(oldest.cursor_coordinate).row_key.value == task_id
        await pilot.press("u")
        await settle(pilot)
        task = next(t for t in all_tasks(hall) if t.id == task_id)
        assert task.claimed_by is None
        assert cell(oldest, task_id, 5) == "—"

        # Releasing again is refused in the operator's language and changes nothing.
        await pilot.press("u")
        await settle(pilot)
        assert str(screen.message.content) == translate("error.task.not_claimed", "zh_CN")


async def test_escape_in_the_picker_hands_nothing_over(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    cases = prepare(hall)
    task_id = f"{cases['late']}/fire"
    app = make_app(hall)
    async with app.run_test(size=(80, 24)) as pilot:
        await log_in(pilot, "super")
        screen = dashboard(pilot)
        oldest = screen.oldest_table
        # With the cursor elsewhere, the key only points at the list: no task is picked blindly.
        await pilot.press("a")
        await pilot.pause()
        assert app.screen is screen and oldest.has_focus
        assert str(screen.message.content) == translate("ui.dashboard.no_task", "zh_CN")
        await pilot.press(*["down"] * oldest.get_row_index(task_id))
        await pilot.press("a")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, OfficerPicker)
        assert picker.task_id == task_id
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert next(t for t in all_tasks(hall) if t.id == task_id).claimed_by is None


@pytest.mark.parametrize(("username", "role"), [("audit", "审计员"), ("admin", "管理员")])
async def test_auditor_and_admin_see_a_notice_not_figures(
    sqlite_hall: Hall, username: str, role: str
) -> None:
    hall = sqlite_hall
    prepare(hall)
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await log_in(pilot, username)
        screen = dashboard(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert screen.denied and screen.figures is None
        notice = screen.query_one("#dash-notice", Static)
        assert notice.display and role in str(notice.content)
        assert not screen.query_one("#dash-figures").display
        assert screen.departments_table.row_count == 0
        # The dashboard's own keys leave the footer once refused.
        assert not screen.check_action("refresh", ())


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_snapshot(
    snap_compare: Callable[..., bool], sqlite_hall: Hall, size: tuple[int, int]
) -> None:
    prepare(sqlite_hall)

    async def as_supervisor(pilot: Pilot[None]) -> None:
        await log_in(pilot, "super")

    assert snap_compare(make_app(sqlite_hall), terminal_size=size, run_before=as_supervisor)


def test_dashboard_refused_snapshot(snap_compare: Callable[..., bool], sqlite_hall: Hall) -> None:
    async def as_auditor(pilot: Pilot[None]) -> None:
        await log_in(pilot, "audit")

    assert snap_compare(make_app(sqlite_hall), terminal_size=(80, 24), run_before=as_auditor)
