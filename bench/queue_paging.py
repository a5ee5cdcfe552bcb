"""How the department queue behaves on a big office: grow it, then time pages and key presses.

``python -m bench.queue_paging --tasks 100000`` grows a demo office (every task a signed
intake through the services, cached in ``bench/.cache`` for later runs), then measures, for the
medical-insurance queue: the raw indexed page query (the limit), the service call the screen
makes, and a PageDown in the real Textual app under the Pilot, from key press to page painted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from models import Task
from workstation import crypto, demo
from workstation.db import make_engine, reading, upgrade, writing
from workstation.identity import person_id_check_digit
from workstation.services import intake
from workstation.services.applicants import ApplicantInput
from workstation.services.auth import login
from workstation.settings import load_settings

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
DEPARTMENT = "medical-insurance"
CACHE = Path(__file__).parent / ".cache"


def grow(db: Path, keys: Path, tasks: int) -> None:
    """A demo office with ``tasks`` open medical-insurance tasks (one per application)."""
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    demo.seed(engine, key_dir=keys, seed=1, count=0, now=NOW)
    with reading(engine) as session:
        have = (
            session.scalar(
                select(func.count()).select_from(Task).where(Task.department_code == DEPARTMENT)
            )
            or 0
        )
        clerk = login(session, key_dir=keys, username="clerk", password=demo.PASSWORD)
        matter = intake.matter(session, "medical-insurance")
    rng = random.Random(7)
    form = {"insured-category": "成年居民", "insurance-year": "2027", "residence-address": "西一路"}
    received = tuple(m.code for m in matter.materials if m.required)
    started, done = time.perf_counter(), have
    while done < tasks:
        with writing(engine) as session:
            for _ in range(min(2000, tasks - done)):
                born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(60 * 365))
                first17 = f"610102{born:%Y%m%d}{rng.randrange(1000):03d}"
                applicant = ApplicantInput(
                    "person", first17 + person_id_check_digit(first17), "张三"
                )
                when = NOW - timedelta(minutes=rng.randrange(60 * 24 * 20))
                request = intake.IntakeRequest(applicant, "medical-insurance", received, {}, form)
                intake.accept(session, actor=clerk, request=request, now=when)
                done += 1
        rate = (done - have) / (time.perf_counter() - started)
        print(f"  grown to {done} tasks ({rate:.0f} intakes/s)", file=sys.stderr)
    engine.dispose()


def _ms(samples: list[float]) -> str:
    median, low, high = (1000 * f(samples) for f in (statistics.median, min, max))
    return f"median {median:.2f} ms (min {low:.2f}, max {high:.2f})"


def measure(db: Path, keys: Path) -> None:
    """Raw page query, service page, and PageDown in the app."""
    engine = make_engine(f"sqlite:///{db}")
    # The limit: the same keyset walk down the (department, due, id) index, in raw SQL.
    raw = text(
        "SELECT * FROM task WHERE department_code = :d AND state IN ('open', 'supplement') "
        "AND (due_date, id) > (:due, :id) ORDER BY due_date, id LIMIT 50"
    )
    with engine.connect() as connection:
        total = connection.execute(
            text("SELECT count(*) FROM task WHERE department_code = :d"), {"d": DEPARTMENT}
        ).scalar()
        samples, key = [], ("0000-00-00", "")
        for _ in range(40):
            t = time.perf_counter()
            rows = connection.execute(raw, {"d": DEPARTMENT, "due": key[0], "id": key[1]}).all()
            samples.append(time.perf_counter() - t)
            key = (rows[-1].due_date, rows[-1].id)
    print(f"open tasks in the queue: {total}")
    print(f"raw indexed page query (limit): {_ms(samples)}")

    from workstation.workbench import Workbench

    settings = load_settings(key_dir=keys, cursor_blink=False)
    bench = Workbench(settings, engine, clock=lambda: NOW)
    bench.login(f"{DEPARTMENT}-officer", demo.PASSWORD)
    samples, after = [], None
    for _ in range(40):
        t = time.perf_counter()
        page = bench.queue(DEPARTMENT, after=after, limit=50)
        samples.append(time.perf_counter() - t)
        after = page.last_key
    print(f"service page (query + lights), first 40 pages: {_ms(samples)}")
    with engine.connect() as connection:
        # The task 50 rows above the end: the anchor of the last page.
        row = connection.execute(
            text(
                "SELECT due_date, id FROM task WHERE department_code = :d "
                "AND state IN ('open', 'supplement') ORDER BY due_date DESC, id DESC "
                "LIMIT 1 OFFSET 50"
            ),
            {"d": DEPARTMENT},
        ).one()
    anchor = (datetime.strptime(str(row.due_date), "%Y-%m-%d").date(), row.id)
    samples = []
    for _ in range(10):
        t = time.perf_counter()
        page = bench.queue(DEPARTMENT, after=anchor, limit=50)
        samples.append(time.perf_counter() - t)
    assert len(page.tasks) == 50
    print(f"service page, the last page: {_ms(samples)}")
    samples = []
    for _ in range(10):
        t = time.perf_counter()
        bench.queue_size(DEPARTMENT)
        samples.append(time.perf_counter() - t)
    print(f"count of the view (made once per view, after the page is painted): {_ms(samples)}")
    asyncio.run(_pilot(settings, engine))


async def _pilot(settings: object, engine: object) -> None:
    from screens.widgets.task_table import TaskTable
    from workstation.app import build_app

    app = build_app(settings, engine=engine, clock=lambda: NOW)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        t = time.perf_counter()
        await pilot.press(*f"{DEPARTMENT}-officer", "enter", *demo.PASSWORD, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        print(f"login → queue painted (includes scrypt): {(time.perf_counter() - t) * 1000:.0f} ms")
        table = app.screen.query_one(TaskTable)
        # "Painted" is the first frame the compositor hands to the terminal after the table
        # holds the new page: the app's _display hook, timed from the moment the key is sent.
        # (Pilot.press also waits for the whole process to go idle, which is not the user's
        # wait; the old figure, 218-233 ms, was mostly that.)
        watch: dict[str, object] = {"before": None}
        painted: list[float] = []
        display = app._display

        def timed_display(screen: object, renderable: object) -> None:
            display(screen, renderable)  # type: ignore[arg-type]
            before = watch["before"]
            if renderable is None or before is None or not table.row_count:
                return
            if table.get_row_at(0) != before:
                painted.append(time.perf_counter())
                watch["before"] = None

        setattr(app, "_display", timed_display)  # noqa: B010 - a measuring hook, bench only
        samples = []
        for _ in range(30):
            watch["before"] = table.get_row_at(0)
            t = time.perf_counter()
            app.simulate_key("pagedown")
            while watch["before"] is not None:
                await asyncio.sleep(0.0005)
            samples.append(painted[-1] - t)
            await pilot.pause()
        print(f"PageDown → next page painted: {_ms(samples)}")


def main() -> None:
    """Grow (once) and measure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    args = parser.parse_args()
    crypto.SCRYPT_N = 2**14  # bench keys only; the figure measured is the queue, not the login
    CACHE.mkdir(exist_ok=True)
    db, keys = CACHE / f"queue-{args.tasks}.db", CACHE / f"keys-{args.tasks}"
    grow(db, keys, args.tasks)
    measure(db, keys)


if __name__ == "__main__":
    main()
