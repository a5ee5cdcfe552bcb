"""Many townships pushing at once to one county hub: two `onewindow hub` processes on one
PostgreSQL, every township running the client's own ``push`` in a thread of its own.

The townships are SQLite files built once per run by ``bench.township_logs``; every round
pushes fresh copies of them to a county on a fresh PostgreSQL schema, half to each hub, all
released together. The figure is the round's events over its wall seconds. Afterwards the
county is compared with every township: lost is what a township holds and the county lacks;
duplicated is what the county stores twice, plus every chain head that differs; errors are the
pushes that raised or left a township's push cursor short of its head.
"""

from __future__ import annotations

import logging
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from bench.lib import Figure, Note, Row, Size, Spread, rate, stopwatch
from bench.places import copy_sqlite, folder, postgres_database
from bench.township_logs import Township, build
from models import ChainHead, Event
from sync import client
from tests.conftest import NOW
from tests.levels import COUNTY, free_port, hub_process, open_level
from workstation.db import make_engine, reading, writing
from workstation.services import enrolment
from workstation.services.outbox import pushed_up_to
from workstation.settings import load_settings

HUBS = 2
"""Hub processes serving the one county database; township i pushes to hub i mod HUBS."""


@dataclass
class Pushed:
    """What one township's push did in a round."""

    hub: int
    seconds: float = 0.0
    events: int = 0
    resent: int = 0
    """Events the county already held: a request timed out or was cut, then went again."""
    error: str = ""


@dataclass
class Tally:
    """A round's counts after the push."""

    events: int
    seconds: float
    errors: int = 0
    lost: int = 0
    duplicated: int = 0
    heads_off: int = 0
    unreceipted: set[str] = field(default_factory=set)
    """Townships whose push cursor stopped short of their head."""
    times: list[float] = field(default_factory=list)
    resent: int = 0
    cuts: int = 0
    """Requests the client saw cut or time out (it waits and tries again)."""
    per_hub: list[int] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    hub_lines: Counter[str] = field(default_factory=Counter)


def hub(
    engine: Engine, keys: Path, port: int, output: Path
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`onewindow hub` serving ``engine`` on ``port``, its output kept in ``output``."""
    dirs = {
        "ONEWINDOW_CONFIG_DIR": str(output.parent / "config"),
        "ONEWINDOW_DATA_DIR": str(output.parent / "data"),
    }
    return hub_process(engine, keys, port, output=output, env=dirs)


def clock() -> datetime:
    """The real clock: the hub checks request times against its own."""
    return datetime.now().astimezone()


def push_all(towns: list[Township], copies: Path, urls: list[str]) -> tuple[list[Pushed], float]:
    """Every township pushes its copy at once (one thread each); what each did, wall seconds."""
    # One TLS context for all: httpx builds one per client otherwise, a cost of the bench.
    context = ssl.create_default_context()
    pushed = [Pushed(hub=i % len(urls)) for i in range(len(towns))]
    # Everything a thread needs is made here, so no thread can fail before the start line.
    engines = [make_engine(f"sqlite:///{copies / town.database.name}") for town in towns]
    settings = [
        load_settings(key_dir=town.key_dir, upstream_url=urls[p.hub])
        for town, p in zip(towns, pushed, strict=True)
    ]
    https = [
        httpx.Client(base_url=urls[p.hub], timeout=client.TIMEOUT, verify=context) for p in pushed
    ]
    start = threading.Barrier(len(towns) + 1)

    def one(i: int) -> None:
        start.wait()
        began = time.perf_counter()
        try:
            report = client.push(engines[i], settings[i], clock=clock, http=https[i])
            pushed[i].events, pushed[i].resent = report.events, report.resent
        except Exception as error:  # every failure is counted, whatever its kind
            pushed[i].error = f"{type(error).__name__}: {error}"[:160]
        pushed[i].seconds = time.perf_counter() - began

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(towns))]
    try:
        for thread in threads:
            thread.start()
        start.wait()
        with stopwatch() as took:
            for thread in threads:
                thread.join()
    finally:
        for engine, http in zip(engines, https, strict=True):
            http.close()
            engine.dispose()
    return pushed, took[0]


def compare(county: Engine, towns: list[Township], copies: Path, tally: Tally) -> None:
    """Count what the county lacks, holds twice or heads differently from each township."""
    codes = [town.code for town in towns]
    with reading(county) as session:
        stored = {
            origin: (int(total), int(distinct))
            for origin, total, distinct in session.execute(
                select(col(Event.origin), func.count(), func.count(func.distinct(col(Event.seq))))
                .where(col(Event.origin).in_(codes))
                .group_by(col(Event.origin))
            )
        }
        heads = {
            head.origin: (head.seq, head.hash)
            for head in session.scalars(select(ChainHead).where(col(ChainHead.origin).in_(codes)))
        }
    for town in towns:
        engine = make_engine(f"sqlite:///{copies / town.database.name}")
        try:
            with reading(engine) as session:
                held = session.scalar(select(func.count()).select_from(Event)) or 0
                head = session.get(ChainHead, town.code)
                receipted = pushed_up_to(session, town.code)
        finally:
            engine.dispose()
        assert head is not None
        total, distinct = stored.get(town.code, (0, 0))
        tally.lost += max(held - distinct, 0)
        tally.duplicated += total - distinct
        tally.heads_off += int(heads.get(town.code) != (head.seq, head.hash))
        if receipted != head.seq:
            tally.unreceipted.add(town.code)
    tally.duplicated += tally.heads_off


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def counting(logger: logging.Logger) -> Iterator[list[logging.LogRecord]]:
    """The warnings ``logger`` gives meanwhile (a cut link), kept instead of printed."""
    kept, propagate = _Kept(), logger.propagate
    logger.addHandler(kept)
    logger.propagate = False
    try:
        yield kept.records
    finally:
        logger.removeHandler(kept)
        logger.propagate = propagate


def hub_output(path: Path, lines: Counter[str]) -> None:
    """Count the hub's complaints (uvicorn logs warnings and errors only)."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("ERROR", "WARNING", "Traceback", "CRITICAL")) or "Error:" in line:
            lines[line.strip()[:160]] += 1


def push_round(towns: list[Township], county_keys: Path, where: Path, note: Note) -> Tally:
    """A fresh county, fresh copies of the townships, two hubs; everyone pushes at once."""
    copies = where / f"round-{time.monotonic_ns()}"
    copies.mkdir()
    for town in towns:
        copy_sqlite(town.database, copies / town.database.name)
    with postgres_database() as county:
        note("opening the county")
        admin = open_level(county, county_keys, COUNTY, "county-admin")
        with writing(county) as session:
            for town in towns:
                enrolment.enrol(session, actor=admin, card=town.card, now=NOW)
        ports = [free_port() for _ in range(HUBS)]
        outputs = [copies / f"hub-{n}.log" for n in range(HUBS)]
        with (
            hub(county, county_keys, ports[0], outputs[0]),
            hub(county, county_keys, ports[1], outputs[1]),
        ):
            note(f"{len(towns)} townships pushing")
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            with counting(client.log) as cuts:
                pushed, seconds = push_all(towns, copies, urls)
        tally = Tally(events=sum(town.head for town in towns), seconds=seconds)
        compare(county, towns, copies, tally)
    failed = {town.code for town, p in zip(towns, pushed, strict=True) if p.error}
    tally.errors = len(failed | tally.unreceipted)
    tally.reasons.update(p.error for p in pushed if p.error)
    tally.times = [p.seconds for p in pushed]
    tally.resent, tally.cuts = sum(p.resent for p in pushed), len(cuts)
    tally.per_hub = [sum(p.events for p in pushed if p.hub == n) for n in range(HUBS)]
    for output in outputs:
        hub_output(output, tally.hub_lines)
    return tally


def quantile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def run(size: Size, note: Note) -> list[Figure]:
    """Build the townships once, then push them all at once in every round."""
    count, events = size.pick(20, 200), size.pick(50, 200)
    return measure(count, events, size.rounds, note)


def measure(count: int, events: int, rounds: int, note: Note) -> list[Figure]:
    """The figure for ``count`` townships of ``events`` each over ``rounds`` rounds."""
    with folder() as where:
        towns, county_keys, build_each = build(where, count, events, note)
        tallies = []
        for n in range(rounds):
            note(f"round {n + 1}/{rounds}")
            tallies.append(push_round(towns, county_keys, where, note))
    errors = sum(t.errors for t in tallies)
    lost = sum(t.lost for t in tallies)
    duplicated = sum(t.duplicated for t in tallies)
    times = [s for t in tallies for s in t.times]
    p50, p99 = quantile(times, 0.5), quantile(times, 0.99)
    per_hub = [sum(t.per_hub[n] for t in tallies) for n in range(HUBS)]
    share = [round(100 * h / max(sum(per_hub), 1)) for h in per_hub]
    reasons = sum((t.reasons for t in tallies), Counter())
    hub_lines = sum((t.hub_lines for t in tallies), Counter())
    throughput = Spread.of([rate(t.events, t.seconds) for t in tallies])
    note_text = (
        f"T={count} townships × E={events} events ({tallies[0].events:,} a round), "
        f"{HUBS} hub processes on one PostgreSQL; push time per township p50 {p50:.2f} s, "
        f"p99 {p99:.2f} s; hubs' share {'/'.join(f'{s}%' for s in share)}; "
        f"errors {errors}, lost {lost}, duplicated {duplicated} over {rounds} rounds"
    )
    cuts, resent = sum(t.cuts for t in tallies), sum(t.resent for t in tallies)
    if cuts:
        # Behind a deep queue at the one write lock a request can outwait the client's read
        # timeout; the hub still commits it, and the client's one-event probe learns so.
        note_text += f"; {cuts} requests timed out or were cut and went again ({resent} resent)"
    if reasons:
        note_text += f"; first error: {reasons.most_common(1)[0][0]}"
    return [
        Figure(
            key="townships.push_at_once",
            title=f"{count} townships pushing at once to one county (2 hubs, 1 PostgreSQL)",
            unit="events/s",
            value=throughput,
            target="0 errors, 0 lost, 0 duplicated; throughput stated",
            passed=errors == lost == duplicated == 0,
            peer_title="—",
            note=note_text,
            extra={
                "townships": count,
                "events_each": events,
                "events_per_round": tallies[0].events,
                "wall_seconds": [round(t.seconds, 2) for t in tallies],
                "push_seconds_p50": round(p50, 3),
                "push_seconds_p99": round(p99, 3),
                "hub_share_percent": share,
                "errors": errors,
                "lost": lost,
                "duplicated": duplicated,
                "heads_off": sum(t.heads_off for t in tallies),
                "requests_cut_or_timed_out": cuts,
                "events_resent": resent,
                "error_reasons": dict(reasons.most_common(5)),
                "hub_complaints": dict(hub_lines.most_common(5)),
                "build_seconds_per_township": round(build_each, 3),
            },
        )
    ]


ROW = Row("townships", "townships pushing at once to one county hub", run)


def main(argv: list[str]) -> int:
    """``python -m bench.townships T E [ROUNDS]``: one figure at any size, printed."""
    count, events = int(argv[0]), int(argv[1])
    rounds = int(argv[2]) if len(argv) > 2 else 1
    for figure in measure(count, events, rounds, lambda text: print(text, file=sys.stderr)):
        print(figure.value.text(), figure.unit, "passed" if figure.passed else "MISSED")
        print(figure.note)
        for name, value in figure.extra.items():
            print(f"  {name}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
