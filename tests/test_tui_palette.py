"""The command palette lists every key a screen offers, in the operator's language."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot

from screens.app import WorkstationApp
from screens.case import CaseScreen
from screens.queue import QueueScreen
from tests.conftest import NOW, PASSWORD, Hall
from workstation.app import build_app
from workstation.i18n import translate
from workstation.settings import load_settings


def make_app(hall: Hall, language: str) -> WorkstationApp:
    """The workstation on the hall's database at NOW."""
    settings = load_settings(key_dir=hall.key_dir, language=language, cursor_blink=False)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def settle(app: WorkstationApp, pilot: Pilot[None]) -> None:
    """Let the workers finish and the screen repaint."""
    for _ in range(2):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def palette_titles(app: WorkstationApp, pilot: Pilot[None]) -> list[str]:
    """Open the palette and read the titles it offers before anything is typed."""
    await pilot.press("ctrl+p")
    await settle(app, pilot)
    assert isinstance(app.screen, CommandPalette)
    commands = app.screen.query_one(CommandList)
    await pilot.pause(0.3)  # the palette gathers its commands in a worker
    return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_palette_lists_every_footer_key_of_the_queue(
    sqlite_hall: Hall, language: str
) -> None:
    app = make_app(sqlite_hall, language)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"o-fire", "enter", *PASSWORD, "enter")
        await settle(app, pilot)
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        shown = {
            active.binding.description
            for active in queue.active_bindings.values()
            if active.binding.id and active.enabled and active.binding.action != "command_palette"
        }
        for view in ("all", "mine", "unclaimed", "overdue", "supplement"):
            assert translate(f"ui.queue.view.{view}", language) in shown
        titles = await palette_titles(app, pilot)
        joined = "\n".join(titles)
        missing = [description for description in shown if description not in joined]
        assert not missing, f"keys in the footer but not in the palette: {missing}"
        # Keys the officer may not use (intake, dashboard) are not offered either.
        assert translate("nav.intake", language) not in joined
        assert translate("ui.palette.show_keys", language) in joined


async def test_choosing_a_command_runs_its_action(sqlite_hall: Hall) -> None:
    app = make_app(sqlite_hall, "zh_CN")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"o-fire", "enter", *PASSWORD, "enter")
        await settle(app, pilot)
        await palette_titles(app, pilot)
        await pilot.press(*translate("nav.case", "zh_CN"))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseScreen)
