"""Five wrong passwords in a row lock an operator name for ten minutes, at every door."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from tests.conftest import NOW, PASSWORD, Hall
from workstation.cli import app
from workstation.db import reading
from workstation.errors import AccountLocked, AuthenticationFailed
from workstation.i18n import translate
from workstation.services import audit
from workstation.settings import load_settings
from workstation.workbench import Workbench


def test_five_wrong_passwords_lock_the_name_for_ten_minutes(hall: Hall) -> None:
    clock = [NOW]
    bench = Workbench(load_settings(key_dir=hall.key_dir), hall.engine, lambda: clock[0])
    for minute in range(4):
        clock[0] = NOW + timedelta(minutes=minute)
        with pytest.raises(AuthenticationFailed) as wrong:
            bench.login("clerk", "not-the-password")
        assert not isinstance(wrong.value, AccountLocked)
    bench.login("clerk", PASSWORD)  # a good login before the fifth starts the count again
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            bench.login("clerk", "not-the-password")
    clock[0] += timedelta(minutes=9)
    with pytest.raises(AccountLocked) as locked:
        bench.login("clerk", PASSWORD)  # the right password does not open a locked name
    until = (NOW + timedelta(minutes=3 + 10)).astimezone(NOW.tzinfo)
    assert locked.value.message("zh_CN") == translate(
        "error.auth_locked", "zh_CN", until=f"{until:%H:%M}"
    )
    bench.login("super", PASSWORD)  # other names are not affected
    clock[0] += timedelta(minutes=1, seconds=1)
    assert bench.login("clerk", PASSWORD).username == "clerk"
    # An unknown name locks the same way: a lock says nothing about who exists.
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            bench.login("nobody", "x")
    with pytest.raises(AccountLocked):
        bench.login("nobody", "x")
    with reading(hall.engine) as session:
        actions = [e.action for e in audit.entries(session, actor=hall.auditor)]
    assert actions.count("login_failed") == 4 + 5 + 5  # tries while locked are not counted


def test_the_command_line_is_locked_too(hall: Hall, monkeypatch: pytest.MonkeyPatch) -> None:
    url = hall.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    monkeypatch.setenv("ONEWINDOW_KEY_DIR", str(hall.key_dir))

    def show(password: str) -> str:
        env = {"ONEWINDOW_OPERATOR": "clerk", "ONEWINDOW_PASSWORD": password}
        return CliRunner().invoke(app, ["queue", "fire"], env=env).output

    for _ in range(5):
        assert translate("error.auth", "zh_CN") in show("wrong-password")
    assert "已锁定" in show(PASSWORD)
