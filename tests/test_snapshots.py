"""What each screen looks like, at 80×24 and 120×40, in zh_CN (and en where asked)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from screens.app import WorkstationApp
from tests.conftest import NOW, Hall
from workstation.app import build_app
from workstation.settings import load_settings

SIZES = [(80, 24), (120, 40)]


def _app(hall: Hall, language: str = "zh_CN") -> WorkstationApp:
    settings = load_settings(key_dir=hall.key_dir, language=language, cursor_blink=False)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login(snap_compare: Callable[..., bool], sqlite_hall: Hall, size: Any) -> None:
    assert snap_compare(_app(sqlite_hall), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login_wrong_password(
    snap_compare: Callable[..., bool], sqlite_hall: Hall, size: Any
) -> None:
    async def wrong(pilot: Any) -> None:
        await pilot.press(*"clerk", "enter", *"nope", "enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(sqlite_hall), terminal_size=size, run_before=wrong)
