"""Four people in one hall at once: two clerks accepting, two officers of one department
racing for the very same tasks, each a real `onewindow batch` process on one database.

No one ever reads "database is locked", no task is decided twice, the loser of every race is
told who won, the log has no gap, and it verifies and replays. The size is a fast sample in
``make test``; ``ONEWINDOW_CONCURRENT_ACTIONS=5000`` runs the issue's full campaign.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from models import Application, Event, Task
from tests.batchrun import (
    accept_line,
    add_staff,
    env_for,
    log_gaps,
    results,
    seed_applications,
    start_batch,
    write_lines,
)
from tests.conftest import Hall
from workstation import rebuild as replay
from workstation.db import reading
from workstation.verify import verify_log

ACTIONS = int(os.environ.get("ONEWINDOW_CONCURRENT_ACTIONS", "20"))
"""Actions each of the four processes runs."""
MATTER, DEPARTMENT = "medical-insurance", "medical-insurance"
OFFICERS = ("o-med1", "o-med2")
CLERKS = ("clerk", "clerk2")
LOST_RACE = ("error.task.claimed", "error.task.decided")
"""What the second officer to act on a task is told: who claimed it, or who decided it."""


def officer_lines(numbers: list[str]) -> list[dict[str, Any]]:
    """The same work for both officers, in the same order, so that they collide: every other
    task is claimed first, the rest decided straight away; a third of them are rejected."""
    lines: list[dict[str, Any]] = []
    for index, number in enumerate(numbers):
        task = f"{number}/enrol"
        if index % 2 == 0:
            lines.append({"do": "claim", "task": task})
        if index % 3 == 0:
            lines.append({"do": "reject", "task": task, "reason": "户口本与身份证不一致"})
        else:
            lines.append({"do": "approve", "task": task})
    return lines


def race(officers: list[subprocess.Popen[str]], plan: list[dict[str, Any]]) -> list[str]:
    """Hand both officers each line of ``plan`` at the same moment, in a random order, and
    wait for both answers before the next: every task is fought over. What each printed."""
    rng = random.Random(6)
    printed = ["", ""]
    for line in plan:
        text = json.dumps(line, ensure_ascii=False) + "\n"
        for officer in rng.sample(officers, len(officers)):
            assert officer.stdin is not None
            officer.stdin.write(text)
            officer.stdin.flush()
        for index, officer in enumerate(officers):
            assert officer.stdout is not None
            printed[index] += officer.stdout.readline()
    return printed  # communicate() closes their stdin: the end of the batch


def test_two_clerks_and_two_officers_at_once(hall: Hall, tmp_path: Path) -> None:
    add_staff(
        hall,
        [("clerk2", "clerk", []), *((officer, "officer", [DEPARTMENT]) for officer in OFFICERS)],
    )
    contested = seed_applications(hall, MATTER, ACTIONS * 2 // 3)
    plan = officer_lines(contested)
    clerk_plans = [
        [accept_line(MATTER, 10_000 * (n + 1) + i) for i in range(ACTIONS)] for n in range(2)
    ]
    # Each reads the messages in their own language.
    people = [
        (CLERKS[0], "en", clerk_plans[0]),
        (CLERKS[1], "zh_CN", clerk_plans[1]),
        (OFFICERS[0], "en", plan),
        (OFFICERS[1], "zh_CN", plan),
    ]
    started = time.monotonic()
    clerks = [
        start_batch(env, write_lines(tmp_path / f"{who}.jsonl", lines))
        for who, env, lines in ((who, env_for(hall.engine, hall.key_dir, who, lang), lines)
                                for who, lang, lines in people[:2])
    ]  # fmt: skip
    officers = [
        start_batch(env_for(hall.engine, hall.key_dir, who, lang)) for who, lang, _ in people[2:]
    ]
    raced = race(officers, plan)
    outputs = [clerk.communicate(timeout=3600) for clerk in clerks]
    for printed, officer in zip(raced, officers, strict=True):
        rest, err = officer.communicate(timeout=600)
        outputs.append((printed + rest, err))
    processes = clerks + officers
    elapsed = time.monotonic() - started

    failures = locked = 0
    said: dict[str, list[dict[str, Any]]] = {}
    for (who, _, lines), (out, err) in zip(people, outputs, strict=True):
        locked += sum("locked" in line.lower() for line in (out + err).splitlines())
        failures += int("Traceback" in err)
        said[who] = results(out)
        failures += int(len(said[who]) != len(lines))
    # The clerks: every application accepted, each under a number of its own.
    accepted = [r["subject"] for who in CLERKS for r in said[who] if r["ok"]]
    failures += sum(not r["ok"] for who in CLERKS for r in said[who])
    failures += len(accepted) - len(set(accepted))
    # The officers: for each task one of them won, and the other was told who.
    won: dict[str, list[str]] = {}
    already_decided = 0
    for who, other in (OFFICERS, OFFICERS[::-1]):
        for line, result in zip(plan, said[who], strict=False):
            if result["ok"]:
                if line["do"] != "claim":
                    won.setdefault(line["task"], []).append(who)
                continue
            failures += int(result["error"] not in LOST_RACE or other not in result["message"])
            already_decided += int(result["error"] == "error.task.decided")
    decisions = [line["task"] for line in plan if line["do"] != "claim"]
    lost_updates = sum(len(won.get(task, [])) != 1 for task in decisions)

    with reading(hall.engine) as session:
        decided_events = Counter(
            session.scalars(
                select(Event.subject).where(col(Event.type).in_(["task.approved", "task.rejected"]))
            )
        )
        lost_updates += sum(decided_events[task.split("/")[0]] != 1 for task in decisions)
        deciders = dict(
            session.execute(
                select(Task.id, Task.decided_by).where(col(Task.id).in_(decisions))
            ).all()
        )
        stored = set(
            session.scalars(
                select(Application.tracking_no).where(col(Application.tracking_no).in_(accepted))
            )
        )
        total = session.scalar(select(func.count()).select_from(Application))
    data_lost = len(set(accepted) - stored)
    data_lost += sum(deciders.get(task) != who[0] for task, who in won.items())
    failures += int(total != len(contested) + 2 * ACTIONS)
    failures += log_gaps(hall.engine)
    with reading(hall.engine) as session:
        # What `onewindow verify` and `onewindow rebuild --check` check, without two more starts.
        failures += int(not verify_log(session).ok) + len(replay.check(session))
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress concurrency [{hall.engine.dialect.name}]: trials 4x{ACTIONS}, "
        f"failures {failures}, data lost {data_lost}, locked {locked}, "
        f"lost updates {lost_updates}, already-decided {already_decided}, "
        f"seconds {elapsed:.0f}"
    )
    # A batch with a refused line ends with status 1. Which officer loses which race is the
    # scheduler's choice (one may win them all): each must say so by its status.
    refused = [int(any(not r["ok"] for r in said[who])) for who, _, _ in people]
    assert [p.returncode for p in processes] == refused and refused[:2] == [0, 0], (
        [err for _, err in outputs],
        said[OFFICERS[0]][:3],
        said[OFFICERS[1]][:3],
    )
    assert locked == 0 and lost_updates == 0
    assert failures == 0 and data_lost == 0
    assert already_decided > 0
