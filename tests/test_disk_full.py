"""A full disk: the action is refused whole, in words, and the database is as it was."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from tests.conftest import NOW, Hall
from tests.factories import request_for
from tests.levels import events
from workstation.db import make_engine, reading, writing
from workstation.errors import StorageFull
from workstation.services import intake
from workstation.verify import verify_log


def test_a_full_disk_refuses_the_action_whole(sqlite_hall: Hall) -> None:
    # The database may not grow past the pages it has now: the next growth is SQLITE_FULL.
    full = make_engine(sqlite_hall.engine.url.render_as_string(hide_password=False))

    @event.listens_for(full, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    accepted = 0
    with pytest.raises(StorageFull) as refused:
        for n in range(500):
            before = events(sqlite_hall.engine)
            with writing(full) as session:
                request = request_for("hotel-open", rng=random.Random(n))
                intake.accept(session, actor=sqlite_hall.clerk, request=request, now=NOW)
            accepted += 1
    assert "磁盘空间已满" in refused.value.message("zh_CN")
    assert events(sqlite_hall.engine) == before  # nothing of the refused application
    full.dispose()
    path = sqlite_hall.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with reading(sqlite_hall.engine) as session:
        assert verify_log(session).ok
    # With room again, the same application goes through.
    with writing(sqlite_hall.engine) as session:
        request = request_for("hotel-open", rng=random.Random(accepted))
        intake.accept(session, actor=sqlite_hall.clerk, request=request, now=NOW)
    assert events(sqlite_hall.engine) == before + 1
