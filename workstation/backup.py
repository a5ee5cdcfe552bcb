"""Backups of an office's SQLite database, taken and restored through SQLite's backup API.

Never a copy of the live file behind SQLite's back (a copy taken mid-write, or without its
WAL, is not a database). A backup is written to a temporary name, checked, flushed and
renamed; a restore checks the backup whole (integrity, every signature) before it replaces
anything, so a damaged backup changes nothing.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine

from workstation.db import reading
from workstation.errors import ConfigError, IntegrityFailure
from workstation.verify import verify_log


def _database_file(engine: Engine) -> Path:
    url = make_url(engine.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise ConfigError("error.backup.not_sqlite", url=url.render_as_string(hide_password=True))
    return Path(url.database)


def take(engine: Engine, out: Path) -> int:
    """Copy the database to ``out`` with the backup API; how many events it holds."""
    source = _database_file(engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(f".{out.name}.partial")
    temp.unlink(missing_ok=True)
    try:
        with sqlite3.connect(source) as live, sqlite3.connect(temp) as copy:
            live.backup(copy)
        with sqlite3.connect(temp) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except (OSError, sqlite3.Error) as error:
        temp.unlink(missing_ok=True)
        raise ConfigError("error.backup.failed", path=str(out), reason=str(error)) from None
    return check(out)


def check(backup: Path) -> int:
    """The number of events of a sound backup; IntegrityFailure naming what is wrong."""
    if not backup.is_file():
        raise ConfigError("error.backup.missing", path=str(backup))
    try:
        with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as probe:
            result = probe.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as error:
        raise IntegrityFailure(
            "error.backup.damaged", path=str(backup), reason=str(error)
        ) from None
    if result is None or result[0] != "ok":
        raise _damaged(backup, result[0] if result else "?")
    # Read-only, and without make_engine's WAL switch: checking must not touch the backup.
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    )
    try:
        with reading(engine) as session:
            report = verify_log(session)
    except Exception as error:  # a file that is SQLite but not ours
        raise IntegrityFailure(
            "error.backup.damaged", path=str(backup), reason=str(error)
        ) from None
    finally:
        engine.dispose()
    if report.problem is not None:
        problem = report.problem
        raise _damaged(backup, f"{problem.origin}/{problem.seq}: {problem.reason}")
    return report.checked


def _damaged(backup: Path, reason: str) -> IntegrityFailure:
    return IntegrityFailure("error.backup.damaged", path=str(backup), reason=reason)


def restore(engine: Engine, backup: Path) -> int:
    """Replace the database with a checked backup (through the backup API); its events."""
    events = check(backup)
    target = _database_file(engine)
    engine.dispose()
    try:
        with (
            sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as source,
            sqlite3.connect(target) as live,
        ):
            source.backup(live)
    except sqlite3.Error as error:
        raise ConfigError("error.backup.failed", path=str(target), reason=str(error)) from None
    return events
