"""Three levels: a township's events reach the city through the county, signatures intact."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Event
from sync.outgoing import next_batch, take_receipt
from sync.receive import accept
from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from tests.levels import CITY, link, open_county, open_level, wire_events
from workstation import officekey, rebuild
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import enrolment, intake
from workstation.services.auth import Actor
from workstation.verify import verify_log


def push_all(below: Engine, below_keys: Path, above: Engine, above_keys: Path) -> int:
    """Push everything ``below`` has not had receipted to ``above``; how many events moved."""
    with reading(below) as session:
        here = enrolment.office_card(session).code
    with reading(above) as session:
        there = enrolment.office_card(session).code
    key, their_key = officekey.load(below_keys, here), officekey.load(above_keys, there)
    moved = 0
    while True:
        with reading(below) as session:
            batch = next_batch(session, key, limit=50)
        if batch is None:
            return moved
        with writing(above) as session:
            receipt = accept(session, batch, office_key=their_key).receipt
        with writing(below) as session:
            moved += take_receipt(session, receipt, now=NOW)


def enrol_county_at_city(
    city: Engine, city_admin: Actor, county: Engine, county_admin: Actor
) -> None:
    """The county's card enrolled at the city; the city registered as the county's upstream."""
    with reading(county) as session:
        county_card = enrolment.office_card(session)
    with writing(city) as session:
        enrolment.enrol(session, actor=city_admin, card=county_card, now=NOW)
        city_card = enrolment.office_card(session)
    with writing(county) as session:
        enrolment.register_upstream(session, actor=county_admin, card=city_card, now=NOW)


def test_the_city_holds_every_township_event_relayed_by_the_county(
    engine: Engine, tmp_path: Path
) -> None:
    city_keys, county_keys = tmp_path / "city-keys", tmp_path / "county-keys"
    city_admin = open_level(engine, city_keys, CITY, "city-admin")
    county = make_engine(f"sqlite:///{tmp_path / 'county.db'}")
    upgrade(county)
    county_admin = open_county(county, county_keys)
    enrol_county_at_city(engine, city_admin, county, county_admin)
    township_engine = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(township_engine)
    township: Hall = open_hall(township_engine, tmp_path / "township-keys")
    link(county, county_admin, county_keys, township)
    with writing(township.engine) as session:
        for seed in range(5):
            request = request_for("hotel-open", rng=random.Random(seed))
            intake.accept(session, actor=township.clerk, request=request, now=NOW)

    push_all(township.engine, township.key_dir, county, county_keys)
    push_all(county, county_keys, engine, city_keys)

    code = township.admin.office_code
    theirs = {(w.payload, w.signature) for w in wire_events(township.engine)}
    with reading(engine) as session:
        held = {
            (e.payload, e.signature)
            for e in session.scalars(select(Event).where(col(Event.origin) == code))
        }
        assert held == theirs, "the city holds the township's own signed events, all of them"
        report = verify_log(session)
        assert report.ok, report.problem
        assert rebuild.check(session) == []
    # Nothing waits at either level below.
    with reading(township.engine) as session:
        assert next_batch(session, officekey.load(township.key_dir, code)) is None
    with reading(county) as session:
        assert next_batch(session, officekey.load(county_keys, "610102")) is None
