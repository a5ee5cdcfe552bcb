"""The header: office, operator, role, and how many of the office's events wait to go up."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from models import ChainHead, SyncCursor
from screens.app import WorkstationApp
from screens.widgets.status import StatusBar
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from workstation.app import build_app
from workstation.db import reading, writing
from workstation.services import intake
from workstation.services.office import local_office
from workstation.services.outbox import UPSTREAM
from workstation.settings import load_settings


def head_seq(hall: Hall) -> int:
    """The newest sequence number of the hall's own events."""
    with reading(hall.engine) as session:
        head = session.get(ChainHead, local_office(session).code)
        assert head is not None
        return head.seq


def make_app(hall: Hall, upstream: str = "") -> WorkstationApp:
    """The workstation in Chinese at NOW, with or without a level above."""
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", upstream_url=upstream)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def login_clerk(app: WorkstationApp, pilot: Pilot[None]) -> StatusBar:
    """Log in as the clerk; the header of the screen that opens."""
    await pilot.press(*"clerk", "enter", *PASSWORD, "enter")
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()
    return app.screen.query_one(StatusBar)


async def test_without_an_upstream_the_header_counts_every_event_as_not_reported(
    sqlite_hall: Hall,
) -> None:
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = await login_clerk(app, pilot)
        assert bar.connection == f"未设上级 · 待上报 {head_seq(sqlite_hall)}"
        assert "综合窗口受理员" in bar.operator and "610102001" in bar.office


@pytest.mark.parametrize("pushed", [0, 3])
async def test_with_an_upstream_the_header_counts_what_the_push_cursor_has_not_passed(
    sqlite_hall: Hall, pushed: int
) -> None:
    if pushed:
        with writing(sqlite_hall.engine) as session:
            origin = local_office(session).code
            session.add(SyncCursor(peer=UPSTREAM, origin=origin, direction="push", seq=pushed))
    app = make_app(sqlite_hall, upstream="http://127.0.0.1:9")
    async with app.run_test(size=(120, 40)) as pilot:
        bar = await login_clerk(app, pilot)
        before = head_seq(sqlite_hall)
        assert bar.connection == f"离线 · 待同步 {before - pushed}"
        # One more application: the header says so when the screen is shown again.
        with writing(sqlite_hall.engine) as session:
            intake.accept(
                session, actor=sqlite_hall.clerk, request=request_for("hotel-open"), now=NOW
            )
        app.screen.on_screen_resume()
        await pilot.pause()
        assert bar.connection == f"离线 · 待同步 {head_seq(sqlite_hall) - pushed}"
        assert head_seq(sqlite_hall) > before
