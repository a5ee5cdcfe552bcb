"""Offices at two levels for sync tests: a county, and township halls enrolled below it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Event
from sync.wire import Batch, WireEvent
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import CATALOG
from workstation import officekey
from workstation.crypto import Signer
from workstation.db import reading, writing
from workstation.services import enrolment, office
from workstation.services.auth import Actor
from workstation.services.enrolment import OfficeCard

COUNTY = office.OfficeSpec("610102", "碑林区政务服务中心", "county")
CITY = office.OfficeSpec("6101", "西安市政务服务中心", "city")


def open_county(engine: Engine, key_dir: Path) -> Actor:
    """A county office on ``engine`` with its office key; its administrator."""
    return open_level(engine, key_dir, COUNTY, "county-admin")


def open_level(engine: Engine, key_dir: Path, spec: office.OfficeSpec, admin: str) -> Actor:
    """An upstream office on ``engine``, its office key and catalog; its administrator."""
    with writing(engine) as session:
        actor = office.init_office(
            session,
            key_dir=key_dir,
            office=spec,
            parent=None,
            admin_username=admin,
            admin_name="区管理员",
            admin_password=PASSWORD,
            now=NOW,
        )
    with writing(engine) as session:
        enrolment.register_office_key(session, actor=actor, key_dir=key_dir, now=NOW)
        office.publish_catalog(session, actor=actor, catalog=CATALOG, now=NOW)
    return actor


def township_card(hall: Hall) -> OfficeCard:
    """The township registers its office key; its card."""
    with writing(hall.engine) as session:
        enrolment.register_office_key(session, actor=hall.admin, key_dir=hall.key_dir, now=NOW)
    with reading(hall.engine) as session:
        return enrolment.office_card(session)


def enrol_township(county: Engine, admin: Actor, hall: Hall) -> Signer:
    """Register the township's key, enrol it at the county; the township's office key."""
    card = township_card(hall)
    with writing(county) as session:
        enrolment.enrol(session, actor=admin, card=card, now=NOW)
    return officekey.load(hall.key_dir, card.code)


def events(engine: Engine) -> int:
    """How many events the office's log holds."""
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def wire_events(engine: Engine, origin: str | None = None) -> list[WireEvent]:
    """The events of ``engine``'s log (of one origin, if given) as they travel, in log order."""
    with reading(engine) as session:
        query = select(Event).order_by(col(Event.id))
        if origin is not None:
            query = query.where(col(Event.origin) == origin)
        return [WireEvent(e.payload, e.signature) for e in session.scalars(query)]


def batch_of(hall: Hall, office_key: Signer, wire: list[WireEvent] | None = None) -> Batch:
    """A batch from the township: ``wire``, or its whole log, signed by its office key."""
    return Batch.sign(
        hall.admin.office_code, wire_events(hall.engine) if wire is None else wire, office_key
    )


def link(county: Engine, admin: Actor, county_keys: Path, hall: Hall) -> Signer:
    """Enrol the township at the county and register the county as its upstream (both cards)."""
    office_key = enrol_township(county, admin, hall)
    with reading(county) as session:
        card = enrolment.office_card(session)
    with writing(hall.engine) as session:
        enrolment.register_upstream(session, actor=hall.admin, card=card, now=NOW)
    assert officekey.load(county_keys, card.code).key_id == card.key_id
    return office_key


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def hub_process(
    engine: Engine,
    keys: Path,
    port: int,
    *,
    output: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`onewindow hub` as a real process serving ``engine`` on ``port``, once it answers.

    Its output goes to the file ``output`` if given (a hub that writes much under load must
    never block on a full pipe), else to a pipe the caller reads; ``env`` adds to its
    environment.
    """
    environment = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ONEWINDOW_KEY_DIR": str(keys),
        "ONEWINDOW_LANGUAGE": "en",
        **(env or {}),
    }
    command = [str(Path(sys.executable).parent / "onewindow"), "hub", "--port", str(port)]
    if output is None:
        process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
    else:
        with output.open("wb") as log:
            process = subprocess.Popen(
                command, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
    try:
        # One client for the whole wait: each new one builds an SSL context (a quarter second).
        with httpx.Client(timeout=1) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if http.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    said = output.read_text() if output is not None else ""
                    if output is None and process.stdout is not None:
                        said = process.stdout.read().decode()
                    raise RuntimeError(f"the hub did not start: {said}")
                time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)


@contextmanager
def running_hub(engine: Engine, keys: Path, *, port: int = 0) -> Iterator[str]:
    """`onewindow hub` as a real process serving ``engine`` on loopback; its URL."""
    port = port or free_port()
    with hub_process(engine, keys, port):
        yield f"http://127.0.0.1:{port}"
