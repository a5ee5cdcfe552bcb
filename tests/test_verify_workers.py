"""Signatures checked in worker processes: the very report one worker gives, problem for problem.

A township log is grown and its engine disposed; then, with the standard library's
``sqlite3``, events are damaged as in ``test_tampering`` and ``test_db_flips``: bytes flipped,
bodies edited with their hash recomputed (so only the signature is left to tell, and the next
event's link breaks behind it), the newest event among them (so the chain's head is judged
on a signature still out), two neighbours swapped. ``verify_log`` with several workers and
small chunks (so many go out) must report exactly what it reports with one.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from tests.conftest import Hall
from tests.test_db_flips import flip
from tests.test_sync_crash import grow
from tests.test_tampering import _swap_contents, raw, row
from workstation.db import make_engine, reading
from workstation.verify import VerifyReport, verify_log

EVENTS = 240


def verify_file(db_file: Path, **options: int) -> VerifyReport:
    """``verify_log`` through a fresh engine on the (possibly tampered) file."""
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        with reading(engine) as session:
            return verify_log(session, **options)
    finally:
        engine.dispose()


@pytest.fixture
def db_file(sqlite_hall: Hall) -> Path:
    """A grown township log, closed; its file is ready to be tampered with."""
    grow(sqlite_hall, EVENTS)
    sqlite_hall.engine.dispose()
    return Path(str(sqlite_hall.engine.url.database))


def rehash_body(db_file: Path, row_id: int) -> None:
    """Another task of the same case named in the body, the hash recomputed: only the
    signature tells (and the next event's link, which points at the old hash)."""
    env = json.loads(row(db_file, row_id)["payload"])
    assert env["type"] in ("task.claimed", "task.released")
    env["body"]["task"] += "-other"
    edited = json.dumps(env, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    with raw(db_file) as con:
        con.execute(
            "UPDATE event SET payload = ?, hash = ? WHERE id = ?",
            (edited, hashlib.sha256(edited).hexdigest(), row_id),
        )


def task_events(db_file: Path) -> list[int]:
    """Row ids of the claims and releases in the log, oldest first (the newest among them)."""
    with raw(db_file) as con:
        found = con.execute("SELECT id FROM event WHERE type LIKE 'task.%' ORDER BY id")
        return [row_id for (row_id,) in found]


@pytest.mark.parametrize(("workers", "chunk"), [(2, 1), (2, 7), (3, 32), (2, 10_000)])
def test_an_untouched_log_verifies_with_any_number_of_workers(
    db_file: Path, workers: int, chunk: int
) -> None:
    one = verify_file(db_file)
    assert one.ok and one.checked >= EVENTS
    assert verify_file(db_file, workers=workers, chunk=chunk) == one


@pytest.mark.parametrize(("workers", "chunk"), [(2, 1), (2, 7), (3, 32), (2, 10_000)])
def test_a_tampered_log_gets_the_same_report_with_any_number_of_workers(
    db_file: Path, workers: int, chunk: int
) -> None:
    flipped = flip(db_file, random.Random(7))
    found = task_events(db_file)
    rehashed = [i for i in (found[3], found[40], found[-1]) if i not in flipped]
    for row_id in rehashed:
        rehash_body(db_file, row_id)
    with raw(db_file) as con:
        _swap_contents(con, found[60], found[61])
    one = verify_file(db_file)
    named = {p.row_id: p.reason for p in one.problems}
    assert {named[i] for i in rehashed} == {"verify.signature"}
    # The damaged event's stored hash proves nothing, so its successor is not held to it.
    assert not {i + 1 for i in rehashed} & set(named) - set(flipped)
    assert verify_file(db_file, workers=workers, chunk=chunk) == one
