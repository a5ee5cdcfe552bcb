"""The offices of the rights matrix: a county, two townships below it, cases in every state.

Township A is where most operators act; township B is its sibling and the county its parent.
Every office holds four cases (open with owed materials and a claimed task, one task waiting
for a supplement, completed, delivered); the townships' logs are pushed to the county, and A
holds an event signed by a revoked key (held for a supervisor's decision) there and at home.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlmodel import Session, SQLModel, col

from models import ChainHead, Event, HeldEvent
from sync import receive
from sync.wire import Batch, WireEvent
from tests.conftest import DEPARTMENT_OFFICERS, NOW, PASSWORD, Hall, open_hall
from tests.factories import request_for
from tests.levels import COUNTY, batch_of, link, open_level
from workstation import eventlog, officekey
from workstation.crypto import ALG_ED25519, Signer, canonical, sha256_hex
from workstation.db import make_engine, reading, upgrade, writing
from workstation.eventlog import ENVELOPE_VERSION
from workstation.services import cases, intake, office, tasks
from workstation.services.auth import Actor, login

TOWN_A, TOWN_B = "610102001", "610102002"
ABOVE = {TOWN_A: (COUNTY.code,), TOWN_B: (COUNTY.code,), COUNTY.code: ()}
"""The offices above each office of the world (what ``may_act_on`` is asked with)."""
LATER = NOW + timedelta(hours=1)
"""When the matrix acts: after everything the world was built with."""


@dataclass
class Place:
    """One office of the world: its database, keys, operators and cases."""

    code: str
    engine: Engine
    key_dir: Path
    staff: dict[str, Actor]
    """Role → an operator of that role (officers: ``officer:<department>``)."""
    cases: dict[str, str] = field(default_factory=dict)
    """open · supplement · completed · delivered → tracking number."""

    def officer(self, department: str) -> Actor:
        """The officer of ``department`` here."""
        return self.staff[f"officer:{department}"]


@dataclass
class World:
    """Township A, its sibling B and their county."""

    a: Place
    b: Place
    county: Place
    a_key: Signer
    county_key: Signer
    held: tuple[str, int]
    """(origin, seq) of the event A's revoked clerk signed."""

    def place(self, code: str) -> Place:
        """The office ``code``."""
        return {p.code: p for p in (self.a, self.b, self.county)}[code]


def _staff_county(engine: Engine, key_dir: Path, admin: Actor) -> dict[str, Actor]:
    people = [("c-clerk", "clerk", []), ("c-super", "supervisor", []), ("c-audit", "auditor", [])]
    people += [(f"c-{user}", "officer", [dep]) for dep, user in DEPARTMENT_OFFICERS.items()]
    with writing(engine) as session:
        for username, role, deps in people:
            office.add_operator(
                session, actor=admin, key_dir=key_dir, username=username, name=username,
                role=role, departments=deps, password=PASSWORD, now=NOW,
            )  # fmt: skip
    staff = {"admin": admin}
    with reading(engine) as session:
        for username, role, deps in people:
            actor = login(session, key_dir=key_dir, username=username, password=PASSWORD)
            staff[f"officer:{deps[0]}" if deps else role] = actor
    return staff


def _town(engine: Engine, key_dir: Path, code: str) -> Place:
    hall = open_hall(engine, key_dir, code=code)
    staff = {"admin": hall.admin, "clerk": hall.clerk, "supervisor": hall.supervisor}
    staff["auditor"] = hall.auditor
    staff.update({f"officer:{dep}": actor for dep, actor in hall.officers.items()})
    return Place(code, engine, key_dir, staff)


def _build_cases(place: Place) -> None:
    clerk = place.staff["clerk"]
    with writing(place.engine) as s:
        opened = intake.accept(
            s, actor=clerk, request=request_for("hotel-open", defer=True), now=NOW
        ).tracking_no
        tasks.claim(s, actor=place.officer("health"), task_id=f"{opened}/health", now=NOW)
        waiting = intake.accept(s, actor=clerk, request=request_for("hotel-open"), now=NOW)
        tasks.request_supplement(
            s, actor=place.officer("market"), task_id=f"{waiting.tracking_no}/licence",
            materials=["floor-plan"], reason="平面图不清", now=NOW,
        )  # fmt: skip
        done = []
        for _ in range(2):
            number = intake.accept(
                s, actor=clerk, request=request_for("elderly-allowance"), now=NOW
            ).tracking_no
            for task, dep in (("township", "township-civil"), ("county", "county-civil")):
                tasks.approve(s, actor=place.officer(dep), task_id=f"{number}/{task}", now=NOW)
            done.append(number)
        cases.deliver(s, actor=clerk, tracking_no=done[1], now=NOW)
    place.cases = {
        "open": opened, "supplement": waiting.tracking_no, "completed": done[0],
        "delivered": done[1],
    }  # fmt: skip


def _revoked_clerk_signs(a: Place) -> tuple[str, int]:
    """A's admin revokes a second clerk, who then signs with the key they kept: held."""
    admin = a.staff["admin"]
    with writing(a.engine) as s:
        office.add_operator(
            s, actor=admin, key_dir=a.key_dir, username="clerk2", name="离职者", role="clerk",
            departments=[], password=PASSWORD, now=NOW,
        )  # fmt: skip
    with reading(a.engine) as s:
        gone = login(s, key_dir=a.key_dir, username="clerk2", password=PASSWORD)
    with writing(a.engine) as s:
        office.revoke_operator(s, actor=admin, username="clerk2", reason="离职", now=NOW)
        body = {"tracking_no": a.cases["open"], "material": "staff-health"}
        appended = eventlog.append(
            s, signer=gone.signer, actor=gone.username, origin=a.code,
            type="material.received", body=body, now=NOW,
        )  # fmt: skip
        held = (appended.event.origin, appended.event.seq)
        assert s.get(HeldEvent, held) is not None
    return held


def build_world(root: Path) -> World:
    """Open the three offices, link them, fill them with cases and push the townships up."""

    def engine(name: str) -> Engine:
        eng = make_engine(f"sqlite:///{root / name}.db")
        upgrade(eng)
        return eng

    county_engine, county_keys = engine("county"), root / "county-keys"
    county_admin = open_level(county_engine, county_keys, COUNTY, "county-admin")
    county = Place(
        COUNTY.code, county_engine, county_keys,
        _staff_county(county_engine, county_keys, county_admin),
    )  # fmt: skip
    a, b = _town(engine("a"), root / "a-keys", TOWN_A), _town(engine("b"), root / "b-keys", TOWN_B)
    keys = {}
    for town in (a, b):
        hall = Hall(
            town.engine, town.key_dir, town.staff["admin"], town.staff["clerk"],
            town.staff["supervisor"], town.staff["auditor"], {},
        )  # fmt: skip
        keys[town.code] = (hall, link(county_engine, county_admin, county_keys, hall))
        _build_cases(town)
    _build_cases(county)
    held = _revoked_clerk_signs(a)
    county_key = officekey.load(county_keys, COUNTY.code)
    for hall, key in keys.values():
        with writing(county_engine) as s:
            receive.accept(s, batch_of(hall, key), office_key=county_key)
    with writing(county_engine) as s:  # the county's fire bureau takes A's fire task itself
        tasks.claim(s, actor=county.officer("fire"), task_id=f"{a.cases['open']}/fire", now=NOW)
    return World(a, b, county, keys[TOWN_A][1], county_key, held)


def fingerprint(engine: Engine) -> str:
    """A digest of the signed log (every event's place and hash) and of how many rows every
    table holds: equal before and after means nothing was written."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        log = connection.execute(text("SELECT origin, seq, hash FROM event ORDER BY id"))
        digest.update(repr(log.all()).encode())
        for table in SQLModel.metadata.sorted_tables:
            count = connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar()
            digest.update(f"{table.name}:{count}".encode())
    return digest.hexdigest()


@contextmanager
def trial(engine: Engine) -> Iterator[Session]:
    """A write transaction that is always rolled back: an allowed action leaves no trace."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def last_event(session: Session, origin: str) -> dict[str, Any] | None:
    """The envelope of the newest event of ``origin`` in ``session`` (None if there is none)."""
    session.flush()
    row = session.scalars(
        select(Event).where(col(Event.origin) == origin).order_by(col(Event.seq).desc())
    ).first()
    return eventlog.decode(row.payload) if row is not None else None


def forge(
    engine: Engine,
    origin: str,
    actor: Actor,
    kind: str,
    body: dict[str, Any],
    after: WireEvent | None = None,
) -> WireEvent:
    """The next event of ``origin`` (or the one ``after`` a forged one), signed with
    ``actor``'s own key whatever its services say: an insider's forgery, canonical and chained
    like a genuine event."""
    if after is not None:
        seq, prev = eventlog.decode(after.payload)["seq"] + 1, sha256_hex(after.payload)
    else:
        with reading(engine) as session:
            head = session.get(ChainHead, origin)
            assert head is not None
            seq, prev = head.seq + 1, head.hash
    envelope = {
        "v": ENVELOPE_VERSION, "origin": origin, "seq": seq, "prev": prev, "type": kind,
        "ts": eventlog.timestamp(LATER), "actor": actor.username, "key_id": actor.signer.key_id,
        "alg": ALG_ED25519, "body": body,
    }  # fmt: skip
    payload = canonical(envelope)
    return WireEvent(payload, actor.signer.sign(payload))


def push(world: World, wires: list[WireEvent], session: Session) -> receive.Accepted:
    """Offer events of A to the county, in a batch signed by A's office key."""
    batch = Batch.sign(TOWN_A, wires, world.a_key)
    return receive.accept(session, batch, office_key=world.county_key)
