"""A county's worth of open work for the screen benchmarks, synthesised once and cached.

One real demo office (operators, keys, catalog) is made through the services; the applicants,
applications and tasks are then written straight into the projection tables with sqlite3
``executemany``. Growing a million tasks through signed intakes (~400/s) would take most of an
hour, so these rows are synthesised projections: the event log does not hold them, and
``onewindow verify`` would not pass on this file (nothing here needs it to).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from bench.places import CACHE
from workstation import demo
from workstation.db import make_engine, upgrade

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
"""The office clock of every measurement (the due dates are spread around it)."""
MATTERS = {
    "medical-insurance": 40,
    "sole-trader-registration": 14,
    "birth-registration": 10,
    "food-business-licence": 10,
    "elderly-allowance": 10,
    "subsistence-allowance": 8,
    "rural-housing": 5,
    "hotel-open": 3,
}
"""How often each matter is applied for: most open work lands in a few departments."""
STATES = (("open", 85), ("supplement", 5), ("waiting", 3), ("approved", 6), ("rejected", 1))
"""A task's state, by weight; ``open`` and ``supplement`` are what the queues show."""
QUEUED = ("open", "supplement")
BATCH = 50_000
Rows = tuple[object, ...]
"""One synthesised row, in the order of its table's COLUMNS."""


@dataclass(frozen=True)
class County:
    """A cached database: the file, its key folder, and what it holds."""

    db: Path
    keys: Path
    open_tasks: int
    busiest: str
    """The department with the most open tasks (the officer whose queue is measured)."""

    @property
    def officer(self) -> str:
        """The demo officer of the busiest department."""
        return f"{self.busiest}-officer"[:40]

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the file."""
        return f"sqlite:///{self.db}"


def county(open_tasks: int, note: object = print) -> County:
    """The county with ``open_tasks`` queued tasks, built on first use and kept in the cache."""
    CACHE.mkdir(exist_ok=True)
    db, keys = CACHE / f"county-{open_tasks}.db", CACHE / f"county-{open_tasks}-keys"
    if not db.exists():
        _build(db, keys, open_tasks, note)
    # A file cached by an older schema takes the newer migrations, as the app's start would.
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()
    with sqlite3.connect(db) as connection:
        busiest = connection.execute(
            "SELECT department_code FROM task WHERE state IN ('open', 'supplement') "
            "GROUP BY department_code ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    return County(db, keys, open_tasks, busiest)


def _build(db: Path, keys: Path, open_tasks: int, note: object) -> None:
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{partial}")
    upgrade(engine)
    demo.seed(engine, key_dir=keys, seed=1, count=0, now=NOW)
    engine.dispose()
    connection = sqlite3.connect(partial)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-200000")
    tasks_of = {
        code: [(t, d, days) for t, d, days in _catalog_tasks(connection, code)] for code in MATTERS
    }
    made = 0
    for applicants, applications, tasks, queued in _chunks(tasks_of, open_tasks):
        for table, rows in (
            ("applicant", applicants),
            ("application", applications),
            ("task", tasks),
        ):
            connection.executemany(_insert(table), rows)
        made += queued
        if callable(note):
            note(f"synthesising the county: {made:,} of {open_tasks:,} open tasks")
    # The projector keeps the tally as tasks move; rows written behind its back are counted.
    connection.execute("DELETE FROM tasktally")
    connection.execute(
        "INSERT INTO tasktally (department_code, state, n) "
        "SELECT department_code, state, count(*) FROM task GROUP BY department_code, state"
    )
    connection.commit()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    partial.rename(db)


def _catalog_tasks(connection: sqlite3.Connection, matter: str) -> list[tuple[str, str, int]]:
    from workstation.catalog import load_catalog

    spec = next(m for m in load_catalog().matters if m.code == matter)
    return [(t.code, t.department, t.time_limit_days) for t in spec.tasks]


COLUMNS = {
    "applicant": "ref id_sealed id_masked kind id_kind name initials phone_ref phone_sealed "
    "phone_masked address registered_at",
    "application": "tracking_no origin matter_code matter_version applicant_id status "
    "accepted_at accepted_by due_date due_estimated paused_since form reason completed_at "
    "delivered_at rating rating_comment access_code",
    "task": "id tracking_no task_code department_code state opened_at due_date paused_since "
    "claimed_by claim_expires decided_by decided_at permit_no reason requested",
}
"""The columns each synthesised row fills, in the order its tuple holds them."""


def _insert(table: str) -> str:
    names = COLUMNS[table].split()
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def _stamp(when: datetime) -> str:
    """A datetime as the projections store it: naive UTC text."""
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _chunks(
    tasks_of: dict[str, list[tuple[str, str, int]]], open_tasks: int
) -> Iterator[tuple[list[Rows], list[Rows], list[Rows], int]]:
    """Rows in batches until ``open_tasks`` tasks are queued (open or in supplement)."""
    rng = random.Random(2026)
    matters, weights = list(MATTERS), list(MATTERS.values())
    states, state_weights = [s for s, _ in STATES], [w for _, w in STATES]
    queued, n = 0, 0
    applicants: list[Rows] = []
    applications: list[Rows] = []
    tasks: list[Rows] = []
    batch_queued = 0
    today = NOW.date()
    while queued < open_tasks:
        n += 1
        matter = rng.choices(matters, weights)[0]
        number = f"6101020012690{n:09d}"
        accepted = NOW - timedelta(minutes=rng.randrange(60 * 24 * 40))
        # Two applications to an applicant on average: a new person every other number.
        ref = "h1.synth." + hashlib.blake2b(str(n // 2).encode(), digest_size=16).hexdigest()
        if n % 2 == 0 or n == 1:
            name = demo._SURNAMES[n % len(demo._SURNAMES)] + demo._GIVEN[n % len(demo._GIVEN)]
            applicants.append(
                (ref, "", f"6101**********{n % 10000:04d}", "person", "resident", name, "zs",
                 "", "", "", "西一路", _stamp(accepted))
            )  # fmt: skip
        dues: list[date] = []
        decided_all = True
        for code, department, days in tasks_of[matter]:
            if queued >= open_tasks:
                break
            state = rng.choices(states, state_weights)[0]
            opened = accepted + timedelta(hours=rng.randrange(48))
            # Due dates around today: a few overdue, most within the coming weeks.
            late = rng.random() < 0.04
            due = (
                today - timedelta(days=rng.randrange(1, 30))
                if late
                else today + timedelta(days=rng.randrange(0, days * 2 + 10))
            )
            dues.append(due)
            claimed = state == "open" and rng.random() < 0.05
            decided = state in ("approved", "rejected")
            decided_all = decided_all and decided
            took = timedelta(hours=rng.randrange(1, 24 * days))
            when_decided = opened + took if decided else None
            tasks.append(
                (f"{number}/{code}", number, code, department, state, _stamp(opened),
                 due.isoformat(), due.isoformat() if state == "supplement" else None,
                 f"{department}-officer"[:40] if claimed else None,
                 _stamp(NOW + timedelta(hours=2)) if claimed else None,
                 f"{department}-officer"[:40] if decided else None,
                 _stamp(min(when_decided, NOW)) if when_decided else None,
                 "", "", "[]")
            )  # fmt: skip
            if state in QUEUED:
                queued += 1
                batch_queued += 1
        status = "completed" if decided_all else "in_progress"
        promised = max(dues) + timedelta(days=2)
        applications.append(
            (number, "610102001", matter, 1, ref, status, _stamp(accepted), "clerk",
             promised.isoformat(), 0, None, "{}", "", None, None, None, "", None)
        )  # fmt: skip
        if len(tasks) >= BATCH or queued >= open_tasks:
            yield applicants, applications, tasks, batch_queued
            applicants, applications, tasks, batch_queued = [], [], [], 0
