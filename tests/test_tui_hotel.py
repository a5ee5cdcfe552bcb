"""Acceptance: the whole hotel example through the screens, keyboard only, one app per person.

The clerk accepts at the window; market regulation, health and fire safety approve from their
queues; police opens only after fire safety, quality and tax only after the licence; they
approve; the clerk delivers and records the rating. The database ends as the services test of
the core issue says, and the signed log verifies.
"""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from models import Application, Task
from screens.app import WorkstationApp
from screens.case import CaseScreen
from screens.dialogs.decision import DecisionDialog
from screens.intake import IntakeScreen, ReceiptScreen
from screens.queue import QueueScreen
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import CATALOG, form_for, org_code
from workstation import rebuild
from workstation.app import build_app
from workstation.db import reading
from workstation.settings import load_settings
from workstation.verify import verify_log

HOTEL = CATALOG.matter("hotel-open")
assert HOTEL is not None
PERMITS = {
    "licence": "YYZZ-2026-001",
    "health": "WSXK-2026-002",
    "fire": "XFAQ-2026-003",
    "police": "TZHY-2026-004",
}


def _app(hall: Hall, documents: Path) -> WorkstationApp:
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", documents_dir=documents)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def _settle(app: WorkstationApp, pilot: Pilot[None]) -> None:
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _login(app: WorkstationApp, pilot: Pilot[None], username: str) -> None:
    await pilot.press(*username, "enter", *PASSWORD, "enter")
    await _settle(app, pilot)


def _tasks(hall: Hall, number: str) -> dict[str, Task]:
    with reading(hall.engine) as session:
        return {
            t.task_code: t for t in session.scalars(select(Task).where(Task.tracking_no == number))
        }


async def _accept_at_the_window(hall: Hall, documents: Path) -> str:
    app = _app(hall, documents)
    async with app.run_test(size=(120, 40)) as pilot:
        await _login(app, pilot, "clerk")
        screen = app.screen
        assert isinstance(screen, IntakeScreen)
        await pilot.press(*org_code(random.Random(11)))
        await _settle(app, pilot)
        await pilot.press(
            "enter", *"西安好客旅馆有限公司", "enter", *"02988886666", "enter", "enter"
        )
        await pilot.press(*"kblg", "enter")
        await _settle(app, pilot)
        for material in HOTEL.materials:
            if material.required and material.code != "floor-plan":
                screen.query_one(f"#mat-{material.code}", Checkbox).focus()
                await pilot.press("space")
        screen.query_one("#promise-floor-plan", Input).focus()
        await pilot.press(*"2026-11-20")
        for field, value in form_for(HOTEL).items():
            widget = screen.query_one(f"#field-{field}")
            widget.focus()
            if isinstance(widget, Select):
                await pilot.press("enter", "down", "enter")
            else:
                await pilot.press(*value)
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        return app.screen.issued.document.tracking_no


async def _approve_in_queue(
    hall: Hall, documents: Path, username: str, number: str, task: str
) -> None:
    app = _app(hall, documents)
    async with app.run_test(size=(120, 40)) as pilot:
        await _login(app, pilot, username)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        row = queue.table.get_row_index(f"{number}/{task}")
        queue.table.move_cursor(row=row)
        await pilot.press("enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, DecisionDialog)
        await pilot.press("f6")  # claim
        await _settle(app, pilot)
        await pilot.press(*PERMITS.get(task, ""), "f7")  # approve
        await _settle(app, pilot)
        assert app.screen is queue


async def test_the_hotel_example_through_the_screens(sqlite_hall: Hall, tmp_path: Path) -> None:
    number = await _accept_at_the_window(sqlite_hall, tmp_path)
    tasks = _tasks(sqlite_hall, number)
    assert {c for c, t in tasks.items() if t.state == "open"} == {"licence", "health", "fire"}

    await _approve_in_queue(sqlite_hall, tmp_path, "o-market", number, "licence")
    tasks = _tasks(sqlite_hall, number)
    assert (tasks["quality"].state, tasks["tax"].state, tasks["police"].state) == (
        "open",
        "open",
        "waiting",
    )
    await _approve_in_queue(sqlite_hall, tmp_path, "o-health", number, "health")
    await _approve_in_queue(sqlite_hall, tmp_path, "o-fire", number, "fire")
    assert _tasks(sqlite_hall, number)["police"].state == "open"
    for username, task in (("o-police", "police"), ("o-quality", "quality"), ("o-tax", "tax")):
        await _approve_in_queue(sqlite_hall, tmp_path, username, number, task)

    app = _app(sqlite_hall, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _login(app, pilot, "clerk")
        await pilot.press("f4")
        await _settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press(*number, "enter")
        await _settle(app, pilot)
        await pilot.press("f7")  # the 容缺 floor plan arrived
        await _settle(app, pilot)
        await pilot.press("f8")  # deliver
        await _settle(app, pilot)
        await pilot.press("f9", "5", "enter", *"很方便", "enter")  # rating
        await _settle(app, pilot)

    tasks = _tasks(sqlite_hall, number)
    assert {t.state for t in tasks.values()} == {"approved"}
    assert {c: tasks[c].permit_no for c in PERMITS} == PERMITS
    assert tasks["police"].decided_by == "o-police" and tasks["licence"].decided_by == "o-market"
    with reading(sqlite_hall.engine) as session:
        application = session.get(Application, number)
        assert application is not None
        assert (application.status, application.rating) == ("delivered", 5)
        assert verify_log(session).ok
        assert rebuild.check(session) == []
