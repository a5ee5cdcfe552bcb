"""Backups through SQLite's backup API: taken while the office works, checked, restored."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import NOW, Hall
from tests.factories import request_for
from tests.levels import events
from workstation.cli import app
from workstation.db import writing
from workstation.i18n import translate
from workstation.services import intake


def onewindow(*args: str) -> tuple[int, str]:
    """Run a command; its exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def accept(hall: Hall, count: int, seed: int) -> None:
    """``count`` applications at the window."""
    for n in range(count):
        with writing(hall.engine) as session:
            request = request_for("hotel-open", rng=random.Random(seed * 100 + n))
            intake.accept(session, actor=hall.clerk, request=request, now=NOW)


def test_a_backup_is_taken_checked_and_restored(
    sqlite_hall: Hall, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = sqlite_hall.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", url)
    monkeypatch.setenv("ONEWINDOW_KEY_DIR", str(sqlite_hall.key_dir))
    accept(sqlite_hall, 3, seed=1)
    saved = events(sqlite_hall.engine)
    out = tmp_path / "stick" / "office.backup"
    code, output = onewindow("backup", "--out", str(out))
    assert code == 0
    assert output == translate("backup.done", "zh_CN", path=str(out), events=saved) + "\n"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no partial or WAL file left
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

    accept(sqlite_hall, 2, seed=2)  # work goes on after the backup
    assert events(sqlite_hall.engine) > saved
    assert onewindow("restore", str(out))[0] == 1  # not without --yes
    code, output = onewindow("restore", str(out), "--yes")
    assert code == 0, output
    assert events(sqlite_hall.engine) == saved
    assert onewindow("verify")[0] == 0 and onewindow("rebuild", "--check")[0] == 0

    # A damaged backup is refused with the reason, and the database stays as it is.
    damaged = tmp_path / "damaged.backup"
    data = bytearray(out.read_bytes())
    data[16:24] = b"\xff" * 8  # page size and file format in the header: not a database
    damaged.write_bytes(bytes(data))
    accept(sqlite_hall, 1, seed=3)
    before = events(sqlite_hall.engine)
    code, output = onewindow("restore", str(damaged), "--yes")
    assert code == 1 and "已损坏" in output
    assert events(sqlite_hall.engine) == before
    code, output = onewindow("restore", str(tmp_path / "nothing.backup"), "--yes")
    assert code == 1 and "找不到备份文件" in output
