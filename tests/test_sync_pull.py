"""Decisions made upstream come down: only what concerns the township, checked, applied."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Application, Task
from sync.downstream import accept_pulled, next_pull, pulled_up_to
from sync.outgoing import next_batch, take_receipt
from sync.receive import accept
from sync.wire import Batch, WireEvent
from tests.conftest import NOW, PASSWORD, Hall, open_hall
from tests.factories import request_for
from tests.levels import link, open_county
from workstation import officekey, rebuild
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import SyncRefused
from workstation.eventlog import decode
from workstation.services import cases, intake, office, outbox, tasks
from workstation.services.auth import Actor, login
from workstation.verify import verify_log


def township_at(tmp_path: Path, name: str, code: str) -> Hall:
    """A township office on its own SQLite file."""
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
    upgrade(engine)
    return open_hall(engine, tmp_path / f"{name}-keys", code=code)


def push_all(hall: Hall, county: Engine, county_key: Signer) -> None:
    """Everything the township holds goes up, receipted."""
    key = officekey.load(hall.key_dir, hall.admin.office_code)
    while True:
        with reading(hall.engine) as session:
            batch = next_batch(session, key)
        if batch is None:
            return
        with writing(county) as session:
            receipt = accept(session, batch, office_key=county_key).receipt
        with writing(hall.engine) as session:
            take_receipt(session, receipt, now=NOW)


def pull_all(hall: Hall, county: Engine, county_key: Signer) -> list[Batch]:
    """Everything the county holds for the township comes down; the batches."""
    batches = []
    while True:
        with reading(hall.engine) as session:
            after = pulled_up_to(session)
        with reading(county) as session:
            batch = next_pull(session, hall.admin.office_code, after, county_key, limit=7)
        with writing(hall.engine) as session:
            accept_pulled(session, batch)
        batches.append(batch)
        if not batch.events:
            return batches


def county_officer(county: Engine, admin: Actor, keys: Path, department: str) -> Actor:
    """An officer of ``department`` registered at the county, logged in."""
    username = f"c-{department}"
    with writing(county) as session:
        office.add_operator(
            session, actor=admin, key_dir=keys, username=username, name="区审批员",
            role="officer", departments=[department], password=PASSWORD, now=NOW,
        )  # fmt: skip
    with reading(county) as session:
        return login(session, key_dir=keys, username=username, password=PASSWORD)


def accepted(hall: Hall, seed: int) -> str:
    """One hotel application at the township window; its tracking number."""
    with writing(hall.engine) as session:
        request = request_for("hotel-open", rng=random.Random(seed))
        return intake.accept(session, actor=hall.clerk, request=request, now=NOW).tracking_no


def case_rows(engine: Engine, number: str) -> tuple[object, ...]:
    """An application and its tasks as a database holds them."""
    with reading(engine) as session:
        app = session.get(Application, number)
        assert app is not None
        rows = session.scalars(select(Task).where(col(Task.tracking_no) == number))
        return (app.status, app.due_date), tuple(
            sorted((t.id, t.state, t.due_date, t.decided_by, t.permit_no) for t in rows)
        )


def test_a_county_decision_comes_down_and_moves_the_township_case(
    engine: Engine, tmp_path: Path
) -> None:
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    county_key = officekey.load(keys, admin.office_code)
    township = township_at(tmp_path, "township", "610102001")
    other = township_at(tmp_path, "other", "610102002")
    for hall in (township, other):
        link(engine, admin, keys, hall)
    ours, theirs = accepted(township, 1), accepted(other, 2)
    push_all(township, engine, county_key)
    push_all(other, engine, county_key)

    fire = county_officer(engine, admin, keys, "fire")
    for number in (ours, theirs):
        with writing(engine) as session:
            tasks.approve(session, actor=fire, task_id=f"{number}/fire", permit_no="XF-1", now=NOW)

    batches = pull_all(township, engine, county_key)
    subjects = {
        decode(w.payload).get("body", {}).get("task", "") for b in batches for w in b.events
    }
    assert f"{ours}/fire" in subjects
    assert not any(theirs in s for s in subjects), "another township's case never goes down"
    assert case_rows(township.engine, ours) == case_rows(engine, ours)
    with reading(township.engine) as session:
        fire_task = session.get(Task, f"{ours}/fire")
        police = session.get(Task, f"{ours}/police")
        assert fire_task is not None and (fire_task.state, fire_task.decided_by) == (
            "approved",
            "c-fire",
        )
        assert police is not None and police.state == "open"
        report = verify_log(session)
        assert report.ok, report.problem
        assert rebuild.check(session) == []
    # Where each event of the case stands, as the case view shows it, at both levels.
    with reading(township.engine) as session:
        timeline = cases.case_view(session, actor=township.clerk, tracking_no=ours).events
        marks = outbox.sync_marks(session, timeline)
    assert {(e.origin, marks[e.id or 0]) for e in timeline} == {
        (township.admin.office_code, "receipted"),
        (admin.office_code, "from_above"),
    }
    with reading(engine) as session:
        timeline = cases.case_view(session, actor=fire, tracking_no=ours).events
        marks = outbox.sync_marks(session, timeline)
    assert {(e.origin, marks[e.id or 0]) for e in timeline} == {
        (township.admin.office_code, "from_below"),
        (admin.office_code, "provisional"),
    }
    # Pulling again brings nothing new.
    assert [len(b.events) for b in pull_all(township, engine, county_key)] == [0]


def test_what_the_township_refuses_from_above(engine: Engine, tmp_path: Path) -> None:
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    county_key = officekey.load(keys, admin.office_code)
    township = township_at(tmp_path, "township", "610102001")
    link(engine, admin, keys, township)
    with reading(engine) as session:
        batch = next_pull(session, township.admin.office_code, 0, county_key)
    assert batch.events

    def refused(bad: Batch, key: str) -> None:
        with pytest.raises(SyncRefused) as info, writing(township.engine) as session:
            accept_pulled(session, bad)
        assert info.value.key == key

    impostor = Signer.generate()
    refused(Batch.sign(batch.sender, list(batch.events), impostor), "error.sync.batch_signature")
    with reading(township.engine) as session:
        own = next_batch(session, officekey.load(township.key_dir, "610102001"))
    assert own is not None
    mixed: list[WireEvent] = [*batch.events, own.events[0]]
    refused(Batch.sign(batch.sender, mixed, county_key), "error.sync.own_origin")
    first, second, third = batch.events[:3]
    refused(Batch.sign(batch.sender, [first, third, second], county_key), "error.sync.order")
