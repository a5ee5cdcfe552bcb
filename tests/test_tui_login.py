"""The login screen and switching screens: offline login, role homes, one-key switching."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from textual.widgets import DataTable, Input, Static

from screens.app import HOMES, WorkstationApp
from screens.login import LoginScreen
from tests.conftest import NOW, PASSWORD, Hall
from workstation import demo
from workstation.app import build_app
from workstation.db import make_engine, reading, upgrade
from workstation.i18n import translate
from workstation.services import audit
from workstation.settings import load_settings


def _app(engine: Engine, key_dir: Path, language: str = "zh_CN") -> WorkstationApp:
    return build_app(
        load_settings(key_dir=key_dir, language=language), engine=engine, clock=lambda: NOW
    )


async def _login(app: WorkstationApp, pilot: object, username: str, password: str) -> None:
    await pilot.press(*username, "enter", *password, "enter")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def test_wrong_password_says_so_and_nothing_else(sqlite_hall: Hall) -> None:
    app = _app(sqlite_hall.engine, sqlite_hall.key_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await _login(app, pilot, "clerk", "not-the-password")
        assert isinstance(app.screen, LoginScreen)
        error = app.screen.query_one("#login-error", Static)
        assert str(error.render()) == translate("error.auth", "zh_CN")
        assert app.screen.query_one("#password", Input).value == ""
        assert app.bench.actor is None
    with reading(sqlite_hall.engine) as session:
        entries = audit.entries(session, actor=sqlite_hall.auditor)
    assert [(e.actor, e.action) for e in entries][:1] == [("clerk", "login_failed")]


async def test_each_role_lands_on_its_home(sqlite_hall: Hall) -> None:
    for username, role in (("clerk", "clerk"), ("o-fire", "officer"), ("super", "supervisor")):
        app = _app(sqlite_hall.engine, sqlite_hall.key_dir)
        async with app.run_test(size=(120, 40)) as pilot:
            await _login(app, pilot, username, PASSWORD)
            assert app.bench.actor is not None and app.bench.actor.role == role
            assert app._screens.get(HOMES[role]) is app.screen


async def test_switching_is_one_key_and_only_to_allowed_screens(sqlite_hall: Hall) -> None:
    app = _app(sqlite_hall.engine, sqlite_hall.key_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await _login(app, pilot, "clerk", PASSWORD)
        intake = app.screen
        await pilot.press("f4")
        assert app.screen is app._screens["case"]
        await pilot.press("f5")  # a clerk has no dashboard
        assert app.screen is app._screens["case"]
        await pilot.press("f2")
        assert app.screen is intake
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.bench.actor is None


async def test_demo_office_lists_its_operators(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    result = demo.seed(engine, key_dir=tmp_path / "keys", seed=3, count=5, now=NOW)
    app = _app(engine, tmp_path / "keys", language="en")
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#demo-operators", DataTable)
        assert table.row_count == len(result.operators)
        table.focus()
        await pilot.press("down", "enter")
        operator = app.screen.query_one("#operator", Input).value
        assert operator == sorted(u for u, _, _ in result.operators)[1]
        await pilot.press(*demo.PASSWORD, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.bench.actor is not None and app.bench.actor.username == operator


async def test_an_ordinary_office_lists_no_operators(sqlite_hall: Hall) -> None:
    app = _app(sqlite_hall.engine, sqlite_hall.key_dir)
    async with app.run_test(size=(80, 24)):
        assert not app.screen.query("#demo-operators")


async def test_an_idle_workstation_locks_itself(sqlite_hall: Hall) -> None:
    settings = load_settings(key_dir=sqlite_hall.key_dir, idle_lock_minutes=0.05)  # 3 s
    app = build_app(settings, engine=sqlite_hall.engine, clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await _login(app, pilot, "clerk", PASSWORD)
        assert app.bench.actor is not None and not isinstance(app.screen, LoginScreen)
        for _ in range(50):  # nobody touches the keyboard
            await pilot.pause(0.2)
            if isinstance(app.screen, LoginScreen):
                break
        assert isinstance(app.screen, LoginScreen) and app.bench.actor is None
        shown = str(app.screen.query_one("#login-error", Static).render())
        assert shown == translate("ui.login.idle_locked", "zh_CN")
        await _login(app, pilot, "clerk", PASSWORD)  # and opens again for its operator
        assert app.bench.actor is not None
