"""Where a push's time goes, on both sides: ``python -m bench.push_profile [EVENTS]``.

The county's hub runs in this process under uvicorn in a thread (the same app ``onewindow
hub`` serves), so cProfile sees it: the event loop's thread whole, and each request's work in
the thread pool (signature of the request, decoding, ``accept``, the commit) by a profiler
started in that thread for that call. The township pushes with ``sync.client.push`` under a
profiler of its own. Prints where the wall time went and each side's costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import uvicorn
from sqlalchemy.orm import Session, SessionTransaction

import sync.hub
import sync.receive
import sync.signing
import sync.wire
from bench.places import folder
from bench.push_setup import Offices, offices, township
from bench.push_speed import now
from sync.client import push
from workstation import projector
from workstation.settings import load_settings

POOL = "run_in_threadpool"
"""What the hub hands each request's work to (replaced here, to profile that work)."""


def _top(profiles: list[cProfile.Profile], sort: str, lines: int) -> str:
    """The ``lines`` costliest functions of ``profiles`` merged, by ``sort``."""
    out = io.StringIO()
    stats = pstats.Stats(profiles[0], stream=out)
    for more in profiles[1:]:
        stats.add(more)
    stats.strip_dirs().sort_stats(sort).print_stats(lines)
    return out.getvalue()


class _Clocks:
    """Wall time spent in chosen functions by the hub's threads (not the client's)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(
        self, owner: Any, name: str, label: str, only: Callable[..., bool] | None = None
    ) -> None:
        """Time ``owner.name`` (calls that ``only`` accepts) under ``label`` until ``undo``."""
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            mine = threading.current_thread() is threading.main_thread()
            if mine or (only is not None and not only(*args, **kwargs)):
                return inner(*args, **kwargs)
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, inner))

    def undo(self) -> None:
        """Put every wrapped function back."""
        while self._undo:
            self._undo.pop()()


def _advisory(_session: Session, statement: object, *args: Any, **kwargs: Any) -> bool:
    """Whether a statement is the write lock's."""
    return "pg_advisory_xact_lock" in str(statement)


def _serve(round_: Offices, loop: cProfile.Profile | None = None) -> Callable[[], None]:
    """Serve the round's county from a thread of this process; the function that stops it."""
    settings = load_settings(
        key_dir=round_.county_keys,
        database_url=round_.county.url.render_as_string(hide_password=False),
    )
    app = sync.hub.create_app(settings, engine=round_.county)
    server = uvicorn.Server(uvicorn.Config(app, port=round_.port, log_level="warning"))
    run = server.run if loop is None else partial(loop.runcall, server.run)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return stop


def shares(events: int) -> str:
    """Push ``events`` to an in-process hub with no profiler, timing the hub's main steps."""
    town = township(events, print)
    clocks = _Clocks()
    clocks.wrap(sync.hub, "accept", "accept (checks and stores)")
    clocks.wrap(sync.receive, "check_signer", "  signer's rights and Ed25519 signature")
    clocks.wrap(sync.receive, "verify_signature", "    Ed25519 verify alone")
    clocks.wrap(projector, "apply", "  projector.apply (ORM objects)")
    clocks.wrap(Session, "flush", "ORM flush (INSERT/UPDATE; autoflush and commit)")
    clocks.wrap(SessionTransaction, "commit", "commit (with its flush)")
    clocks.wrap(Session, "execute", "waiting for the write lock (pg_advisory_xact_lock)", _advisory)
    clocks.wrap(sync.wire.Batch, "decode", "Batch.decode")
    clocks.wrap(sync.signing, "check", "request signature check")
    try:
        with folder() as where, offices(town, where, serve=False) as round_:
            stop = _serve(round_)
            try:
                started = time.perf_counter()
                report = push(round_.township, round_.settings, clock=now)
                wall = time.perf_counter() - started
            finally:
                stop()
    finally:
        clocks.undo()
    lines = [
        f"pushed {report.events} events in {report.batches} batches: {wall:.2f} s wall, "
        f"{report.events / wall:,.0f} events/s (no profiler); hub threads' time in:"
    ]
    for label, spent in clocks.spent.items():
        lines.append(f"  {label:<52} {spent:6.2f} s  {spent / wall:4.0%}")
    return "\n".join(lines)


def profile(events: int, lines: int = 30) -> str:
    """Push ``events`` to an in-process hub under cProfile; the report."""
    town = township(events, print)
    handlers: list[cProfile.Profile] = []
    handled = [0.0]
    original = getattr(sync.hub, POOL)

    async def profiled(func: Callable[..., Any], *args: Any) -> Any:
        def run() -> Any:
            started, profiler = time.perf_counter(), cProfile.Profile()
            try:
                return profiler.runcall(func, *args)
            finally:
                handled[0] += time.perf_counter() - started
                handlers.append(profiler)

        return await original(run)

    setattr(sync.hub, POOL, profiled)
    loop = cProfile.Profile()
    mine = cProfile.Profile()
    try:
        with folder() as where, offices(town, where, serve=False) as round_:
            stop = _serve(round_, loop)
            started = time.perf_counter()
            report = mine.runcall(push, round_.township, round_.settings, clock=now)
            wall = time.perf_counter() - started
            stop()
    finally:
        setattr(sync.hub, POOL, original)
    head = (
        f"pushed {report.events} events in {report.batches} batches: {wall:.2f} s wall, "
        f"{report.events / wall:,.0f} events/s (under cProfile)\n"
        f"hub request handlers (thread pool): {handled[0]:.2f} s = "
        f"{handled[0] / wall:.0%} of the wall time\n"
    )
    return "\n".join(
        [
            head,
            "== hub, request handlers, by cumulative time ==",
            _top(handlers, "cumulative", lines),
            "== hub, request handlers, by own time ==",
            _top(handlers, "tottime", lines),
            "== hub, event loop thread, by own time ==",
            _top([loop], "tottime", lines // 2),
            "== client (push), by cumulative time ==",
            _top([mine], "cumulative", lines),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Profile one push and print where its time went."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("events", type=int, nargs="?", default=3000, help="default 3000")
    parser.add_argument("--lines", type=int, default=30, help="functions per table")
    args = parser.parse_args(argv)
    print(shares(args.events))
    print()
    print(profile(args.events, args.lines))


if __name__ == "__main__":
    main()
