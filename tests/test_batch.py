"""`onewindow batch`: one result line per action, refusals in the operator's language, the
batch carried on past them, and bad lines refused without changing anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from models import Application, Event
from tests.batchrun import accept_line, env_for, results
from tests.conftest import Hall
from workstation import db
from workstation.cli import app
from workstation.db import reading
from workstation.errors import Conflict
from workstation.i18n import translate


def run_batch(hall: Hall, who: str, language: str, lines: list[str]) -> tuple[int, str, str]:
    """``onewindow batch -`` with ``lines`` on stdin: exit code, stdout, stderr."""
    env = env_for(hall.engine, hall.key_dir, who, language)
    env = {name: value for name, value in env.items() if name.startswith("ONEWINDOW_")}
    result = CliRunner().invoke(
        app, ["batch", "-"], input="".join(line + "\n" for line in lines), env=env
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


def counts(hall: Hall) -> tuple[int, int]:
    with reading(hall.engine) as session:
        apps = session.scalar(select(func.count()).select_from(Application)) or 0
        events = session.scalar(select(func.count()).select_from(Event)) or 0
    return apps, events


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_bad_lines_are_refused_and_change_nothing(sqlite_hall: Hall, language: str) -> None:
    before = counts(sqlite_hall)
    bad = [
        "not json",
        "[1, 2]",
        json.dumps({"do": "launch"}),
        json.dumps({"do": "claim"}),
        json.dumps({"do": "claim", "task": 7}),
        json.dumps({"do": "claim", "task": "x/y", "colour": "red"}),
        json.dumps({"do": "accept", "matter": "medical-insurance", "id": "1", "name": "张三"}),
    ]
    code, out, err = run_batch(sqlite_hall, "clerk", language, bad)
    said = results(out)
    assert code == 1 and [r["ok"] for r in said] == [False] * len(bad)
    assert [r["error"] for r in said] == [
        "error.batch.json",
        "error.batch.json",
        "error.batch.action",
        "error.batch.field_missing",
        "error.batch.field_type",
        "error.batch.field_unknown",
        "error.id.length",
    ]
    assert said[4]["message"] == translate(
        "error.batch.field_type", language, field="task", expected="batch.type.text"
    )
    assert err.strip() == translate("batch.summary", language, done=0, refused=len(bad))
    assert counts(sqlite_hall) == before


def test_a_refusal_does_not_stop_the_batch(sqlite_hall: Hall, tmp_path: Path) -> None:
    first = accept_line("medical-insurance", 1)
    code, out, _ = run_batch(sqlite_hall, "clerk", "en", [json.dumps(first)])
    number = results(out)[0]["subject"]
    lines = [
        json.dumps({"do": "approve", "task": f"{number}/enrol"}),  # a clerk may not decide
        json.dumps(accept_line("medical-insurance", 2)),
        json.dumps({"do": "withdraw", "tracking_no": number, "reason": "申请人撤回"}),
        json.dumps({"do": "withdraw", "tracking_no": number, "reason": "again"}),
    ]
    code, out, _ = run_batch(sqlite_hall, "clerk", "en", lines)
    said = results(out)
    assert code == 1
    assert [(r["line"], r["do"], r["ok"]) for r in said] == [
        (1, "approve", False),
        (2, "accept", True),
        (3, "withdraw", True),
        (4, "withdraw", False),
    ]
    assert said[0]["error"].startswith("error.permission")
    assert said[2]["subject"] == number and number in said[2]["message"]
    assert counts(sqlite_hall)[0] == 2


def test_a_write_kept_waiting_too_long_says_so_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "busy.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another terminal in the middle of a long write
    try:
        with pytest.raises(Conflict) as caught, db.writing(engine) as session:
            session.execute(text("SELECT 1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()
    assert caught.value.key == "error.busy"
    for language in ("zh_CN", "en"):
        assert "locked" not in caught.value.message(language)
