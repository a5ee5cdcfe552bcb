"""The county hub killed (SIGKILL) in the middle of a push, again and again: nothing lost,
nothing twice, chains whole, and each cut costs at most the batch that was in flight.

The size is a fast sample in ``make test``; ``ONEWINDOW_CRASH_EVENTS=10000
ONEWINDOW_CRASH_CUTS=5`` runs the issue's full campaign.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import ChainHead, Event
from sync.client import PushReport, push
from sync.outgoing import BATCH_SIZE
from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from tests.levels import free_port, hub_process, link, open_county
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import WorkstationError
from workstation.services import intake, tasks
from workstation.settings import load_settings
from workstation.verify import verify_log

EVENTS = int(os.environ.get("ONEWINDOW_CRASH_EVENTS", "1000"))
CUTS = int(os.environ.get("ONEWINDOW_CRASH_CUTS", "2"))


def grow(hall: Hall, events: int) -> int:
    """Claim and release one task until the township's log holds ``events``; its head."""
    with writing(hall.engine) as session:
        number = intake.accept(
            session, actor=hall.clerk, request=request_for("hotel-open"), now=NOW
        ).tracking_no
    officer, task = hall.officer("fire"), f"{number}/fire"
    with writing(hall.engine) as session:
        head = session.get(ChainHead, hall.admin.office_code)
        assert head is not None
        for step in range(max(events - head.seq, 0)):
            if step % 2 == 0:
                tasks.claim(session, actor=officer, task_id=task, now=NOW)
            else:
                tasks.release(session, actor=officer, task_id=task, now=NOW)
    with reading(hall.engine) as session:
        head = session.get(ChainHead, hall.admin.office_code)
        assert head is not None
        return head.seq


def test_a_hub_killed_mid_push_loses_nothing_and_stores_nothing_twice(
    engine: Engine, tmp_path: Path
) -> None:
    township_engine = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(township_engine)
    township = open_hall(township_engine, tmp_path / "township-keys")
    keys = tmp_path / "county-keys"
    link(engine, open_county(engine, keys), keys, township)
    total = grow(township, EVENTS)
    port = free_port()
    settings = load_settings(key_dir=township.key_dir, upstream_url=f"http://127.0.0.1:{port}")
    rng = random.Random(4)
    reports: list[PushReport] = []

    def pushing() -> None:
        # A cut link ends the round with an error; the next round carries on.
        with suppress(WorkstationError):
            reports.append(push(township.engine, settings, clock=now))

    for _ in range(CUTS):
        with hub_process(engine, keys, port) as hub:
            worker = threading.Thread(target=pushing)
            worker.start()
            worker.join(timeout=rng.uniform(0.2, 1.5))
            hub.send_signal(signal.SIGKILL)
            worker.join()
    with hub_process(engine, keys, port):
        final = push(township.engine, settings, clock=now)
    reports.append(final)

    code = township.admin.office_code
    with reading(engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(Event).where(col(Event.origin) == code)
        )
        distinct = session.scalar(
            select(func.count(func.distinct(Event.seq))).where(col(Event.origin) == code)
        )
        assert verify_log(session).ok
    # What a round sends again is the batch that was in flight when the link was cut.
    resent = [report.resent for report in reports]
    lost, twice = total - (distinct or 0), (stored or 0) - (distinct or 0)
    failures = int(lost != 0) + int(twice != 0) + sum(count > BATCH_SIZE for count in resent)
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress hub-kill [{engine.dialect.name}]: trials {CUTS}, failures {failures}, "
        f"data lost {lost}, stored twice {twice}, events {total}, most resent {max(resent)}"
    )
    assert stored == distinct == total
    assert all(count <= BATCH_SIZE for count in resent) and sum(resent) <= CUTS * BATCH_SIZE, resent


def now() -> datetime:
    """The real clock: the hub checks request times against its own."""
    return datetime.now().astimezone()
