"""A county takes the township's signed log: all or nothing, idempotent, forks refused."""

from __future__ import annotations

import random
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
import zstandard
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Application, ChainHead, Event, SyncCursor, SyncFork, Task
from sync.receive import Accepted, ForkRefused, accept, record_fork
from sync.wire import MAX_WIRE_BYTES, Batch, Receipt, WireEvent
from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from tests.levels import batch_of, enrol_township, events, open_county, wire_events
from workstation import eventlog, officekey, rebuild
from workstation.crypto import Signer, canonical, sha256_hex
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import SyncRefused
from workstation.eventlog import decode
from workstation.services import enrolment, intake, tasks
from workstation.services.auth import Actor
from workstation.verify import verify_log


@pytest.fixture
def township(tmp_path: Path) -> Hall:
    """A township office on its own SQLite file, with three applications and a decision."""
    engine = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(engine)
    hall = open_hall(engine, tmp_path / "township-keys")
    with writing(engine) as session:
        numbers = [
            intake.accept(
                session,
                actor=hall.clerk,
                request=request_for("hotel-open", rng=random.Random(seed)),
                now=NOW,
            ).tracking_no
            for seed in range(3)
        ]
    with writing(engine) as session:
        tasks.approve(session, actor=hall.officer("fire"), task_id=f"{numbers[0]}/fire",
                      permit_no="FIR000001", now=NOW)  # fmt: skip
    return hall


@pytest.fixture
def county(engine: Engine, tmp_path: Path) -> tuple[Engine, Actor, Signer]:
    """The county (SQLite and PostgreSQL): its engine, administrator and office key."""
    admin = open_county(engine, tmp_path / "county-keys")
    return engine, admin, officekey.load(tmp_path / "county-keys", admin.office_code)


def push(county: tuple[Engine, Actor, Signer], batch: Batch) -> Accepted:
    """The county takes ``batch`` in one transaction."""
    engine, _, key = county
    with writing(engine) as session:
        return accept(session, batch, office_key=key)


def refused(county: tuple[Engine, Actor, Signer], batch: Batch, key: str) -> SyncRefused:
    """``batch`` is refused with ``key`` and the county's log does not change."""
    before = events(county[0])
    with pytest.raises(SyncRefused) as info:
        push(county, batch)
    assert info.value.key == key, info.value
    assert info.value.message("zh_CN") and info.value.message("en")
    assert events(county[0]) == before
    return info.value


def projections(engine: Engine, origin: str) -> tuple[object, ...]:
    """The township's applications and tasks as a database holds them."""
    with reading(engine) as session:
        apps = sorted(
            (a.tracking_no, a.status, a.due_date, a.accepted_by)
            for a in session.scalars(select(Application).where(col(Application.origin) == origin))
        )
        task_rows = sorted(
            (t.id, t.state, t.due_date, t.decided_by, t.permit_no)
            for t in session.scalars(select(Task))
            if t.tracking_no.startswith(origin)
        )
    return tuple(apps), tuple(task_rows)


def test_the_county_takes_the_whole_log_once_and_answers_with_a_signed_receipt(
    county: tuple[Engine, Actor, Signer], township: Hall
) -> None:
    engine, admin, county_key = county
    office_key = enrol_township(engine, admin, township)
    code = township.admin.office_code
    batch = Batch.decode(batch_of(township, office_key).encode())
    held = events(engine)

    first = push(county, batch)
    assert (first.stored, first.skipped) == (len(batch.events), 0)
    assert events(engine) == held + len(batch.events)
    with reading(township.engine) as session:
        head = session.get(ChainHead, code)
        assert head is not None
    assert first.receipt.heads == {code: (head.seq, head.hash)}
    assert first.receipt.verifies(county_key.public_key)
    assert not replace(first.receipt, heads={code: (head.seq - 1, head.hash)}).verifies(
        county_key.public_key
    )
    assert projections(engine, code) == projections(township.engine, code)
    with reading(engine) as session:
        assert verify_log(session).ok
        assert rebuild.check(session) == []
        cursor = session.get(SyncCursor, (code, code, "in"))
        assert cursor is not None and (cursor.seq, cursor.hash) == (head.seq, head.hash)
        # Signatures travel untouched: each stored row is the township's own.
        theirs = {(w.payload, w.signature) for w in wire_events(township.engine)}
        ours = {
            (e.payload, e.signature)
            for e in session.scalars(select(Event).where(col(Event.origin) == code))
        }
        assert ours == theirs

    again = push(county, batch)
    assert (again.stored, again.skipped) == (0, len(batch.events))
    assert events(engine) == held + len(batch.events)


def test_a_push_cut_short_resumes_where_it_stopped(
    county: tuple[Engine, Actor, Signer], township: Hall
) -> None:
    engine, admin, _ = county
    office_key = enrol_township(engine, admin, township)
    wire = wire_events(township.engine)
    half = len(wire) // 2
    assert push(county, batch_of(township, office_key, wire[:half])).stored == half
    gap = refused(county, batch_of(township, office_key, wire[: half - 1] + wire[half + 1 :]),
                  "error.sync.gap")  # fmt: skip
    assert (gap.params["index"], gap.params["seq"], gap.params["want"]) == (
        half - 1,
        half + 2,
        half + 1,
    )
    # People count the batch's events from 1, as a bundle numbers its records.
    assert gap.message("en").startswith(f"Event {half} is number {half + 2} ")
    assert gap.message("zh_CN").startswith(f"第 {half} 条事件")
    rest = push(county, batch_of(township, office_key, wire))
    assert (rest.stored, rest.skipped) == (len(wire) - half, half)


def test_what_the_county_refuses(
    county: tuple[Engine, Actor, Signer], township: Hall, tmp_path: Path
) -> None:
    engine, admin, _ = county
    wire = wire_events(township.engine)
    stranger = Signer.generate()
    refused(county, batch_of(township, stranger, wire), "error.sync.unenrolled")
    office_key = enrol_township(engine, admin, township)
    refused(county, batch_of(township, stranger, wire), "error.sync.batch_signature")
    signed = batch_of(township, office_key, wire)
    refused(county, replace(signed, events=signed.events[:-1]), "error.sync.batch_signature")

    # One event changed after signing: not canonical, or not what its operator signed.
    envelope = decode(wire[1].payload)
    envelope["body"] = {**envelope["body"], "extra": 1}
    forged = [wire[0], WireEvent(canonical(envelope), wire[1].signature), *wire[2:]]
    refused(county, batch_of(township, office_key, forged), "error.sync.signature")
    spaced = [wire[0], WireEvent(wire[1].payload + b" ", wire[1].signature), *wire[2:]]
    refused(county, batch_of(township, office_key, spaced), "error.sync.event_not_canonical")
    # Signed by a key nobody registered.
    envelope = decode(wire[1].payload)
    envelope["key_id"] = stranger.key_id
    payload = canonical(envelope)
    unknown = [wire[0], WireEvent(payload, stranger.sign(payload)), *wire[2:]]
    refused(county, batch_of(township, office_key, unknown), "error.sync.unknown_key")
    # An event of an office that is not below the sender.
    envelope = decode(wire[0].payload)
    envelope["origin"] = "999999"
    elsewhere = [WireEvent(canonical(envelope), wire[0].signature)]
    refused(county, batch_of(township, office_key, elsewhere), "error.sync.foreign_origin")

    with writing(engine) as session:
        enrolment.revoke(session, actor=admin, code=township.admin.office_code,
                         reason="机器丢失", now=NOW)  # fmt: skip
    refused(county, batch_of(township, office_key, wire), "error.sync.revoked")


def test_a_rewritten_history_is_a_fork_refused_and_recorded(
    county: tuple[Engine, Actor, Signer], township: Hall
) -> None:
    engine, admin, _ = county
    office_key = enrol_township(engine, admin, township)
    wire = wire_events(township.engine)
    push(county, batch_of(township, office_key, wire))
    # With the operator's key in hand, the township rewrites its newest event and re-signs it.
    envelope = decode(wire[-1].payload)
    envelope["body"] = {**envelope["body"], "permit_no": "FIR999999"}
    payload = canonical(envelope)
    rewritten = WireEvent(payload, township.officer("fire").signer.sign(payload))
    before = events(engine)
    with pytest.raises(ForkRefused) as info:
        push(county, batch_of(township, office_key, [*wire[:-1], rewritten]))
    assert events(engine) == before
    with writing(engine) as session:
        record_fork(session, info.value, NOW)
    with reading(engine) as session:
        [fork] = session.scalars(select(SyncFork))
        assert (fork.origin, fork.seq, fork.sender) == (
            township.admin.office_code,
            len(wire),
            township.admin.office_code,
        )
        assert fork.stored_hash != fork.offered_hash


def test_an_older_senders_batch_is_taken_and_answered_in_its_own_version(
    county: tuple[Engine, Actor, Signer], township: Hall
) -> None:
    """A township not yet upgraded sends version 1 (base64, deflate); its receipt is signed
    in version 1 too, and read back so from JSON that does not name a version."""
    engine, admin, county_key = county
    office_key = enrol_township(engine, admin, township)
    current = batch_of(township, office_key)
    old = Batch.sign(current.sender, list(current.events), office_key, current.after,
                     current.upto, version=1)  # fmt: skip
    taken = push(county, Batch.decode(old.encode()))
    assert taken.stored == len(old.events) and taken.receipt.version == 1
    as_sent = {k: v for k, v in taken.receipt.to_json().items() if k != "v"}
    assert Receipt.from_json(as_sent).verifies(county_key.public_key)
    assert not replace(taken.receipt, version=2).verifies(county_key.public_key)


def _zstd(data: bytes, *, size: bool = True) -> bytes:
    return zstandard.ZstdCompressor(level=3, write_content_size=size).compress(data)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"not deflated", "error.sync.malformed"),
        (zlib.compress(b"[1, 2]"), "error.sync.malformed"),
        (zlib.compress(canonical({"v": 99})), "error.sync.version"),
        (zlib.compress(canonical({"v": 1, "events": [{"p": "!!"}]})), "error.sync.malformed"),
        (zlib.compress(canonical({"v": True})), "error.sync.version"),
        (_zstd(canonical({"v": 2, "events": [{"p": 7}]})), "error.sync.malformed"),
        (_zstd(canonical({"v": 2})) + b"\x00", "error.sync.malformed"),  # bytes after it
        (_zstd(canonical({"v": 2}))[:-2], "error.sync.malformed"),  # cut short
        (_zstd(b"[1, 2]"), "error.sync.malformed"),
        (_zstd(canonical({"v": 2}), size=False), "error.sync.malformed"),  # says no size
        (_zstd(b" " * (MAX_WIRE_BYTES + 1)), "error.sync.malformed"),  # a bomb, not unpacked
    ],
)
def test_a_malformed_batch_is_refused_before_anything_is_read(data: bytes, key: str) -> None:
    with pytest.raises(SyncRefused) as info:
        Batch.decode(data)
    assert info.value.key == key


@pytest.mark.parametrize(
    ("signer", "task"),
    [
        ("clerk", "fire"),  # a clerk's key approving a task
        ("o-market", "fire"),  # an officer of another department
        ("super", "fire"),  # a supervisor decides nothing
    ],
)
def test_an_approval_signed_without_the_right_is_refused_upstream(
    county: tuple[Engine, Actor, Signer], township: Hall, signer: str, task: str
) -> None:
    engine, admin, _ = county
    office_key = enrol_township(engine, admin, township)
    with writing(township.engine) as session:
        number = intake.accept(
            session, actor=township.clerk, request=request_for("hotel-open"), now=NOW
        ).tracking_no
    who = {"clerk": township.clerk, "super": township.supervisor}.get(signer) or next(
        actor for actor in township.officers.values() if actor.username == signer
    )
    with writing(township.engine) as session:
        # Written straight into the log, as a thief with that key would: the services refuse.
        eventlog.append(
            session, signer=who.signer, actor=who.username, origin=township.admin.office_code,
            type="task.approved",
            body={"task": f"{number}/{task}", "permit_no": "X", "opens": [], "completed": False},
            now=NOW,
        )  # fmt: skip
    refused(county, batch_of(township, office_key), "error.sync.not_allowed")


def test_every_rewrite_of_a_receipted_event_is_caught(
    county: tuple[Engine, Actor, Signer], township: Hall
) -> None:
    """With the office key and the operators' keys in hand, rewrite and re-sign: 100 of 100."""
    engine, admin, _ = county
    office_key = enrol_township(engine, admin, township)
    wire = wire_events(township.engine)
    push(county, batch_of(township, office_key, wire))
    signers = {
        actor.username: actor.signer
        for actor in (township.admin, township.clerk, township.supervisor, township.auditor,
                      *township.officers.values())
    }  # fmt: skip
    before, rng, caught = events(engine), random.Random(100), 0
    for trial in range(100):
        at = rng.randrange(len(wire))
        envelope = decode(wire[at].payload)
        envelope["body"] = {**envelope["body"], "rewritten": trial}
        payload = canonical(envelope)
        rewritten = WireEvent(payload, signers[envelope["actor"]].sign(payload))
        try:
            push(county, batch_of(township, office_key, [*wire[:at], rewritten]))
        except ForkRefused as fork:
            caught += fork.fork.seq == at + 1
    assert caught == 100
    # Truncated and re-extended: the last three events replaced by others, properly chained.
    cut = len(wire) - 3
    previous = decode(wire[cut - 1].payload)
    envelope = decode(wire[cut].payload)
    envelope["prev"] = sha256_hex(canonical(previous))
    envelope["body"] = {**envelope["body"], "another": "history"}
    payload = canonical(envelope)
    other = WireEvent(payload, signers[envelope["actor"]].sign(payload))
    with pytest.raises(ForkRefused) as refused:
        push(county, batch_of(township, office_key, [*wire[:cut], other]))
    assert refused.value.fork.seq == cut + 1
    assert events(engine) == before
