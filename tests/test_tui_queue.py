"""部门队列 through the keyboard: lights, claiming, deciding, refusals and paging."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input, SelectionList, Static

from models import Task
from screens.app import WorkstationApp
from screens.dialogs.decision import DecisionDialog
from screens.queue import QueueScreen
from screens.widgets.task_table import TaskTable
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from workstation.app import build_app
from workstation.db import reading, writing
from workstation.errors import PermissionDenied
from workstation.identity import mask_id
from workstation.services import applicants, audit, intake
from workstation.settings import load_settings
from workstation.workbench import Workbench


def accept(hall: Hall, matter: str, count: int = 1) -> list[str]:
    """Accept ``count`` applications for ``matter`` at the window; their tracking numbers."""
    with writing(hall.engine) as session:
        return [
            intake.accept(
                session, actor=hall.clerk, request=request_for(matter), now=NOW
            ).tracking_no
            for _ in range(count)
        ]


def tasks_of(hall: Hall, tracking_no: str) -> dict[str, Task]:
    """The application's tasks by task code, as the database has them."""
    with reading(hall.engine) as session:
        rows = session.scalars(select(Task).where(Task.tracking_no == tracking_no))
        return {t.task_code: t for t in rows}


def make_app(hall: Hall) -> WorkstationApp:
    """The workstation on the hall's database, in Chinese, at NOW."""
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN")
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def settle(app: WorkstationApp, pilot: object) -> None:
    """Wait for the workers and let the screen catch up."""
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def log_in(app: WorkstationApp, pilot: object, username: str) -> QueueScreen:
    """Log in as ``username`` and return the queue screen the officer lands on."""
    await pilot.press(*username, "enter", *PASSWORD, "enter")  # type: ignore[attr-defined]
    await settle(app, pilot)
    assert isinstance(app.screen, QueueScreen)
    return app.screen


def text_of(screen: object, selector: str) -> str:
    """The plain text a Static shows."""
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def row_cells(table: TaskTable, row: int) -> list[str]:
    """The cells of a row as plain text."""
    return [str(cell) for cell in table.get_row_at(row)]


async def test_fire_officer_claims_and_approves_with_permit(sqlite_hall: Hall) -> None:
    """o-fire sees the task with its light, opens it, claims, approves; the police task opens."""
    (number,) = accept(sqlite_hall, "hotel-open")
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await log_in(app, pilot, "o-fire")
        assert queue.department == "fire"
        assert queue.table.row_count == 1
        cells = row_cells(queue.table, 0)
        assert cells[2] == number
        assert "正常" in cells[0] and "●" in cells[0]
        assert "第 1–1 项，共 1 项" in text_of(queue, "#queue-range")

        await pilot.press("enter")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionDialog)
        person = app.bench.case(number).applicant
        id_number = applicants.open_numbers(person, applicants.data_key(app.bench.me)).id_number
        assert mask_id(id_number) in text_of(dialog, "#decision-applicant")
        assert id_number not in text_of(dialog, "#decision-applicant")
        await pilot.press("ctrl+r")  # the full number takes a reason, and is audited
        await pilot.pause()
        await pilot.press(*"核对许可申请人", "enter")
        await settle(app, pilot)
        assert app.screen is dialog and id_number in text_of(dialog, "#decision-applicant")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert id_number not in text_of(dialog, "#decision-applicant")
        with reading(sqlite_hall.engine) as session:
            looks = audit.entries(session, actor=sqlite_hall.auditor)
        assert [(e.actor, e.action, e.subject) for e in looks[:1]] == [
            ("o-fire", "reveal", mask_id(id_number))
        ]

        await pilot.press("f6")
        await settle(app, pilot)
        assert tasks_of(sqlite_hall, number)["fire"].claimed_by == "o-fire"
        assert "已认领" in text_of(dialog, "#decision-status")

        await pilot.press(*"XF-2026-001", "f7")
        await settle(app, pilot)
        assert app.screen is queue
        message = text_of(queue, "#queue-message")
        assert "已通过任务" in message and "特种行业许可" in message
        assert queue.table.row_count == 0

    rows = tasks_of(sqlite_hall, number)
    assert rows["fire"].state == "approved"
    assert rows["fire"].decided_by == "o-fire"
    assert rows["fire"].permit_no == "XF-2026-001"
    assert rows["police"].state == "open"


async def test_market_officer_approves_the_licence(sqlite_hall: Hall) -> None:
    """o-market approves the business licence; quality and tax open behind it."""
    (number,) = accept(sqlite_hall, "hotel-open")
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await log_in(app, pilot, "o-market")
        assert queue.department == "market"
        await pilot.press("c")  # claim from the table
        await settle(app, pilot)
        assert "已认领任务" in text_of(queue, "#queue-message")
        assert row_cells(queue.table, 0)[4] == "o-market"

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DecisionDialog)
        await pilot.press("f7")  # no permit number yet: refused beside the permit field
        await settle(app, pilot)
        assert "营业执照" in text_of(app.screen, "#decision-permit-error")
        assert tasks_of(sqlite_hall, number)["licence"].state == "open"

        await pilot.press(*"91610102MA6", "f7")
        await settle(app, pilot)
        assert app.screen is queue
        assert "随之开启" in text_of(queue, "#queue-message")

    rows = tasks_of(sqlite_hall, number)
    assert rows["licence"].state == "approved"
    assert rows["licence"].decided_by == "o-market"
    assert rows["quality"].state == "open"
    assert rows["tax"].state == "open"


async def test_refusals_change_nothing(sqlite_hall: Hall) -> None:
    """Another department's task is refused in the UI and below it; an empty reason is refused."""
    (number,) = accept(sqlite_hall, "hotel-open")
    market_task = f"{number}/licence"

    bench = Workbench(load_settings(key_dir=sqlite_hall.key_dir), sqlite_hall.engine, lambda: NOW)
    bench.login("o-fire", PASSWORD)
    with pytest.raises(PermissionDenied):
        bench.approve(market_task, "X-1")
    with pytest.raises(PermissionDenied):
        bench.claim(market_task)

    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await log_in(app, pilot, "o-fire")

        # The market queue is not o-fire's: the screen says so and shows nothing.
        queue.show_department("market")
        await settle(app, pilot)
        assert queue.table.row_count == 0
        assert "market" in text_of(queue, "#queue-message")
        assert queue.query_one("#queue-message").has_class("-error")

        # Even with the market task in front of it, the dialog's actions are refused.
        case = app.bench.case(number)
        licence = next(t for t in case.tasks if t.task_code == "licence")
        matter = app.bench.matter("hotel-open")
        dialog = DecisionDialog(
            licence, case, matter, light="green", departments={}, explain=queue.explain
        )
        await app.push_screen(dialog)
        await pilot.press(*"X-1", "f7")
        await settle(app, pilot)
        assert "market" in text_of(dialog, "#decision-form-error")
        await pilot.press("escape")
        await settle(app, pilot)

        # Back in o-fire's own queue: a reject with no reason is refused beside the reason.
        queue.show_department("fire")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionDialog)
        await pilot.press("f8")
        await settle(app, pilot)
        assert "理由" in text_of(dialog, "#decision-reason-error")
        assert dialog.focused is dialog.query_one("#decision-reason", Input)

        # A supplement request names materials and a reason; without materials it is refused.
        await pilot.press(*"缺少", "f9")
        await settle(app, pilot)
        assert text_of(dialog, "#decision-materials-error")
        dialog.query_one("#decision-materials", SelectionList).select("fire-commitment")
        await pilot.press("f9")
        await settle(app, pilot)
        assert app.screen is queue
        assert queue.query_one("#queue-message").has_class("-error") is False
        # The 补正告知书 for the applicant is filed at once, with the deadline.
        await settle(app, pilot)
        notice = app.bench.settings.documents_dir / f"supplement-{number}-zh_CN.txt"
        assert "补正期限" in notice.read_text(encoding="utf-8")
        assert str(notice) in text_of(queue, "#queue-message")

    rows = tasks_of(sqlite_hall, number)
    assert rows["licence"].state == "open" and rows["licence"].claimed_by is None
    assert rows["fire"].state == "supplement"
    assert rows["fire"].requested == ["fire-commitment"]


async def test_paging_reads_one_page_at_a_time(sqlite_hall: Hall) -> None:
    """120 open tasks: 50 rows and "of 120"; PageDown shows the next 50, then the last 20."""
    accept(sqlite_hall, "medical-insurance", 120)
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"super", "enter", *PASSWORD, "enter")
        await settle(app, pilot)
        await pilot.press("f3")
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        while queue.department != "medical-insurance":
            await pilot.press("d")
            await settle(app, pilot)
        assert queue.table.row_count == 50
        assert "第 1–50 项，共 120 项" in text_of(queue, "#queue-range")
        first_page = set(queue.rows)

        await pilot.press("pagedown")
        await settle(app, pilot)
        assert queue.table.row_count == 50
        assert "第 51–100 项，共 120 项" in text_of(queue, "#queue-range")
        assert not first_page & set(queue.rows)

        await pilot.press("n")
        await settle(app, pilot)
        assert queue.table.row_count == 20
        await pilot.press("pagedown")  # there is no fourth page
        await settle(app, pilot)
        assert queue.first_row == 100

        await pilot.press("pageup", "pageup")
        await settle(app, pilot)
        assert queue.first_row == 0 and set(queue.rows) == first_page

        await pilot.press("slash", *queue.table.get_row_at(0)[2], "enter")
        await settle(app, pilot)
        assert queue.table.row_count == 1
        assert "共 1 项" in text_of(queue, "#queue-range")


SIZES = [(80, 24), (120, 40)]


def snapshot_app(hall: Hall, language: str = "zh_CN") -> WorkstationApp:
    """Eight hotel applications accepted on successive days, so every light shows."""
    with writing(hall.engine) as session:
        for day in range(8):
            request = request_for("hotel-open", rng=random.Random(day))
            when = NOW - timedelta(days=3 * day)
            intake.accept(session, actor=hall.clerk, request=request, now=when)
    settings = load_settings(key_dir=hall.key_dir, language=language, cursor_blink=False)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def fire_officer(pilot: Any) -> None:
    """Log in as o-fire and wait for the first page."""
    await pilot.press(*"o-fire", "enter", *PASSWORD, "enter")
    await settle(pilot.app, pilot)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_queue_snapshot(
    snap_compare: Callable[..., bool], sqlite_hall: Hall, size: tuple[int, int]
) -> None:
    """The fire queue with red, yellow and green lights."""
    app = snapshot_app(sqlite_hall)
    assert snap_compare(app, terminal_size=size, run_before=fire_officer)


def test_queue_english_snapshot(snap_compare: Callable[..., bool], sqlite_hall: Hall) -> None:
    """The same fire queue in English at 120×40: labels, lights and states fit their columns."""
    app = snapshot_app(sqlite_hall, language="en")
    assert snap_compare(app, terminal_size=(120, 40), run_before=fire_officer)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_decision_snapshot(
    snap_compare: Callable[..., bool], sqlite_hall: Hall, size: tuple[int, int]
) -> None:
    """An overdue task opened, and a reject without a reason refused beside the reason."""

    async def refused_reject(pilot: Any) -> None:
        await fire_officer(pilot)
        await pilot.press("down", "enter")
        await settle(pilot.app, pilot)
        await pilot.press("f8")
        await settle(pilot.app, pilot)

    app = snapshot_app(sqlite_hall)
    assert snap_compare(app, terminal_size=size, run_before=refused_reject)


async def test_task_names_fit_the_width(sqlite_hall: Hall) -> None:
    """Long task names end in an ellipsis; the table never scrolls sideways, resized or not."""
    app = snapshot_app(sqlite_hall, language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        queue = await log_in(app, pilot, "o-fire")
        for size in ((120, 40), (80, 24), (100, 30)):
            await pilot.resize_terminal(*size)
            await settle(app, pilot)
            line = queue.table.render_line(1)
            name = line.text.rstrip().rsplit("  ", 1)[-1]
            assert name.startswith("Fire-sa") and name.endswith("…"), line.text
            assert line.cell_length <= queue.table.content_region.width
