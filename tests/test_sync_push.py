"""The township's side of a push: batches from the cursor, receipts checked, cursors moved."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Event, SyncReceipt
from sync.outgoing import next_batch, rewind, take_receipt
from sync.receive import accept
from sync.wire import Receipt
from tests.conftest import NOW, Hall
from tests.factories import request_for
from tests.levels import link, open_county
from workstation import officekey
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import SyncRefused
from workstation.services import enrolment, intake, outbox
from workstation.services.auth import Actor
from workstation.services.outbox import receipted


@pytest.fixture
def county(engine: Engine, tmp_path: Path) -> tuple[Engine, Actor, Signer]:
    """The county (SQLite and PostgreSQL): its engine, administrator and office key."""
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    return engine, admin, officekey.load(keys, admin.office_code)


def accept_some(hall: Hall, count: int, seed: int = 0) -> None:
    """``count`` hotel applications at the township window."""
    with writing(hall.engine) as session:
        for n in range(count):
            request = request_for("hotel-open", rng=random.Random(seed * 1000 + n))
            intake.accept(session, actor=hall.clerk, request=request, now=NOW)


def round_trip(hall: Hall, county: tuple[Engine, Actor, Signer], key: Signer, limit: int) -> int:
    """One batch up and its receipt back; how many events the receipt covered (0: nothing)."""
    with reading(hall.engine) as session:
        batch = next_batch(session, key, limit=limit)
    if batch is None:
        return 0
    with writing(county[0]) as session:
        answer = accept(session, batch, office_key=county[2])
    with writing(hall.engine) as session:
        return take_receipt(session, answer.receipt, now=NOW)


def waiting(hall: Hall) -> int:
    """Events of the township the county has not receipted (the header's figure)."""
    with reading(hall.engine) as session:
        return outbox.waiting(session)


def test_batches_follow_the_cursor_until_nothing_waits(
    county: tuple[Engine, Actor, Signer], township: Hall, tmp_path: Path
) -> None:
    key = link(county[0], county[1], tmp_path / "county-keys", township)
    accept_some(township, 5)
    total = waiting(township)
    assert total > 20
    moved = []
    while step := round_trip(township, county, key, limit=7):
        moved.append(step)
    assert sum(moved) == total and max(moved) == 7
    assert waiting(township) == 0
    with reading(township.engine) as session:
        assert next_batch(session, key) is None
        code = township.admin.office_code
        assert receipted(session, code) == total
        [stored] = session.scalars(select(SyncReceipt))
        assert Receipt.from_json(json.loads(stored.document)).verifies(county[2].public_key)
    # New work goes up on the next round, and only the new work.
    accept_some(township, 1, seed=9)
    fresh = waiting(township)
    assert round_trip(township, county, key, limit=500) == fresh


def test_receipts_the_township_does_not_trust(
    county: tuple[Engine, Actor, Signer], township: Hall, tmp_path: Path
) -> None:
    key = link(county[0], county[1], tmp_path / "county-keys", township)
    with reading(township.engine) as session:
        batch = next_batch(session, key)
    assert batch is not None
    with writing(county[0]) as session:
        receipt = accept(session, batch, office_key=county[2]).receipt
    code = township.admin.office_code
    seq, digest = receipt.heads[code]
    forged = [
        (Receipt.sign(receipt.receiver, code, receipt.heads, Signer.generate()), "receipt_key"),
        (replace(receipt, heads={code: (seq + 5, digest)}), "receipt_signature"),
        (
            Receipt.sign(receipt.receiver, code, {code: (seq, "0" * 64)}, county[2]),
            "receipt_contradicts",
        ),
    ]
    for bad, reason in forged:
        with pytest.raises(SyncRefused) as info, writing(township.engine) as session:
            take_receipt(session, bad, now=NOW)
        assert info.value.key == f"error.sync.{reason}"
    assert waiting(township) == seq

    with writing(township.engine) as session:
        take_receipt(session, receipt, now=NOW)
    assert waiting(township) == 0
    # The county restored an old backup: its receipt says less; the tail is sent again.
    older = Receipt.sign(
        receipt.receiver, code, {code: (seq - 3, _hash_of(township, seq - 3))}, county[2]
    )
    with writing(township.engine) as session:
        take_receipt(session, older, now=NOW)
    assert waiting(township) == 3


def _hash_of(hall: Hall, seq: int) -> str:
    """The hash of the township's event number ``seq``."""
    with reading(hall.engine) as session:
        row = session.scalars(
            select(Event).where(col(Event.origin) == hall.admin.office_code, col(Event.seq) == seq)
        ).one()
        return row.hash


def test_an_upstream_that_lost_events_says_so_and_the_tail_goes_again(
    county: tuple[Engine, Actor, Signer], township: Hall, tmp_path: Path
) -> None:
    key = link(county[0], county[1], tmp_path / "county-keys", township)
    while round_trip(township, county, key, limit=500):
        pass
    accept_some(township, 1, seed=3)
    # The county is restored from a backup taken before any of it: a new database.
    restored = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    upgrade(restored)
    keys = tmp_path / "county-keys"  # the backup comes back on the same machine, same key
    admin = open_county(restored, keys)
    with reading(township.engine) as session:
        card = enrolment.office_card(session)
    with writing(restored) as session:
        enrolment.enrol(session, actor=admin, card=card, now=NOW)
    again = (restored, admin, officekey.load(keys, admin.office_code))
    with reading(township.engine) as session:
        batch = next_batch(session, key)
    assert batch is not None and batch.after
    with pytest.raises(SyncRefused) as info, writing(restored) as session:
        accept(session, batch, office_key=again[2])
    assert info.value.key == "error.sync.prerequisite" and info.value.params["have"] == 0
    with writing(township.engine) as session:
        assert rewind(session, township.admin.office_code, 0)
    everything = waiting(township)
    assert round_trip(township, again, key, limit=10_000) == everything
