"""The county's `onewindow bundle import` killed (SIGKILL) again and again mid-import.

Every import of the campaign runs with the test hook, which waits with every event applied
and nothing committed: the first is killed there, the others at a random moment of their run
(at the hook if that moment comes later), so every kill falls inside an import. After each
kill the county is whole: the database's own check passes, the log verifies and the
projections replay the same (by ``onewindow verify`` and ``onewindow rebuild --check``
themselves after the first kill), the bundle is in the county wholly or not at all, no
application is there without its tasks, the received cursor is not ahead of the stored
events, and a receipt written beside the bundle covers only stored events. Importing again
at the end stores exactly the township's events, none twice, and its receipt covers them all.

The size is a fast sample in ``make test``; ``ONEWINDOW_IMPORT_EVENTS=10000
ONEWINDOW_IMPORT_KILLS=20`` runs the issue's full campaign.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from select import select as readable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import Application, ChainHead, SyncCursor, Task
from sync.bundle import PAUSE_HOOK, export_bundle, read_receipt, receipt_path, take_bundle_receipt
from tests.conftest import NOW, Hall
from tests.levels import link, open_county
from tests.test_link_cuts import logged
from tests.test_sync_crash import grow
from workstation import rebuild
from workstation.crypto import sha256_hex
from workstation.db import reading
from workstation.verify import verify_log

EVENTS = int(os.environ.get("ONEWINDOW_IMPORT_EVENTS", "200"))
KILLS = int(os.environ.get("ONEWINDOW_IMPORT_KILLS", "2"))
WAIT = 600.0
"""Seconds an import may take to reach the hook before the test gives up on it."""


def test_an_import_killed_anywhere_leaves_the_county_whole(
    engine: Engine, township: Hall, tmp_path: Path
) -> None:
    keys = tmp_path / "county-keys"
    link(engine, open_county(engine, keys), keys, township)
    total = grow(township, EVENTS)
    bundle = tmp_path / "township.bundle"
    assert export_bundle(township.engine, township.key_dir, bundle) == total
    code = township.admin.office_code
    rng = random.Random(20)

    problems: list[str] = []
    applied, early = WAIT, 0  # how long an import takes to apply everything, once measured
    for trial in range(KILLS):
        started = time.monotonic()
        # Every import waits at the hook, so none commits during the campaign: each kill
        # falls at a random moment of its run, or (if that is later) at the hook.
        importing = cli(engine, keys, "bundle", "import", str(bundle), pause=WAIT)
        if trial == 0:
            assert wait_for_hook(importing, WAIT), "the import never reached the hook"
            applied = time.monotonic() - started
        else:
            early += not wait_for_hook(importing, rng.uniform(0, applied))
        if importing.poll() is not None:
            problems.append(f"the import stopped by itself: {importing.communicate()}")
        kill(importing)
        problems += check(engine, keys, bundle, code, total, by_cli=trial == 0)
    half = sum(found.startswith("half") for found in problems)

    done = cli(engine, keys, "bundle", "import", str(bundle))
    output = done.communicate(timeout=WAIT)[0].decode()
    assert done.returncode == 0, output
    ours, held = logged(township.engine, code), logged(engine, code)
    lost, twice = len(set(ours) - set(held)), len(held) - len(set(held))
    problems += check(engine, keys, bundle, code, total)
    covered, _ = take_bundle_receipt(township.engine, receipt_path(bundle), NOW)
    failures = len(problems) + int(lost != 0) + int(twice != 0) + int(covered != total)
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress import-kill [{engine.dialect.name}]: trials {KILLS}, failures {failures}, "
        f"data lost {lost}, stored twice {twice}, half imports {half}, events {total}, "
        f"kills before the hook {early}, at the hook {KILLS - early}"
    )
    assert not problems, problems
    assert lost == twice == 0 and len(held) == len(ours) == total
    assert covered == total


def cli(engine: Engine, keys: Path, *args: str, pause: float = 0) -> subprocess.Popen[bytes]:
    """`onewindow ARGS` as a real process on the county's database (``pause``: the hook)."""
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "ONEWINDOW_KEY_DIR": str(keys),
        "ONEWINDOW_LANGUAGE": "en",
    }
    if pause:
        env[PAUSE_HOOK] = str(pause)
    command = [str(Path(sys.executable).parent / "onewindow"), *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for_hook(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """True once the import says it waits at the hook; False if ``seconds`` pass first."""
    assert process.stderr is not None
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = readable([process.stderr], [], [], left)
        if not ready:
            break
        line = process.stderr.readline()
        if PAUSE_HOOK.encode() in line:
            return True
        if not line:  # the process ended
            break
    return False


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as a power cut would (if it has not ended by itself)."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)


def check(
    engine: Engine, keys: Path, bundle: Path, origin: str, total: int, *, by_cli: bool = False
) -> list[str]:
    """What is wrong with the county after an import stopped; nothing, if it is whole.

    The log and projections are checked by the functions `onewindow verify` and `rebuild
    --check` run, or (``by_cli``) by those commands themselves, as an operator would.
    """
    problems = []
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database is not None
        with sqlite3.connect(database) as raw:
            verdict = raw.execute("PRAGMA integrity_check").fetchall()
        if verdict != [("ok",)]:
            problems.append(f"integrity_check: {verdict}")
    for command in (("verify",), ("rebuild", "--check")) if by_cli else ():
        ran = cli(engine, keys, *command)
        output = ran.communicate(timeout=WAIT)
        if ran.returncode != 0:
            problems.append(f"{' '.join(command)}: {output}")
    if not by_cli:
        with reading(engine) as session:
            if not verify_log(session).ok:
                problems.append(f"verify: {verify_log(session).problem}")
            if differences := rebuild.check(session):
                problems.append(f"rebuild --check: {differences}")
    held = logged(engine, origin)
    if len(held) not in (0, total):
        problems.append(f"half imported: {len(held)} of {total}")
    with reading(engine) as session:
        bare = session.scalar(
            select(func.count())
            .select_from(Application)
            .where(~col(Application.tracking_no).in_(select(col(Task.tracking_no))))
        )
        head = session.get(ChainHead, origin)
        cursor = session.get(SyncCursor, (origin, origin, "in"))
    if bare:
        problems.append(f"{bare} applications without tasks")
    stored = max((seq for _, seq, _, _ in held), default=0)
    if cursor is not None and (cursor.seq > stored or head is None or cursor.seq > head.seq):
        problems.append(f"cursor at {cursor.seq}, events stored to {stored}")
    receipt = receipt_path(bundle)
    if receipt.exists():
        places = {(o, s): sha256_hex(p) for o, s, p, _ in held}
        for name, (seq, digest) in read_receipt(receipt).heads.items():
            if name == origin and places.get((name, seq)) != digest:
                problems.append(f"receipted {name} to {seq}, not stored")
    return problems
