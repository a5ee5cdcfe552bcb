"""The header: office, operator, role, and how many of the office's events wait to go up."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from textual.pilot import Pilot

from models import ChainHead, SyncCursor
from screens import syncer
from screens.app import WorkstationApp
from screens.widgets.status import StatusBar
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from tests.levels import events, free_port, link, open_county, running_hub, township_card
from workstation.app import build_app
from workstation.db import make_engine, reading, upgrade, writing
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


def make_app(hall: Hall, upstream: str = "", *, real_clock: bool = False) -> WorkstationApp:
    """The workstation in Chinese at NOW (or now: a hub checks times), maybe with an upstream."""
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", upstream_url=upstream)
    clock = (lambda: datetime.now().astimezone()) if real_clock else (lambda: NOW)
    return build_app(settings, engine=hall.engine, clock=clock)


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


async def wait_for_sync(app: WorkstationApp, pilot: Pilot[None], bar: StatusBar) -> None:
    """Until the first background round has ended (the header no longer says "connecting")."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if app.syncer.state.online is not None:
            app.screen.on_screen_resume()
            await pilot.pause()
            return
    raise AssertionError(f"no sync round ended: {bar.connection}")


@pytest.mark.parametrize("pushed", [0, 3])
async def test_with_the_upstream_down_the_header_says_offline_and_counts_what_waits(
    sqlite_hall: Hall, pushed: int
) -> None:
    if pushed:
        with writing(sqlite_hall.engine) as session:
            origin = local_office(session).code
            session.add(SyncCursor(peer=UPSTREAM, origin=origin, direction="push", seq=pushed))
    township_card(sqlite_hall)
    app = make_app(sqlite_hall, upstream=f"http://127.0.0.1:{free_port()}")
    async with app.run_test(size=(120, 40)) as pilot:
        bar = await login_clerk(app, pilot)
        await wait_for_sync(app, pilot, bar)
        before = head_seq(sqlite_hall)
        assert bar.connection == f"离线 · 待同步 {before - pushed} · 上次 从未同步"
        assert "连不上上级" in str(bar.tooltip)
        # Work goes on offline; the header counts it when the screen is shown again.
        with writing(sqlite_hall.engine) as session:
            intake.accept(
                session, actor=sqlite_hall.clerk, request=request_for("hotel-open"), now=NOW
            )
        app.screen.on_screen_resume()
        await pilot.pause()
        assert bar.connection.startswith(f"离线 · 待同步 {head_seq(sqlite_hall) - pushed} ")
        assert head_seq(sqlite_hall) > before


async def test_with_the_hub_up_the_worker_pushes_and_the_header_says_online(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    county = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    upgrade(county)
    keys = tmp_path / "county-keys"
    admin = open_county(county, keys)
    link(county, admin, keys, sqlite_hall)
    with running_hub(county, keys) as url:
        app = make_app(sqlite_hall, upstream=url, real_clock=True)
        async with app.run_test(size=(120, 40)) as pilot:
            bar = await login_clerk(app, pilot)
            await wait_for_sync(app, pilot, bar)
            assert app.syncer.state.online, app.syncer.state.last_error
            last = app.syncer.state.last_sync
            assert last is not None
            assert bar.connection == f"在线 · 待同步 0 · 上次 {last:%H:%M}"
            assert bar.tooltip is None


async def test_when_the_hub_comes_back_the_worker_catches_up_without_a_key_press(
    sqlite_hall: Hall, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syncer, "FIRST_RETRY", 0.5)
    county = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    upgrade(county)
    keys = tmp_path / "county-keys"
    admin = open_county(county, keys)
    link(county, admin, keys, sqlite_hall)
    port = free_port()
    app = make_app(sqlite_hall, upstream=f"http://127.0.0.1:{port}", real_clock=True)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = await login_clerk(app, pilot)
        await wait_for_sync(app, pilot, bar)
        assert bar.connection.startswith("离线 · 待同步 ")
        waiting = head_seq(sqlite_hall)
        with running_hub(county, keys, port=port):
            for _ in range(200):  # the retries back off: 0.5 s, 1 s, 2 s …
                await pilot.pause(0.1)
                if app.syncer.state.online:
                    break
            app.screen.on_screen_resume()
            await pilot.pause()
        assert app.syncer.state.online, app.syncer.state.last_error
        assert bar.connection.startswith("在线 · 待同步 0 · 上次 ")
    assert events(county) >= waiting
