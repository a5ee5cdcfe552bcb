"""The offices the push row measures: a township grown once and kept, a county made per round.

The township is a SQLite office (tests.conftest's hall) whose log ``grow`` fills with claims
and releases, its office key registered; it is built once per size into ``bench/.cache`` and
copied with SQLite's backup API for every round. The county is a fresh schema on PostgreSQL
each round, with its own office key; the township is enrolled there and registers it as its
upstream on its copy (one more event, pushed with the others). The county is served by a
real ``onewindow hub`` process on loopback, started before the clock and stopped after it.

Operators' keys are sealed with a cheap scrypt (``crypto.SCRYPT_N = 2**10``, as the tests do):
the row measures the log's journey, not a login.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.lib import Note
from bench.places import CACHE, copy_sqlite, postgres_database
from models import Event
from sync.wire import Batch
from tests.conftest import NOW, PASSWORD, open_hall
from tests.levels import free_port, hub_process, open_county, township_card
from tests.proxy import drain
from tests.test_sync_crash import grow
from workstation import crypto
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import enrolment
from workstation.services.auth import login
from workstation.settings import Settings, load_settings


@dataclass(frozen=True)
class Township:
    """A grown township in the cache: its file, its keys, and what its log holds."""

    path: Path
    key_dir: Path
    code: str
    events: int
    raw_bytes: float
    """Mean payload + signature of an event of its log: what one event weighs on the wire."""


def township(events: int, note: Note) -> Township:
    """The township whose log holds ``events``, grown once and kept in ``bench/.cache``."""
    crypto.SCRYPT_N = 2**10  # bench keys only: the row measures the log, not the login
    home = CACHE / f"push-township-{events}"
    facts = home / "facts.json"
    if not facts.is_file():
        # Grown aside and renamed at the end: a build cut short leaves no half township.
        shutil.rmtree(home, ignore_errors=True)
        building = CACHE / f".push-township-{events}.partial"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        note(f"growing a township of {events:,} events (once; kept in bench/.cache)")
        engine = make_engine(f"sqlite:///{building / 'township.db'}")
        upgrade(engine)
        hall = open_hall(engine, building / "keys")
        township_card(hall)
        grow(hall, events)
        with reading(engine) as session:
            count = session.scalar(select(func.count()).select_from(Event)) or 0
            weight = session.scalar(
                select(func.avg(func.length(Event.payload) + func.length(Event.signature)))
            )
        engine.dispose()
        with sqlite3.connect(building / "township.db") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.rmtree(home, ignore_errors=True)
        building.rename(home)
        record = {"code": hall.admin.office_code, "events": count, "raw_bytes": float(weight or 0)}
        facts.write_text(json.dumps(record), encoding="utf-8")
    said = json.loads(facts.read_text(encoding="utf-8"))
    return Township(
        home / "township.db", home / "keys", said["code"], said["events"], said["raw_bytes"]
    )


@dataclass
class Offices:
    """One round's offices: the township's fresh copy, the county's fresh schema, its hub."""

    township: Engine
    county: Engine
    settings: Settings
    """The township's settings: its keys, and the hub (or the proxy before it) as upstream."""
    port: int
    """Where the hub listens."""
    county_keys: Path
    hub_said: list[bytes] = field(default_factory=list)


@contextmanager
def offices(town: Township, where: Path, *, serve: bool = True) -> Iterator[Offices]:
    """A fresh copy of ``town`` linked to a fresh county on PostgreSQL served by a real hub
    (``serve=False``: no hub; the caller serves the county itself, from ``county_keys``)."""
    crypto.SCRYPT_N = 2**10
    engine = make_engine(f"sqlite:///{copy_sqlite(town.path, where / 'township.db')}")
    county_keys = where / "county-keys"
    try:
        with postgres_database() as county:
            admin = open_county(county, county_keys)
            with reading(engine) as session:
                card = enrolment.office_card(session)
                township_admin = login(
                    session, key_dir=town.key_dir, username="admin", password=PASSWORD
                )
            with writing(county) as session:
                enrolment.enrol(session, actor=admin, card=card, now=NOW)
            with reading(county) as session:
                county_card = enrolment.office_card(session)
            with writing(engine) as session:
                enrolment.register_upstream(
                    session, actor=township_admin, card=county_card, now=NOW
                )
            port = free_port()
            settings = load_settings(key_dir=town.key_dir, upstream_url=f"http://127.0.0.1:{port}")
            if not serve:
                yield Offices(engine, county, settings, port, county_keys)
                return
            with hub_process(county, county_keys, port) as hub:
                # The hub logs a line or more per cut: a pipe left unread would stall it.
                said = drain(hub)
                yield Offices(engine, county, settings, port, county_keys, said)
    finally:
        engine.dispose()


def stored(county: Engine, origin: str) -> tuple[int, int]:
    """The county's events of ``origin``: how many rows, and how many distinct places."""
    with reading(county) as session:
        rows = session.scalar(
            select(func.count()).select_from(Event).where(col(Event.origin) == origin)
        )
        places = session.scalar(
            select(func.count(func.distinct(Event.seq))).where(col(Event.origin) == origin)
        )
    return rows or 0, places or 0


class Recording(httpx.HTTPTransport):
    """An HTTP transport that notes the events of every push it sends, and the one cut."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[list[str]] = []
        """Per push request, the digests of its events, in order (cut requests too)."""
        self.cut_batches: list[int] = []
        """The events of each request the link broke under."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; note its events first, and its size if the link breaks."""
        digests: list[str] = []
        if request.url.path.endswith("/push"):
            batch = Batch.decode(request.read())
            digests = [hashlib.sha256(e.payload).hexdigest() for e in batch.events]
            self.sent.append(digests)
        try:
            response = super().handle_request(request)
            response.read()  # a cut in the answer's body breaks here, inside the transport
        except httpx.HTTPError:
            self.cut_batches.append(len(digests))
            raise
        return response

    def resent(self) -> int:
        """Events put on the link more than once."""
        seen: dict[str, int] = {}
        for request in self.sent:
            for digest in request:
                seen[digest] = seen.get(digest, 0) + 1
        return sum(1 for count in seen.values() if count > 1)
