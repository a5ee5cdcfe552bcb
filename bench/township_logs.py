"""The townships of the townships row: SQLite files opened by the services and grown to E
signed events each, built once per run and copied (SQLite's backup API) for every round.

A township is ``init_office`` with the demo catalog, a clerk and a fire officer, its office key
and the county as its upstream; then one application, and the fire task claimed and released
in turn until its log holds E events. The county's office key is made here, once, and reused
by every round's county, so what the townships recorded of their upstream stays true.
Operators' keys use scrypt at 2**10 while they are made, as the test suite's do (the
production cost guards passwords and is not what this row measures); the cost is put back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.lib import Note, stopwatch
from bench.places import copy_sqlite
from models import ChainHead
from tests.conftest import COUNTY as PARENT
from tests.conftest import NOW, OFFICE, PASSWORD
from tests.factories import request_for
from tests.levels import COUNTY
from workstation import crypto, officekey
from workstation.catalog import load_catalog
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import enrolment, intake, office, tasks
from workstation.services.auth import login
from workstation.services.enrolment import OfficeCard


@dataclass(frozen=True)
class Township:
    """One township, built once: its untouched database, keys, card and head."""

    code: str
    database: Path
    key_dir: Path
    card: OfficeCard
    head: int


def county_card(key_dir: Path) -> OfficeCard:
    """The county's office key (made once, kept for every round's county); its card."""
    signer = officekey.create(key_dir, COUNTY.code)
    return OfficeCard(
        COUNTY.code, COUNTY.name, COUNTY.level, signer.key_id, signer.public_key.hex()
    )


def build_township(
    template: Path, where: Path, number: int, events: int, upstream: OfficeCard
) -> Township:
    """A township opened by the services, linked to ``upstream`` and grown to ``events``."""
    code = f"{PARENT.code}{number:03d}"
    database, key_dir = where / f"{code}.db", where / f"{code}-keys"
    copy_sqlite(template, database)
    engine = make_engine(f"sqlite:///{database}")
    spec = office.OfficeSpec(code, f"{OFFICE.name}（{code}）", OFFICE.level)
    try:
        with writing(engine) as session:
            admin = office.init_office(
                session,
                key_dir=key_dir,
                office=spec,
                parent=PARENT,
                admin_username="admin",
                admin_name="管理员",
                admin_password=PASSWORD,
                now=NOW,
            )
            office.publish_catalog(session, actor=admin, catalog=load_catalog(), now=NOW)
            for username, role, departments in (
                ("clerk", "clerk", []),
                ("fire", "officer", ["fire"]),
            ):
                office.add_operator(
                    session,
                    actor=admin,
                    key_dir=key_dir,
                    username=username,
                    name=f"{username}员",
                    role=role,
                    departments=departments,
                    password=PASSWORD,
                    now=NOW,
                )
            enrolment.register_office_key(session, actor=admin, key_dir=key_dir, now=NOW)
            enrolment.register_upstream(session, actor=admin, card=upstream, now=NOW)
        with reading(engine) as session:
            clerk = login(session, key_dir=key_dir, username="clerk", password=PASSWORD)
            fire = login(session, key_dir=key_dir, username="fire", password=PASSWORD)
            card = enrolment.office_card(session)
        with writing(engine) as session:
            request = request_for("hotel-open")
            number_ = intake.accept(session, actor=clerk, request=request, now=NOW).tracking_no
            head = session.get(ChainHead, code)
            assert head is not None
            for step in range(max(events - head.seq, 0)):
                act = tasks.claim if step % 2 == 0 else tasks.release
                act(session, actor=fire, task_id=f"{number_}/fire", now=NOW)
        with reading(engine) as session:
            head = session.get(ChainHead, code)
            assert head is not None
            return Township(code, database, key_dir, card, head.seq)
    finally:
        engine.dispose()


def build(where: Path, count: int, events: int, note: Note) -> tuple[list[Township], Path, float]:
    """``count`` townships of ``events`` each; them, the county's key folder, seconds each."""
    cost, crypto.SCRYPT_N = crypto.SCRYPT_N, 2**10  # see the module's docstring
    template, county_keys = where / "template.db", where / "county-keys"
    upgrade_engine = make_engine(f"sqlite:///{template}")
    upgrade(upgrade_engine)
    upgrade_engine.dispose()
    upstream = county_card(county_keys)
    built: list[Township] = []
    try:
        with stopwatch() as took:
            for number in range(1, count + 1):
                if number % 10 == 1:
                    note(f"building township {number}/{count}")
                built.append(build_township(template, where, number, events, upstream))
    finally:
        crypto.SCRYPT_N = cost
    return built, county_keys, took[0] / count
