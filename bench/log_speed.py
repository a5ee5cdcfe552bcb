"""The signed log read back: ``verify`` on one core and on two, and ``rebuild`` into projections.

A township log of mixed work (applications accepted through intake, their tasks claimed,
released and approved) is grown once through the services and kept in ``bench/.cache``. Then,
round by round and turn about with its limit:

* ``verify`` on one core, beside Ed25519 verification of the same (key, signature, payload)
  triples alone in a plain loop (pyca/cryptography): the part no verifier can skip;
* ``verify`` on two worker processes, beside twice the one-core figure of the same round;
* ``rebuild.check`` (the log replayed into fresh projections), beside SQLAlchemy Core
  ``insert()`` executemany of the very rows it produced into empty tables of the same schema.

Operators' keys are made with ``workstation.crypto.SCRYPT_N = 2**10`` (as the test suite does):
scrypt guards the key files, and no figure here measures it.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import resource
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bench.lib import Figure, Note, Row, Size, Spread, interleave, rate, stopwatch
from bench.places import CACHE
from models import PROJECTIONS, Event, Task
from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from workstation import crypto, rebuild
from workstation.crypto import key_id
from workstation.db import make_engine, reading, upgrade, writing
from workstation.eventlog import decode
from workstation.services import intake, tasks
from workstation.verify import verify_log

MATTERS = ("subsistence-allowance", "hotel-open")
"""A person's matter with one task and a business's with several that open in turn."""
PERMIT = "BENCH0001"
QUICK_EVENTS = 5_000
PROFILED_EVENTS = 1_000


def _events(engine: Engine) -> int:
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _work_one(hall: Hall, rng: random.Random, step: int) -> None:
    """One application accepted, then each of its tasks claimed, released, claimed, approved."""
    now = NOW + timedelta(minutes=step)
    request = request_for(MATTERS[step % len(MATTERS)], rng=rng)
    with writing(hall.engine) as session:
        number = intake.accept(session, actor=hall.clerk, request=request, now=now).tracking_no
        for _ in range(8):  # tasks that open after others are approved come round again
            open_tasks = list(
                session.scalars(
                    select(Task).where(col(Task.tracking_no) == number, col(Task.state) == "open")
                )
            )
            if not open_tasks:
                break
            for task in open_tasks:
                officer = hall.officer(task.department_code)
                tasks.claim(session, actor=officer, task_id=task.id, now=now)
                tasks.release(session, actor=officer, task_id=task.id, now=now)
                tasks.claim(session, actor=officer, task_id=task.id, now=now)
                tasks.approve(session, actor=officer, task_id=task.id, permit_no=PERMIT, now=now)


def grow(where: Path, events: int, note: Note) -> None:
    """A township log of at least ``events`` events of mixed work, in ``where/office.db``."""
    where.mkdir(parents=True)
    engine = make_engine(f"sqlite:///{where / 'office.db'}")
    upgrade(engine)
    hall = open_hall(engine, where / "keys")
    rng, step = random.Random(5), 0
    have = _events(engine)
    while have < events:
        # About twenty events an application: near the end, one at a time, so as not to overshoot.
        for _ in range(min(50, max(1, (events - have) // 25))):
            _work_one(hall, rng, step)
            step += 1
        have = _events(engine)
        note(f"growing the log: {have:,}/{events:,} events")
    engine.dispose()


def profiled_log(note: Note) -> AbstractContextManager[Path]:
    """A small log of the same mix, for cProfile (which would take long on a big one)."""
    return grown_log(PROFILED_EVENTS, note)


@contextmanager
def grown_log(events: int, note: Note) -> Iterator[Path]:
    """The SQLite file of a log of ``events`` events, grown once and kept in the cache."""
    home = CACHE / f"log-{events}"
    if not (home / "office.db").exists():
        crypto.SCRYPT_N = 2**10  # cheap key files: no figure here measures scrypt
        growing = CACHE / f"log-{events}.growing"
        shutil.rmtree(growing, ignore_errors=True)
        grow(growing, events, note)
        growing.rename(home)  # only a whole log is ever kept
    # A log cached by an older schema takes the newer migrations, as the app's start would.
    engine = make_engine(f"sqlite:///{home / 'office.db'}")
    upgrade(engine)
    engine.dispose()
    yield home / "office.db"


def _triples(engine: Engine) -> list[tuple[Ed25519PublicKey, bytes, bytes]]:
    """Every event's (public key, signature, payload), the keys loaded once each."""
    with reading(engine) as session:
        rows = session.execute(
            select(
                col(Event.type), col(Event.key_id), col(Event.signature), col(Event.payload)
            ).order_by(col(Event.id))
        ).all()
    keys: dict[str, Ed25519PublicKey] = {}
    for kind, _, _, payload in rows:
        body = decode(payload)["body"]
        operator = body["admin"] if kind == "office.opened" else body
        if kind in ("office.opened", "operator.registered"):
            public = bytes.fromhex(operator["public_key"])
            keys[key_id(public)] = Ed25519PublicKey.from_public_bytes(public)
    return [(keys[kid], signature, payload) for _, kid, signature, payload in rows]


def _ed25519_alone(triples: list[tuple[Ed25519PublicKey, bytes, bytes]]) -> float:
    """The limit: the same signatures verified in a plain loop; events/s."""
    with stopwatch() as took:
        for key, signature, payload in triples:
            key.verify(signature, payload)  # raises on a bad one: the log is whole
    return rate(len(triples), took[0])


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its children that have ended (the workers)."""
    mine, theirs = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return mine.ru_utime + mine.ru_stime, theirs.ru_utime + theirs.ru_stime


def _verify(
    engine: Engine, events: int, workers: int, cpu: list[tuple[float, float]] | None = None
) -> float:
    """``verify_log`` of the whole file with ``workers`` processes; events/s (and the CPU
    microseconds an event cost, the caller's and the workers', appended to ``cpu``)."""
    before = _cpu()
    with reading(engine) as session, stopwatch() as took:
        report = verify_log(session, workers=workers)
    assert report.ok and report.checked == events, report.problems[:3]
    if cpu is not None:
        mine, theirs = (1e6 * (a - b) / events for a, b in zip(_cpu(), before, strict=True))
        cpu.append((mine, theirs))
    return rate(events, took[0])


def _profile(call: Callable[[], object]) -> pstats.Stats:
    profile = cProfile.Profile()
    profile.runcall(call)
    return pstats.Stats(profile)


def _shares(stats: pstats.Stats, top: int = 5) -> str:
    """The functions that took most of the time themselves, as shares of the whole."""
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in table.values()) or 1.0
    ranked = sorted(table.items(), key=lambda item: -item[1][2])[:top]
    return ", ".join(
        f"{name.strip('<>{}')} ({Path(file).name}) {100 * own / total:.0f} %"
        for (file, _, name), (_, _, own, _, _) in ranked
    )


def _cumulative(stats: pstats.Stats, name: str, file_ends: str = "") -> tuple[int, float]:
    """Calls and cumulative share of the functions called ``name`` (in a file ending so)."""
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    total = sum(own for _, _, own, _, _ in table.values()) or 1.0
    found = [
        (calls, cumulative)
        for (file, _, function), (_, calls, _, cumulative, _) in table.items()
        if function == name and file.endswith(file_ends)
    ]
    return sum(c for c, _ in found), sum(t for _, t in found) / total


ED25519_VERIFY = (
    "<method 'verify' of 'cryptography.hazmat.bindings._rust.openssl.ed25519.Ed25519PublicKey'"
    " objects>"
)


def _verify_profile(note: Note) -> str:
    """What cProfile shows of a one-core verify, and what would close the gap."""
    note("profiling verify on one core")
    with profiled_log(note) as small:
        engine = make_engine(f"sqlite:///{small}")
        events = _events(engine)
        stats = _profile(lambda: _verify(engine, events, 1))
        engine.dispose()
    _, signing = _cumulative(stats, ED25519_VERIFY)
    _, decoding = _cumulative(stats, "decode", "eventlog.py")
    _, encoding = _cumulative(stats, "canonical", "crypto.py")
    return (
        f"cProfile of a verify of the {PROFILED_EVENTS:,}-event log: Ed25519 "
        f"{100 * signing:.0f} %, JSON decode of the envelope {100 * decoding:.0f} %, its "
        f"canonical re-encoding {100 * encoding:.0f} %; by own time: {_shares(stats, 4)}. "
        "Besides the signature the time goes mostly to the two JSON passes every event needs "
        "(read the envelope; prove the stored bytes are its canonical form), then the row's "
        "columns checked against the envelope, the hash and the walk along the chains. "
        "crypto.canonical already makes its encoder once (3.6 → 3.0 µs a call). What would "
        "close the last few per cent: one pass that proves canonical form while it reads (a "
        "C decoder of our own), or no canonical proof in verify (the signature covers the "
        "exact bytes, and receipt checks the form), a check we keep; with two cores and more, "
        "the workers can take both JSON passes from the caller."
    )


def verify_figures(engine: Engine, events: int, size: Size, note: Note) -> list[Figure]:
    """One core beside Ed25519 alone; two cores beside twice one core, round by round."""
    note("loading the signatures for the limit")
    triples = _triples(engine)
    assert len(triples) == events
    one, alone, two = [], [], []
    cpu_one: list[tuple[float, float]] = []
    cpu_two: list[tuple[float, float]] = []
    for round_no in range(size.rounds):
        note(f"verify, round {round_no + 1}/{size.rounds}")
        one.append(_verify(engine, events, 1, cpu_one))
        alone.append(_ed25519_alone(triples))
        two.append(_verify(engine, events, 2, cpu_two))
    one_core, limit = Spread.of(one), Spread.of(alone)
    share = one_core.median / limit.median
    verdict = f"{100 * share:.0f} % of Ed25519 alone on {events:,} events."
    if share < 0.8:
        verdict += " " + _verify_profile(note)
    twice = Spread.of([2 * x for x in one])
    speedups = [b / a for a, b in zip(one, two, strict=True)]
    speedup = Spread.of(two).median / one_core.median
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    alone_cpu = Spread.of([a + b for a, b in cpu_one]).median
    caller = Spread.of([a for a, _ in cpu_two]).median
    workers = Spread.of([b for _, b in cpu_two]).median
    allowed = alone_cpu / max(caller, (caller + workers) / 2)
    scaling = (
        f"Two-core/one-core {speedup:.2f}× (per round "
        f"{', '.join(f'{x:.2f}' for x in speedups)}); load average {load} on "
        f"{os.cpu_count()} cores. CPU per event: one core {alone_cpu:.0f} µs; two workers "
        f"{caller:.0f} µs in the caller + {workers:.0f} µs in the workers. On two free cores "
        f"those would allow {allowed:.2f}× (the caller's share and the total over two, "
        "whichever is longer). The caller walks the chains, decodes, re-encodes and hashes; "
        "two forked workers check the signatures in chunks of 500. A two-core rate well "
        "short of that means the cores were not free (a load average above the core count)."
    )
    return [
        Figure(
            key="log.verify_one_core",
            title="verify, one core",
            unit="events/s",
            value=one_core,
            target="≥ 80 % of Ed25519 alone",
            passed=share >= 0.8,
            peer_title="Ed25519 verify alone (pyca/cryptography, plain loop)",
            peer=limit,
            ratio=share,
            note=verdict,
            extra={"events": events},
        ),
        Figure(
            key="log.verify_two_cores",
            title="verify, two cores",
            unit="events/s",
            value=Spread.of(two),
            target="≥ 1.7× one core",
            passed=speedup >= 1.7,
            peer_title="2 × verify on one core, same round",
            peer=twice,
            ratio=Spread.of(two).median / twice.median,
            note=scaling,
            extra={"events": events, "speedup": speedup, "speedups": speedups},
        ),
    ]


TABLES: list[Table] = [model.__table__ for model in PROJECTIONS]  # type: ignore[attr-defined]
"""Every projection table, parents before children."""
REBUILD_TARGET = 30_000


def _rebuild(engine: Engine, events: int, rows: dict[str, list[dict[str, Any]]]) -> float:
    """``rebuild_in_place`` of the whole log, rolled back after; events/s. The first time,
    the rebuilt rows are kept in ``rows`` for the limit."""
    with Session(engine) as session:
        session.begin()
        try:
            with stopwatch() as took:
                count = rebuild.rebuild_in_place(session)
                session.flush()
            assert count == events
            if not rows:
                for table in TABLES:
                    found = session.execute(select(table)).mappings()
                    rows[table.name] = [dict(row) for row in found]
        finally:
            session.rollback()  # the cached log stays as it was grown
    return rate(events, took[0])


def _insert_alone(engine: Engine, events: int, rows: dict[str, list[dict[str, Any]]]) -> float:
    """The limit: the rebuilt rows inserted by Core executemany into the emptied tables."""
    with engine.connect() as connection:
        connection.begin()
        try:
            for table in reversed(TABLES):
                connection.execute(delete(table))
            with stopwatch() as took:
                for table in TABLES:
                    if rows[table.name]:
                        connection.execute(insert(table), rows[table.name])
        finally:
            connection.rollback()
    return rate(events, took[0])


def rebuild_figure(engine: Engine, events: int, size: Size, note: Note) -> Figure:
    """``rebuild`` beside Core executemany of the same rows; profiled for the note."""
    rows: dict[str, list[dict[str, Any]]] = {}
    turns = iter(range(1, 2 * size.rounds + 1))

    def ours() -> float:
        note(f"rebuild, turn {next(turns)}/{2 * size.rounds}")
        return _rebuild(engine, events, rows)

    def limit() -> float:
        note(f"insert alone, turn {next(turns)}/{2 * size.rounds}")
        return _insert_alone(engine, events, rows)

    mine, theirs = interleave(ours, limit, size.rounds)
    value, peer = Spread.of(mine), Spread.of(theirs)
    note("profiling rebuild")
    with profiled_log(note) as small:
        profiled = make_engine(f"sqlite:///{small}")
        stats = _profile(lambda: _rebuild(profiled, _events(profiled), {}))
        profiled.dispose()
    _, folding = _cumulative(stats, "apply_to", "workstation/projector.py")
    _, writing_share = _cumulative(stats, "write", "workstation/rows.py")
    _, decoding = _cumulative(stats, "decode", "workstation/eventlog.py")
    _, driver = _cumulative(stats, "<method 'executemany' of 'sqlite3.Cursor' objects>")
    total = sum(len(found) for found in rows.values())
    why = (
        f"{total:,} projection rows from {events:,} events. The replay folds the log into "
        "plain rows held in dicts (workstation/rows.py, MemoryRows) through the same "
        "handlers as the live projection, with no ORM object and no flush, then writes each "
        "table once, parents first, by Core executemany (the limit measured here); the "
        "cyclic garbage collector is paused meanwhile (it walked every row held, a third of "
        "the fold). Before this design the replay built and flushed SQLModel objects: 3,050 "
        "(3,046–3,091) events/s on 2026-11-28 19:14, its profile ORM flushes 40 %, SQLModel "
        f"construction 14 %, session.get 13 %. cProfile of a rebuild of the "
        f"{PROFILED_EVENTS:,}-event log now: the fold {100 * folding:.0f} %, decoding the "
        f"envelopes {100 * decoding:.0f} %, the write {100 * writing_share:.0f} % (SQLite's "
        f"executemany {100 * driver:.0f} %); by own time: {_shares(stats, 4)}. "
    )
    budget = 1e6 / REBUILD_TARGET - 1e6 / peer.median
    if value.median < REBUILD_TARGET:
        why += (
            f"That write alone leaves the fold {budget:.0f} µs an event to stay at "
            f"{REBUILD_TARGET:,}/s."
            if budget > 0
            else f"On this run that write alone is slower than {REBUILD_TARGET:,}/s "
            f"({peer.median:,.0f}/s), so the target needs the write cheaper too (one multi-row "
            "INSERT per table, or the scratch database's journal off)."
        )
    return Figure(
        key="log.rebuild",
        title="rebuild (log replayed into projections)",
        unit="events/s",
        value=value,
        target=f"≥ {REBUILD_TARGET:,} events/s",
        passed=value.median >= REBUILD_TARGET,
        peer_title="Core insert() executemany of the rebuilt rows (events / insert s)",
        peer=peer,
        ratio=value.median / peer.median,
        note=why,
        extra={"events": events, "rows": total},
    )


def run(size: Size, note: Note) -> list[Figure]:
    """Every figure of the row."""
    events = size.pick(QUICK_EVENTS, 100_000)
    with grown_log(events, note) as db:
        engine = make_engine(f"sqlite:///{db}")
        try:
            events = _events(engine)
            figures = verify_figures(engine, events, size, note)
            return [*figures, rebuild_figure(engine, events, size, note)]
        finally:
            engine.dispose()


ROW = Row("log", "verify on one core and two, rebuild into projections", run)
