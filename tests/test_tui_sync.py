"""The sync screen: what waits, a bundle written for the USB stick, its receipt taken back."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, Static

from screens.app import WorkstationApp
from screens.sync import SyncScreen
from sync import bundle
from tests.conftest import Hall
from tests.levels import events, link, open_county
from tests.test_tui_status import login_clerk, make_app
from workstation.db import make_engine, upgrade


def text(app: WorkstationApp, selector: str) -> str:
    """What a Static of the current screen shows."""
    return str(app.screen.query_one(selector, Static).render())


async def answer(app: WorkstationApp, pilot: Pilot[None], key: str, path: Path) -> str:
    """Press ``key``, give ``path`` to the dialog, wait for the work; the outcome line."""
    await pilot.press(key)
    await pilot.pause()
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    return text(app, "#sync-message")


async def test_a_bundle_leaves_as_sent_and_comes_back_receipted(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    county = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    upgrade(county)
    keys = tmp_path / "county-keys"
    link(county, open_county(county, keys), keys, sqlite_hall)
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await login_clerk(app, pilot)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, SyncScreen)
        assert "碑林区政务服务中心（610102）" in text(app, "#sync-state")
        assert "U 盘" in text(app, "#sync-state")
        waiting = int(text(app, "#sync-figures").split("待上报 ")[1].split(" ")[0])
        assert waiting > 0 and "已发送待回执 0 条" in text(app, "#sync-figures")

        stick = tmp_path / "stick" / "up.bundle"
        said = await answer(app, pilot, "e", stick)
        assert stick.exists() and str(waiting) in said
        assert f"已发送待回执 {waiting} 条" in text(app, "#sync-figures")

        # Something that is not a bundle: refused in words, nothing changes.
        junk = tmp_path / "junk.bundle"
        junk.write_bytes(b"not a bundle")
        before = events(sqlite_hall.engine)
        said = await answer(app, pilot, "i", junk)
        assert "不是一窗通同步包" in said
        assert app.screen.query_one("#sync-message").has_class("-error")
        assert events(sqlite_hall.engine) == before

        done = bundle.import_bundle(county, keys, stick, make_app(sqlite_hall).bench.now())
        assert done.stored == waiting
        said = await answer(app, pilot, "t", bundle.receipt_path(stick))
        assert str(waiting) in said and "610102" in said
        figures = text(app, "#sync-figures")
        assert "待上报 0 条" in figures and "已发送待回执 0 条" in figures
