"""Three levels as real processes: a township on SQLite, a county hub and a city hub on
PostgreSQL. The township's 1,000 offline applications go up, the county's decisions come
down, every log verifies, and the city holds every event of both levels below it as signed.

The hubs are `onewindow hub` processes, every sync round is `onewindow sync` and every check
is `onewindow verify`, each run with its own office's environment, so each level is a node of
its own. Clerks and officers work through the services on their own office's database, as
the workstation does.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Application, Event, Task
from sync.outgoing import next_batch
from tests.conftest import NOW, PG_URL, Hall, open_hall
from tests.factories import request_for
from tests.levels import CITY, events, link, open_county, open_level, running_hub
from tests.test_sync_levels import enrol_county_at_city
from tests.test_sync_pull import county_officer
from workstation import officekey
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import intake, outbox, tasks
from workstation.services.auth import Actor

MIX = {
    "subsistence-allowance": 300,  # village → township → county civil affairs (a certificate)
    "elderly-allowance": 100,  # township → county civil affairs
    "hotel-open": 200,  # six county bureaux, open at once; not decided here
    "medical-insurance": 100,  # the county healthcare security bureau; not decided here
    "birth-registration": 150,  # the police station, then two county bureaux
    "rural-housing": 150,  # the village and the township only
}
"""The day's applications at the township window: 1,000, most of them needing the county."""
CIVIL = ("subsistence-allowance", "elderly-allowance")
"""The matters whose last task is the county civil affairs bureau's (``county-civil``)."""
REVIEWS = {"subsistence-allowance": ("village", "township"), "elderly-allowance": ("township",)}
"""The township's own steps before the county's task opens, in order."""
REVIEWERS = {"village": "village-committee", "township": "township-civil"}
"""Task code → the township department that decides it."""
DECIDED = NOW + timedelta(days=3)
"""When the county officer works the queue (the township accepted on ``NOW``)."""
REJECT_EVERY = 100
"""The county refuses one certificate in this many (the rest are approved)."""

Signed = set[tuple[str, int, bytes, bytes]]
"""Events as signed: (origin, seq, payload, signature)."""
Decisions = dict[str, tuple[str, str, str]]
"""Task id → (state, permit number, decided by)."""


@pytest.fixture
def new_schema(postgres_reason: str | None) -> Iterator[Callable[[], Engine]]:
    """Make migrated engines, each on a fresh PostgreSQL schema (dropped afterwards)."""
    if postgres_reason:
        pytest.skip(postgres_reason)
    admin = psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True)
    made: list[tuple[str, Engine]] = []

    def make() -> Engine:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin.execute(f"CREATE SCHEMA {schema}")
        engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}")
        made.append((schema, engine))
        upgrade(engine)
        return engine

    try:
        yield make
    finally:
        for schema, engine in made:
            engine.dispose()
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def onewindow(
    command: str, engine: Engine, keys: Path, upstream: str = ""
) -> subprocess.Popen[str]:
    """`onewindow <command>` started as a real process for the office on ``engine``."""
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ONEWINDOW_KEY_DIR": str(keys),
        "ONEWINDOW_UPSTREAM_URL": upstream,
        "ONEWINDOW_LANGUAGE": "en",
    }
    program = str(Path(sys.executable).parent / "onewindow")
    return subprocess.Popen(
        [program, command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finished(process: subprocess.Popen[str]) -> str:
    """What a `onewindow` process printed, once it ended well."""
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return output


def sync(engine: Engine, keys: Path, upstream: str) -> tuple[int, int]:
    """One `onewindow sync` round of the office on ``engine``; (events pushed, pulled)."""
    output = finished(onewindow("sync", engine, keys, upstream))
    found = re.search(r"Pushed (\d+) events.*Pulled (\d+) new events", output, re.DOTALL)
    assert found is not None, output
    return int(found[1]), int(found[2])


def verify_all(*offices: tuple[Engine, Path]) -> list[int]:
    """`onewindow verify` at every office at once; how many events each one checked."""
    running = [onewindow("verify", engine, keys) for engine, keys in offices]
    counts = []
    for process in running:
        found = re.search(r"The log verifies: (\d+) events", finished(process))
        assert found is not None
        counts.append(int(found[1]))
    return counts


def accept_the_day(hall: Hall) -> dict[str, list[str]]:
    """The township window accepts the day's applications; matter → tracking numbers."""
    accepted: dict[str, list[str]] = {code: [] for code in MIX}
    order = [code for code, count in MIX.items() for _ in range(count)]
    random.Random(2026).shuffle(order)
    for seed, code in enumerate(order):
        request = request_for(code, rng=random.Random(seed))
        with writing(hall.engine) as session:
            result = intake.accept(session, actor=hall.clerk, request=request, now=NOW)
        accepted[code].append(result.tracking_no)
    return accepted


def township_reviews(hall: Hall, accepted: dict[str, list[str]]) -> int:
    """The township approves its own steps, opening the county's tasks; how many it approved."""
    approved = 0
    for code, steps in REVIEWS.items():
        for step in steps:
            officer = hall.officer(REVIEWERS[step])
            for number in accepted[code]:
                with writing(hall.engine) as session:
                    tasks.approve(session, actor=officer, task_id=f"{number}/{step}", now=NOW)
                approved += 1
    return approved


def county_decides(county: Engine, officer: Actor) -> Decisions:
    """The county officer decides the whole open queue, refusing one in ``REJECT_EVERY``."""
    queue = sorted(t for t, (state, _, _) in county_civil_tasks(county).items() if state == "open")
    decisions: Decisions = {}
    for index, task_id in enumerate(queue):
        number = task_id.split("/")[0]
        with writing(county) as session:
            if index % REJECT_EVERY == 0:
                reason = "家庭人均收入高于当地最低生活保障标准"
                tasks.reject(session, actor=officer, task_id=task_id, reason=reason, now=DECIDED)
                decisions[task_id] = ("rejected", "", officer.username)
                continue
            application = session.get(Application, number)
            assert application is not None
            permit = f"DB-{number}" if application.matter_code == "subsistence-allowance" else ""
            tasks.approve(session, actor=officer, task_id=task_id, permit_no=permit, now=DECIDED)
            decisions[task_id] = ("approved", permit, officer.username)
    return decisions


def county_civil_tasks(engine: Engine) -> Decisions:
    """The county civil affairs tasks an office holds: id → (state, permit number, decider)."""
    with reading(engine) as session:
        rows = session.scalars(select(Task).where(col(Task.department_code) == "county-civil"))
        return {t.id: (t.state, t.permit_no or "", t.decided_by or "") for t in rows}


def statuses(engine: Engine, origin: str) -> Counter[tuple[str, str]]:
    """How many of ``origin``'s applications an office holds, by matter and status."""
    with reading(engine) as session:
        rows = session.scalars(select(Application).where(col(Application.origin) == origin))
        return Counter((a.matter_code, a.status) for a in rows)


def signed(engine: Engine, origin: str) -> Signed:
    """The events of ``origin`` an office holds, as signed."""
    with reading(engine) as session:
        rows = session.scalars(select(Event).where(col(Event.origin) == origin))
        return {(e.origin, e.seq, bytes(e.payload), bytes(e.signature)) for e in rows}


def nothing_waits(engine: Engine, keys: Path, code: str) -> bool:
    """True when the level above has receipted every event this office sends up."""
    with reading(engine) as session:
        return next_batch(session, officekey.load(keys, code)) is None


def test_a_thousand_offline_applications_go_up_and_the_county_decisions_come_down(
    new_schema: Callable[[], Engine], tmp_path: Path
) -> None:
    city, county = new_schema(), new_schema()
    city_keys, county_keys = tmp_path / "city-keys", tmp_path / "county-keys"
    city_admin = open_level(city, city_keys, CITY, "city-admin")
    county_admin = open_county(county, county_keys)
    enrol_county_at_city(city, city_admin, county, county_admin)
    township_db = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(township_db)
    township = open_hall(township_db, tmp_path / "township-keys")
    link(county, county_admin, county_keys, township)
    civil = county_officer(county, county_admin, county_keys, "county-civil")
    here, there = township.admin.office_code, county_admin.office_code
    with reading(township.engine) as session:
        set_up = outbox.waiting(session)

    # Offline: no hub runs anywhere while the township works.
    accepted = accept_the_day(township)
    assert township_reviews(township, accepted) == 700
    opened = county_civil_tasks(township.engine)
    assert len(opened) == 400 and {s for s, _, _ in opened.values()} == {"open"}
    assert statuses(township.engine, here) == Counter(
        {(code, "in_progress"): count for code, count in MIX.items()}
    )
    with reading(township.engine) as session:
        own = outbox.waiting(session)
    assert own == set_up + 1000 + 700

    with running_hub(city, city_keys) as city_url, running_hub(county, county_keys) as county_url:
        assert sync(township.engine, township.key_dir, county_url)[0] == own
        relayed, _ = sync(county, county_keys, city_url)
        assert signed(county, here) == signed(township.engine, here)
        county_own = len(signed(county, there))
        assert relayed == own + county_own, "the county sends up the township's log and its own"

        assert county_civil_tasks(county) == opened
        decisions = county_decides(county, civil)
        assert len(decisions) == 400

        # Down come the decisions, and the city's keys and catalog the county took from above.
        from_city = signed(county, CITY.code)
        assert sync(township.engine, township.key_dir, county_url) == (0, 400 + len(from_city))
        assert signed(township.engine, CITY.code) == from_city
        assert sync(county, county_keys, city_url)[0] == 400

    # The township sees every decision, and its cases moved on with them.
    assert county_civil_tasks(township.engine) == decisions
    refused = Counter(
        code for code in CIVIL for n in accepted[code] if decisions[f"{n}/county"][0] == "rejected"
    )
    assert sum(refused.values()) == 400 // REJECT_EVERY
    moved_on = Counter({(code, "in_progress"): count for code, count in MIX.items()})
    for code in CIVIL:
        del moved_on[(code, "in_progress")]
        moved_on[(code, "completed")] = MIX[code] - refused[code]
        moved_on[(code, "rejected")] = refused[code]
    moved_on = +moved_on  # no row for a matter without a refusal
    for engine in (township.engine, county, city):
        assert statuses(engine, here) == moved_on

    # `verify` passes at all three; nothing waits below; the city holds both logs as signed.
    offices = [(township.engine, township.key_dir), (county, county_keys), (city, city_keys)]
    assert verify_all(*offices) == [events(engine) for engine, _ in offices]
    assert nothing_waits(township.engine, township.key_dir, here)
    assert nothing_waits(county, county_keys, there)
    ours, theirs = signed(township.engine, here), signed(county, there)
    assert len(ours) == own and len(theirs) == county_own + 400
    assert signed(city, here) == ours
    assert signed(city, there) == theirs
    assert events(city) == len(ours) + len(theirs) + len(signed(city, city_admin.office_code))
    assert signed(township.engine, there) <= theirs, "what came down is the county's, as signed"
