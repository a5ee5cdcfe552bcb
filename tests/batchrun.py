"""`onewindow batch` as a real process, and the checks every campaign makes of the database."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlmodel import col

from models import ChainHead, Event, SyncCursor
from tests.conftest import PASSWORD, Hall
from tests.factories import CATALOG, request_for
from workstation.db import reading, writing
from workstation.services import intake, office

ONEWINDOW = str(Path(sys.executable).parent / "onewindow")


def env_for(engine: Engine, key_dir: Path, who: str = "", language: str = "en") -> dict[str, str]:
    """The environment of a `onewindow` process working on ``engine`` as ``who``."""
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ONEWINDOW_KEY_DIR": str(key_dir),
        "ONEWINDOW_LANGUAGE": language,
    }
    if who:
        env |= {"ONEWINDOW_OPERATOR": who, "ONEWINDOW_PASSWORD": PASSWORD}
    return env


def start_batch(env: dict[str, str], lines: Path | None = None) -> subprocess.Popen[str]:
    """`onewindow batch LINES` (without LINES: ``-``, fed through its stdin) started; its
    output is readable line by line as it comes."""
    return subprocess.Popen(
        [ONEWINDOW, "batch", str(lines) if lines else "-"],
        env=env,
        stdin=subprocess.PIPE if lines is None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def onewindow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A one-shot `onewindow` command, run to its end."""
    return subprocess.run(
        [ONEWINDOW, *args], env=env, capture_output=True, text=True, encoding="utf-8", timeout=600
    )


def results(output: str) -> list[dict[str, Any]]:
    """The result lines a batch printed."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def write_lines(path: Path, actions: list[dict[str, Any]]) -> Path:
    """Actions as a JSON-lines file."""
    path.write_text(
        "".join(json.dumps(action, ensure_ascii=False) + "\n" for action in actions),
        encoding="utf-8",
    )
    return path


def accept_line(matter: str, seed: int) -> dict[str, Any]:
    """A complete application for ``matter`` as a batch line (what `onewindow accept` takes)."""
    request = request_for(matter, rng=random.Random(seed))
    spec = CATALOG.matter(matter)
    assert spec is not None
    return {
        "do": "accept",
        "matter": matter,
        "id": request.applicant.id_number,
        "name": request.applicant.name,
        "kind": request.applicant.kind,
        "phone": request.applicant.phone,
        "received": list(request.received),
        "field": dict(request.form),
    }


def add_staff(hall: Hall, people: list[tuple[str, str, list[str]]]) -> None:
    """Register more operators (user name, role, departments) in ``hall``."""
    with writing(hall.engine) as session:
        for username, role, departments in people:
            office.add_operator(
                session,
                actor=hall.admin,
                key_dir=hall.key_dir,
                username=username,
                name=username,
                role=role,
                departments=departments,
                password=PASSWORD,
                now=datetime.now().astimezone(),
            )


def seed_applications(hall: Hall, matter: str, count: int) -> list[str]:
    """``count`` applications accepted by the clerk (in one transaction); their numbers."""
    numbers = []
    with writing(hall.engine) as session:
        for seed in range(count):
            result = intake.accept(
                session,
                actor=hall.clerk,
                request=request_for(matter, rng=random.Random(seed)),
                now=datetime.now().astimezone(),
            )
            numbers.append(result.tracking_no)
    return numbers


def log_gaps(engine: Engine) -> int:
    """Missing or doubled sequence numbers over all origins, and chain heads off their log."""
    gaps = 0
    with reading(engine) as session:
        rows = session.execute(
            select(
                Event.origin,
                func.count(),
                func.count(func.distinct(Event.seq)),
                func.max(Event.seq),
            ).group_by(col(Event.origin))
        ).all()
        for origin, count, distinct, highest in rows:
            head = session.get(ChainHead, origin)
            gaps += (highest - distinct) + (count - distinct)
            gaps += int(head is None or head.seq != highest)
    return gaps


def cursors_ahead(engine: Engine) -> int:
    """Sync cursors that claim a sequence the log does not hold."""
    with reading(engine) as session:
        ahead = 0
        for cursor in session.scalars(select(SyncCursor)):
            highest = session.scalar(
                select(func.max(Event.seq)).where(col(Event.origin) == cursor.origin)
            )
            ahead += int(cursor.seq > (highest or 0))
        return ahead
