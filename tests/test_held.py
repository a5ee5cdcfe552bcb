"""A key's revocation: what it signed before counts; what it signs after is held for review.

The township revokes its clerk's key. An event signed with that key afterwards (a stolen key,
a backdated signature) is still part of the township's chain, so it travels and is stored,
but neither office applies it: it waits for a supervisor, who admits or refuses it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Application, CaseEvent, HeldEvent
from sync.outgoing import next_batch
from sync.receive import accept
from tests.conftest import NOW, PASSWORD, Hall
from tests.levels import link, open_county
from tests.test_sync_pull import accepted, push_all, township_at
from workstation import eventlog, officekey, rebuild
from workstation.db import reading, writing
from workstation.errors import Conflict, NotFound, PermissionDenied
from workstation.services import held, office
from workstation.services.auth import Actor, login
from workstation.verify import verify_log


def withdrawal_signed_by_the_revoked_clerk(hall: Hall, number: str) -> None:
    """What a thief with the clerk's key writes into the township's log after the revocation."""
    with writing(hall.engine) as session:
        eventlog.append(
            session, signer=hall.clerk.signer, actor="clerk", origin=hall.admin.office_code,
            type="application.withdrawn",
            body={"tracking_no": number, "reason": "伪造", "closes": []},
            now=NOW - timedelta(days=3),  # backdated: proves nothing
        )  # fmt: skip


def county_supervisor(county: Engine, admin: Actor, keys: Path) -> Actor:
    """A supervisor registered at the county, logged in."""
    with writing(county) as session:
        office.add_operator(
            session, actor=admin, key_dir=keys, username="c-super", name="区督查",
            role="supervisor", departments=[], password=PASSWORD, now=NOW,
        )  # fmt: skip
    with reading(county) as session:
        return login(session, key_dir=keys, username="c-super", password=PASSWORD)


def status(engine: Engine, number: str) -> str:
    """An application's status as ``engine`` holds it."""
    with reading(engine) as session:
        application = session.get(Application, number)
        assert application is not None
        return application.status


def sound(engine: Engine) -> None:
    """The log verifies and the projections are exactly its replay."""
    with reading(engine) as session:
        report = verify_log(session)
        assert report.ok, report.problem
        assert rebuild.check(session) == []


def test_a_revoked_key_counts_before_its_revocation_and_is_held_after(
    engine: Engine, tmp_path: Path
) -> None:
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    county_key = officekey.load(keys, admin.office_code)
    township = township_at(tmp_path, "township", "610102001")
    link(engine, admin, keys, township)
    before, other = accepted(township, 1), accepted(township, 2)
    with writing(township.engine) as session:
        office.revoke_operator(
            session, actor=township.admin, username="clerk", reason="钥匙丢失", now=NOW
        )
    withdrawal_signed_by_the_revoked_clerk(township, before)
    withdrawal_signed_by_the_revoked_clerk(township, other)

    # The township itself does not apply it ...
    assert status(township.engine, before) == "in_progress"
    # ... and the county stores the whole chain but holds the two events.
    key = officekey.load(township.key_dir, township.admin.office_code)
    with reading(township.engine) as session:
        batch = next_batch(session, key)
    assert batch is not None
    with writing(engine) as session:
        done = accept(session, batch, office_key=county_key)
    assert done.held == 2
    push_all(township, engine, county_key)
    for where in (township.engine, engine):
        assert status(where, before) == status(where, other) == "in_progress"
        with reading(where) as session:
            pending = held.held_events(session, actor=township.supervisor)
            assert [(h.type, h.actor, h.subject) for h in pending] == [
                ("application.withdrawn", "clerk", before),
                ("application.withdrawn", "clerk", other),
            ]
            outcomes = session.scalars(
                select(col(CaseEvent.outcome)).where(col(CaseEvent.tracking_no) == before)
            )
            assert sorted(outcomes) == ["applied", "quarantined"]
        sound(where)

    supervisor = county_supervisor(engine, admin, keys)
    first, second = (h.seq for h in pending)
    origin = township.admin.office_code
    with writing(engine) as session:
        held.decide(
            session, actor=supervisor, origin=origin, seq=first, admit=True,
            reason="申请人当面确认撤回", now=NOW,
        )  # fmt: skip
        held.decide(
            session, actor=supervisor, origin=origin, seq=second, admit=False,
            reason="无法核实", now=NOW,
        )  # fmt: skip
    assert (status(engine, before), status(engine, other)) == ("withdrawn", "in_progress")
    with reading(engine) as session:
        assert held.held_events(session, actor=township.supervisor) == []
        decided = session.scalars(select(HeldEvent).order_by(col(HeldEvent.seq))).all()
        assert [(h.resolution, h.resolved_by) for h in decided] == [
            ("admitted", "c-super"),
            ("refused", "c-super"),
        ]
    sound(engine)


def test_what_a_review_refuses(hall: Hall) -> None:
    number = accepted(hall, 3)
    with writing(hall.engine) as session:
        office.revoke_operator(session, actor=hall.admin, username="clerk", reason="离职", now=NOW)
    with writing(hall.engine) as session, pytest.raises(Conflict) as again:
        office.revoke_operator(session, actor=hall.admin, username="clerk", reason="再", now=NOW)
    assert again.value.key == "error.operator.revoked"
    with writing(hall.engine) as session, pytest.raises(Conflict) as own:
        office.revoke_operator(session, actor=hall.admin, username="admin", reason="x", now=NOW)
    assert own.value.key == "error.operator.revoke_self"
    withdrawal_signed_by_the_revoked_clerk(hall, number)
    with reading(hall.engine) as session:
        (row,) = held.held_events(session, actor=hall.supervisor)
    cases = [
        (hall.clerk, row.origin, row.seq, PermissionDenied, "error.permission.role"),
        (hall.supervisor, row.origin, row.seq + 99, NotFound, "error.held.unknown"),
    ]
    for actor, origin, seq, error, key in cases:
        with writing(hall.engine) as session, pytest.raises(error) as refused:
            held.decide(
                session, actor=actor, origin=origin, seq=seq, admit=True, reason="r", now=NOW
            )
        assert refused.value.key == key
    with writing(hall.engine) as session:
        held.decide(
            session, actor=hall.supervisor, origin=row.origin, seq=row.seq, admit=False,
            reason="伪造", now=NOW,
        )  # fmt: skip
    with writing(hall.engine) as session, pytest.raises(Conflict) as twice:
        held.decide(
            session, actor=hall.supervisor, origin=row.origin, seq=row.seq, admit=True,
            reason="r", now=NOW,
        )  # fmt: skip
    assert twice.value.key == "error.held.decided"
    assert status(hall.engine, number) == "in_progress"
    sound(hall.engine)
