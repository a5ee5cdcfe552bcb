"""Single bytes flipped in many stored events of a closed SQLite file: ``verify`` names each.

A township log is grown through the services and the engine disposed; then, with the
standard library's ``sqlite3`` as someone holding only the file would, one byte is flipped
in each of many random events: in its payload, its signature or its stored hash, at a
random offset. ``verify_log`` on a fresh engine must name every one of those events (by row,
origin and sequence), and account for every other row as verified or named; the real
``onewindow verify`` process must fail naming one of them.

The size is a fast sample in ``make test``; ``ONEWINDOW_FLIP_EVENTS=200`` runs the full one.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from contextlib import closing, suppress
from pathlib import Path

from sqlalchemy.engine import Engine

from tests.conftest import PASSWORD, Hall
from tests.test_sync_crash import grow
from workstation.db import make_engine, reading
from workstation.verify import VerifyReport, verify_log

FLIPS = int(os.environ.get("ONEWINDOW_FLIP_EVENTS", "20"))
LOG_EVENTS = max(200, 5 * FLIPS)
"""The log is five times the flips: most events stay sound around the damaged ones."""
COLUMNS = ("payload", "signature", "hash")


def flip(db_file: Path, rng: random.Random) -> dict[int, str]:
    """Flip one byte in ``FLIPS`` random events; row id → the column flipped."""
    flipped: dict[int, str] = {}
    with closing(sqlite3.connect(db_file)) as con, con:
        ids = [row_id for (row_id,) in con.execute("SELECT id FROM event ORDER BY id")]
        for row_id in rng.sample(ids, FLIPS):
            column = rng.choice(COLUMNS)
            (stored,) = con.execute(
                f"SELECT {column} FROM event WHERE id = ?", (row_id,)
            ).fetchone()
            data = bytearray(stored.encode() if isinstance(stored, str) else stored)
            data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
            value: bytes | str = bytes(data)
            if isinstance(stored, str):  # the hash is text; a byte that is not stays a blob
                with suppress(UnicodeDecodeError):
                    value = bytes(data).decode("utf-8")
            con.execute(f"UPDATE event SET {column} = ? WHERE id = ?", (value, row_id))
            flipped[row_id] = column
    return flipped


def verify_file(db_file: Path) -> tuple[VerifyReport, int]:
    """``verify_log`` through a fresh engine; and how many rows the file holds."""
    engine: Engine = make_engine(f"sqlite:///{db_file}")
    try:
        with reading(engine) as session:
            report = verify_log(session)
    finally:
        engine.dispose()
    with closing(sqlite3.connect(db_file)) as con:
        (rows,) = con.execute("SELECT count(*) FROM event").fetchone()
    return report, rows


def cli_verify(db_file: Path, key_dir: Path) -> subprocess.CompletedProcess[str]:
    """``onewindow verify`` as a real process, in English."""
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{db_file}",
        "ONEWINDOW_KEY_DIR": str(key_dir),
        "ONEWINDOW_OPERATOR": "audit",
        "ONEWINDOW_PASSWORD": PASSWORD,
        "ONEWINDOW_LANGUAGE": "en",
    }
    command = [str(Path(sys.executable).parent / "onewindow"), "verify"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def test_verify_names_every_event_with_a_flipped_byte(sqlite_hall: Hall) -> None:
    grow(sqlite_hall, LOG_EVENTS)
    sqlite_hall.engine.dispose()
    db_file = Path(str(sqlite_hall.engine.url.database))
    before, rows = verify_file(db_file)
    assert before.ok and before.checked == rows

    flipped = flip(db_file, random.Random(66))
    report, rows_after = verify_file(db_file)
    named = {p.row_id: p for p in report.problems if p.row_id is not None}
    with closing(sqlite3.connect(db_file)) as con:
        where = dict(
            (row_id, (origin, seq))
            for row_id, origin, seq in con.execute("SELECT id, origin, seq FROM event")
        )
    hits = [
        row_id
        for row_id in flipped
        if row_id in named and (named[row_id].origin, named[row_id].seq) == where[row_id]
    ]
    missed = sorted(set(flipped) - set(hits))
    also = sorted(set(named) - set(flipped))
    # Every row is either verified or named: none is silently passed over.
    unaccounted = rows_after - report.checked - len(named)
    done = cli_verify(db_file, sqlite_hall.key_dir)
    first = min(flipped)
    said = done.stdout + done.stderr
    cli_named = done.returncode == 1 and f"(row {first})" in said and "Traceback" not in said
    failures = len(missed) + int(not cli_named) + int(rows_after != rows)
    print(  # the campaign's summary line
        f"\nstress db-flips [sqlite]: trials {len(flipped)}, failures {failures}, "
        f"data lost {unaccounted}, named {len(hits)}/{len(flipped)}, events {rows}, "
        f"also named {len(also)}"
    )
    assert missed == [], [(row_id, flipped[row_id]) for row_id in missed]
    assert cli_named, said
    assert unaccounted == 0 and rows_after == rows
    assert failures == 0
