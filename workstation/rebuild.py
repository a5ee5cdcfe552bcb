"""Replay the signed log into projections: in place, or beside the live ones to compare."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, create_engine, delete, event, func, select
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col

from models import PROJECTIONS, Event
from workstation import projector
from workstation.crypto import sha256_hex
from workstation.eventlog import decode
from workstation.rows import MemoryRows, forget_latest

_TABLES = [model.__table__ for model in PROJECTIONS]  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Difference:
    """One projection table whose rebuilt rows differ from the stored ones."""

    table: str
    only_stored: list[tuple[Any, ...]]
    only_rebuilt: list[tuple[Any, ...]]


def _replay(session: Session, source: Session, batch: int = 2000) -> int:
    """Fold the log of ``source`` into rows in memory and write them into ``session``'s
    empty projections, one executemany per table."""
    rows = MemoryRows(source)
    with _collector_paused():
        count = _fold(rows, source, batch)
        rows.write(session.connection())
    return count


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while the fold builds its rows: none of them is in a
    cycle, and every pass of the collector walks all of them (over a third of the fold)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _fold(rows: MemoryRows, source: Session, batch: int) -> int:
    """Apply every event of the log to ``rows``, a page at a time; how many there were."""
    count, last_id = 0, 0
    while True:
        page = source.execute(
            select(col(Event.id), col(Event.payload))
            .where(col(Event.id) > last_id)
            .order_by(col(Event.id))
            .limit(batch)
        ).all()
        for row_id, payload in page:
            projector.apply_to(rows, decode(payload), sha256_hex(payload))
            last_id = row_id
        count += len(page)
        if len(page) < batch:
            return count


def _scratch_engine() -> Engine:
    engine = create_engine(
        "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
    )
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    SQLModel.metadata.create_all(engine, tables=_TABLES)
    return engine


def _snapshot(session: Session) -> dict[str, set[tuple[Any, ...]]]:
    snap: dict[str, set[tuple[Any, ...]]] = {}
    for table in _TABLES:
        snap[table.name] = {_normalise(tuple(row)) for row in session.execute(select(table))}
    return snap


def _normalise(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # JSON columns come back as dicts/lists; compare them by content, not identity.
    return tuple(
        json.dumps(v, sort_keys=True, ensure_ascii=False) if isinstance(v, dict | list) else v
        for v in row
    )


def check(session: Session) -> list[Difference]:
    """Replay the log into a scratch database and list every projection table that differs."""
    scratch = _scratch_engine()
    with Session(scratch) as fresh, fresh.begin():
        _replay(fresh, session)
    with Session(scratch) as fresh:
        rebuilt = _snapshot(fresh)
    stored = _snapshot(session)
    differences = []
    for name, rows in stored.items():
        if rows != rebuilt[name]:
            differences.append(
                Difference(
                    name,
                    sorted(rows - rebuilt[name], key=repr),
                    sorted(rebuilt[name] - rows, key=repr),
                )
            )
    scratch.dispose()
    return differences


def rebuild_in_place(session: Session) -> int:
    """Drop every projection row and replay the whole log, in the caller's transaction."""
    for table in reversed(_TABLES):
        session.execute(delete(table))
    forget_latest(session)
    count = _replay(session, session)
    session.expunge_all()  # what the session held of the old projections is gone
    return count


def event_count() -> Select[int]:
    """A query counting the stored events."""
    return select(func.count()).select_from(Event)
