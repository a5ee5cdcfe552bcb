"""The workstation killed (SIGKILL) again and again in the middle of a bulk intake.

`onewindow batch` accepts a file of applications and is killed after a random number of
printed acknowledgements (plus a random sliver of a transaction); it is restarted on the
applications the database does not hold yet, until all are in. After every kill the file
passes PRAGMA integrity_check, the log verifies and replays to the stored projections, no
application is half there (each has all its tasks and materials), every acknowledged
tracking number is in the database, the log has no gap and no sync cursor is ahead of it.

The size is a fast sample in ``make test``; ``ONEWINDOW_INTAKE_APPLICATIONS=5000
ONEWINDOW_INTAKE_KILLS=50`` runs the issue's full campaign.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from collections import Counter
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from models import Application, ApplicationMaterial, Task
from tests.batchrun import (
    accept_line,
    cursors_ahead,
    env_for,
    log_gaps,
    results,
    start_batch,
    write_lines,
)
from tests.conftest import Hall
from tests.factories import CATALOG
from workstation import rebuild as replay
from workstation.db import reading
from workstation.identity import person_id_check_digit
from workstation.services import applicants
from workstation.verify import verify_log

APPLICATIONS = int(os.environ.get("ONEWINDOW_INTAKE_APPLICATIONS", "100"))
KILLS = int(os.environ.get("ONEWINDOW_INTAKE_KILLS", "3"))
MATTERS = ("medical-insurance", "elderly-allowance")
"""Person matters with one task and two materials, and two tasks and four materials."""


def applications(count: int) -> list[dict[str, Any]]:
    """``count`` applications, each by an applicant of their own (so a restart can tell which
    are in from the database alone, as an operator would)."""
    lines = []
    for index in range(count):
        line = accept_line(MATTERS[index % 2], index)
        first17 = f"610102{date(1940, 1, 1) + timedelta(days=index // 10):%Y%m%d}{index % 10:03d}"
        line["id"] = first17 + person_id_check_digit(first17)
        lines.append(line)
    return lines


def test_a_workstation_killed_during_a_bulk_intake(sqlite_hall: Hall, tmp_path: Path) -> None:
    hall = sqlite_hall
    lines = applications(APPLICATIONS)
    env = env_for(hall.engine, hall.key_dir, "clerk")
    rng = random.Random(50)
    # Kill points: the total of acknowledgements at which a run is cut.
    points = sorted(rng.sample(range(1, APPLICATIONS), KILLS))
    acknowledged: set[str] = set()
    failures = kills = runs = 0
    started = time.monotonic()
    while True:
        remaining = _not_in(hall, lines)
        if not remaining:
            break
        runs += 1
        batch = start_batch(env, write_lines(tmp_path / f"run{runs}.jsonl", remaining))
        assert batch.stdout is not None
        cut = points[kills] if kills < len(points) else None
        for raw in batch.stdout:
            acknowledged |= {r["subject"] for r in results(raw) if r["ok"]}
            failures += sum(not r["ok"] for r in results(raw))
            if cut is not None and len(acknowledged) >= cut:
                time.sleep(rng.uniform(0, 0.05))  # somewhere inside the next transaction
                batch.send_signal(signal.SIGKILL)
                kills += 1
                break
        # A line printed before the kill was flushed after its commit: it counts as well.
        rest, err = batch.communicate(timeout=600)
        acknowledged |= {r["subject"] for r in results(rest) if r["ok"]}
        failures += int("Traceback" in err) + int(batch.returncode not in (0, -signal.SIGKILL))
        failures += _check(hall, tmp_path / "office.db")
        assert runs <= KILLS + 2 * APPLICATIONS, "the intake makes no progress"

    with reading(hall.engine) as session:
        stored = set(session.scalars(select(Application.tracking_no)))
        per_applicant = Counter(session.scalars(select(Application.applicant_id)))
    data_lost = len(acknowledged - stored)
    twice = sum(count - 1 for count in per_applicant.values())
    failures += int(len(stored) != APPLICATIONS) + twice
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress intake-kill [sqlite]: trials {kills}, failures {failures}, "
        f"data lost {data_lost}, acknowledged {len(acknowledged)}, accepted twice {twice}, "
        f"runs {runs}, seconds {time.monotonic() - started:.0f}"
    )
    assert kills == KILLS
    assert failures == 0 and data_lost == 0


def _not_in(hall: Hall, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The applications whose applicant has no application in the database yet."""
    with reading(hall.engine) as session:
        held = set(session.scalars(select(Application.applicant_id)))
    key = applicants.data_key(hall.clerk)  # applicants are stored by keyed hash only
    return [line for line in lines if key.reference(line["id"], kind="id") not in held]


def _check(hall: Hall, path: Path) -> int:
    """Problems in the database left behind by a run: 0 when it is whole."""
    with closing(sqlite3.connect(path)) as raw:
        problems = int(raw.execute("PRAGMA integrity_check").fetchone()[0] != "ok")
    with reading(hall.engine) as session:
        # What `onewindow verify` and `onewindow rebuild --check` check, without two more starts.
        problems += int(not verify_log(session).ok) + len(replay.check(session))
        rows = session.execute(select(Application.tracking_no, Application.matter_code)).all()
        matters = {number: code for number, code in rows}
        tasks = Counter(session.scalars(select(Task.tracking_no)))
        materials = Counter(session.scalars(select(ApplicationMaterial.tracking_no)))
    for number, code in matters.items():
        spec = CATALOG.matter(code)
        assert spec is not None
        required = sum(m.required for m in spec.materials)
        problems += int(tasks[number] != len(spec.tasks) or materials[number] != required)
    problems += log_gaps(hall.engine) + cursors_ahead(hall.engine)
    return problems
