"""A cross-level task through the screens: the county officer decides it on the hub's database.

A township accepts 最低生活保障 and its own officers approve their steps; the county task
goes up with the push, appears in the county civil-affairs officer's queue in the workstation
running on the county hub's database, is approved there with its certificate number, and the
decision comes down and completes the case at the township.
"""

from __future__ import annotations

import random
from pathlib import Path

from textual.pilot import Pilot

from models import Application, Task
from screens.app import WorkstationApp
from screens.dialogs.decision import DecisionDialog
from screens.queue import QueueScreen
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from tests.levels import link, open_county
from tests.test_sync_pull import county_officer, pull_all, push_all
from workstation import officekey
from workstation.app import build_app
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import cases, intake, outbox, tasks
from workstation.settings import load_settings


async def settle(app: WorkstationApp, pilot: Pilot[None]) -> None:
    """Let the screen's workers finish and the screen repaint."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


def accepted_and_reviewed(hall: Hall) -> str:
    """A 最低生活保障 case whose village and township steps are approved; its number."""
    with writing(hall.engine) as session:
        request = request_for("subsistence-allowance", rng=random.Random(5))
        number = intake.accept(session, actor=hall.clerk, request=request, now=NOW).tracking_no
    for code, department in (("village", "village-committee"), ("township", "township-civil")):
        with writing(hall.engine) as session:
            tasks.approve(
                session, actor=hall.officer(department), task_id=f"{number}/{code}", now=NOW
            )
    return number


async def test_the_county_officer_decides_a_township_case_in_the_county_queue(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    county = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    upgrade(county)
    keys = tmp_path / "county-keys"
    admin = open_county(county, keys)
    link(county, admin, keys, sqlite_hall)
    county_officer(county, admin, keys, "county-civil")
    number = accepted_and_reviewed(sqlite_hall)
    county_key = officekey.load(keys, admin.office_code)
    push_all(sqlite_hall, county, county_key)

    settings = load_settings(key_dir=keys, language="zh_CN")
    app = build_app(settings, engine=county, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"c-county-civil", "enter", *PASSWORD, "enter")
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        queue.table.move_cursor(row=queue.table.get_row_index(f"{number}/county"))
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, DecisionDialog)
        await pilot.press("f6")  # claim
        await settle(app, pilot)
        await pilot.press(*"DB-2026-001", "f7")  # approve with the certificate number
        await settle(app, pilot)
        assert app.screen is queue

    pull_all(sqlite_hall, county, county_key)
    with reading(sqlite_hall.engine) as session:
        task = session.get(Task, f"{number}/county")
        application = session.get(Application, number)
        assert task is not None and application is not None
        assert (task.state, task.permit_no, task.decided_by) == (
            "approved",
            "DB-2026-001",
            "c-county-civil",
        )
        assert application.status == "completed"
        timeline = cases.case_view(session, actor=sqlite_hall.clerk, tracking_no=number).events
        marks = outbox.sync_marks(session, timeline)
        made_above = [e.type for e in timeline if marks[e.id or 0] == "from_above"]
        assert made_above == ["task.claimed", "task.approved"]
