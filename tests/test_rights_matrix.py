"""The full rights matrix (invariant 5): every role × every action × every target, at the
service layer and at sync ingestion upstream, allowed exactly where auth's rules say.

The rules are read from ``workstation.services.auth`` (``may_sign``, ``may_act_on``,
``READ_RIGHTS``, ``may_read_queue``), never restated here. Targets: a case of the actor's own
office, of a sibling township, of the parent county, and (from the county) of a township below;
for a task, one of the officer's own department and one of another. An allowed action runs
in a transaction rolled back afterwards, so every row sees the same world; a refusal runs in
the real write transaction and must be a WorkstationError with a message in both languages
that changes no row of any table.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from models import Task
from sync import signing
from sync.wire import Batch
from tests.conftest import PASSWORD
from tests.levels import running_hub, wire_events
from tests.rights_actions import ACTIONS, Action, Context
from tests.rights_world import (
    ABOVE,
    LATER,
    TOWN_A,
    Place,
    World,
    build_world,
    fingerprint,
    forge,
    last_event,
    push,
    trial,
)
from workstation.crypto import Signer
from workstation.db import reading, writing
from workstation.errors import PermissionDenied, SyncRefused, WorkstationError
from workstation.i18n import keys
from workstation.projector import OPENERS, subject_of
from workstation.services import enrolment, office
from workstation.services.auth import (
    DEPARTMENT_TYPES,
    OWN_CASE_TYPES,
    READ_RIGHTS,
    SIGNING_RIGHTS,
    Actor,
    may_act_on,
    may_read_queue,
    may_sign,
    record,
)  # fmt: skip
from workstation.services.enrolment import OfficeCard
from workstation.workdays import YearSchedule, bundled_schedule

ROLES = ("clerk", "officer", "officer:other", "supervisor", "admin", "auditor")
"""An officer of the task's department (of market, off a task), and one of another (tax)."""
OTHER_DEPARTMENT = "tax"
CASE_TARGETS = (("a", "own"), ("a", "sibling"), ("a", "parent"), ("county", "own"),
                ("county", "below"))  # fmt: skip
OFFICE_TARGETS = (("a", "office"), ("county", "office"))
TALLY: Counter[str] = Counter()
"""trials, failures, allowed, refused over the whole module (for the summary line)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Built once: every row leaves it as it found it (and proves so)."""
    return build_world(tmp_path_factory.mktemp("rights"))


def _target(world: World, where: str, target: str) -> tuple[Place, Place]:
    """(the actor's office, the office whose cases are the target)."""
    place = world.a if where == "a" else world.county
    owner = {"own": place, "office": place, "sibling": world.b, "parent": world.county,
             "below": world.a}[target]  # fmt: skip
    return place, owner


def _department(owner: Place, task_id: str) -> str:
    with reading(owner.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None, task_id
        return task.department_code


def _actor(place: Place, role: str, department: str | None) -> Actor:
    if role == "officer":
        return place.officer(department or "market")
    if role == "officer:other":
        return place.officer(OTHER_DEPARTMENT)
    return place.staff[role]


def _bilingual(error: WorkstationError) -> None:
    assert error.key in keys("zh_CN") and error.key in keys("en"), error.key
    zh, en = error.message("zh_CN"), error.message("en")
    assert zh != en and "{" not in zh + en, (zh, en)


@contextmanager
def _counted(outcome: str) -> Iterator[None]:
    TALLY["trials"] += 1
    try:
        yield
    except BaseException:
        TALLY["failures"] += 1
        raise
    TALLY[outcome] += 1


def _service_rows() -> Iterator[object]:
    for action in ACTIONS:
        for where, target in CASE_TARGETS if action.on_case else OFFICE_TARGETS:
            for role in ROLES:
                yield pytest.param(action, where, target, role,
                                   id=f"{role}-{action.name}-{where}.{target}")  # fmt: skip


@pytest.mark.parametrize(("action", "where", "target", "role"), list(_service_rows()))
def test_service(
    world: World, action: Action, where: str, target: str, role: str, tmp_path: Path
) -> None:
    place, owner = _target(world, where, target)
    context = Context(world, place, place.staff["admin"], owner.cases, tmp_path)
    task_id = action.task(context) if action.task else None
    department = _department(owner, task_id) if task_id else None
    actor = _actor(place, role, department)
    context = dataclasses.replace(context, actor=actor)
    if action.kind.startswith("read."):
        what = action.kind.removeprefix("read.")
        if what.startswith("queue:"):
            right = may_read_queue(actor.role, actor.departments, what.split(":")[1])
        else:
            right = actor.may(READ_RIGHTS[what])
    else:
        right = may_sign(actor.role, actor.departments, action.kind, department)
    reach = not action.on_case or may_act_on(action.kind, place.code, owner.code, ABOVE[owner.code])
    allowed = right and reach
    with _counted("allowed" if allowed else "refused"):
        if allowed:
            with trial(place.engine) as session:
                before = last_event(session, place.code)
                action.run(session, context)
                after = last_event(session, place.code)
            if not action.kind.startswith("read."):
                assert after is not None and before is not None
                assert (after["seq"], after["type"], after["actor"]) == (
                    before["seq"] + 1, action.kind, actor.username,
                )  # fmt: skip
            return
        print_before = fingerprint(place.engine)
        with pytest.raises(WorkstationError) as refused, writing(place.engine) as session:
            action.run(session, context)
        _bilingual(refused.value)
        present = target in ("own", "below", "office")
        assert isinstance(refused.value, PermissionDenied) or not present, refused.value.key
        assert fingerprint(place.engine) == print_before


# ── ingestion upstream ─────────────────────────────────────────────────────────────────────
KINDS = tuple(sorted({*SIGNING_RIGHTS, *DEPARTMENT_TYPES}))
"""Every event type an operator signs (the genesis is the office's own, checked apart)."""
CASE_KINDS = frozenset(
    {a.kind for a in ACTIONS if a.on_case and not a.kind.startswith("read.")} | OWN_CASE_TYPES
)
SOURCES = {"own": "a", "sibling": "b", "parent": "county"}
"""Whose genuine event a township-A insider copies and signs as their own."""


def _ingestion_rows() -> Iterator[object]:
    for kind in KINDS:
        for source in SOURCES if kind in CASE_KINDS else ("own",):
            for role in ROLES:
                yield pytest.param(kind, source, role, id=f"{role}-{kind}-{source}")


def _genuine(world: World, kind: str, owner: Place, scratch: Path) -> dict[str, object]:
    """The body of a ``kind`` event as ``owner``'s own services make it (rolled back)."""
    with trial(owner.engine) as session:
        admin = owner.staff["admin"]
        if kind in _BY_HAND:
            _BY_HAND[kind](session, world, admin)
        else:
            action = next(a for a in ACTIONS if a.kind == kind)
            context = Context(world, owner, admin, owner.cases, scratch)
            task_id = action.task(context) if action.task else None
            department = _department(owner, task_id) if task_id else None
            signer = next(
                actor
                for actor in owner.staff.values()
                if may_sign(actor.role, actor.departments, kind, department)
            )
            action.run(session, dataclasses.replace(context, actor=signer))
        envelope = last_event(session, owner.code)
        assert envelope is not None and envelope["type"] == kind
        return dict(envelope["body"])


def _village(session: Session, admin: Actor) -> str:
    key = Signer.generate()
    card = OfficeCard(f"{TOWN_A}001", "东关村", "village", key.key_id, key.public_key.hex())
    enrolment.enrol(session, actor=admin, card=card, now=LATER)
    return card.code


_BY_HAND: dict[str, Callable[[Session, World, Actor], object]] = {
    "calendar.loaded": lambda s, w, admin: office.load_calendar(
        s, actor=admin, schedule=_schedule(), now=LATER
    ),
    "office.enrolled": lambda s, w, admin: _village(s, admin),
    "office.revoked": lambda s, w, admin: enrolment.revoke(
        s, actor=admin, code=_village(s, admin), reason="撤并", now=LATER
    ),
    # Registered already (a service says so): the same body again, as an insider would sign it.
    "office.key_registered": lambda s, w, admin: record(
        s, admin, "office.key_registered",
        {"office": TOWN_A, "key_id": w.a_key.key_id, "public_key": w.a_key.public_key.hex()},
        LATER,
    ),
    "office.upstream_registered": lambda s, w, admin: record(
        s, admin, "office.upstream_registered", asdict(_county_card(w)), LATER
    ),
}  # fmt: skip
"""Office events made by hand: a village enrolled (and revoked) below A, the rest again."""


def _schedule() -> YearSchedule:
    schedule = bundled_schedule(2027)
    assert schedule is not None
    return schedule


def _county_card(world: World) -> OfficeCard:
    with reading(world.county.engine) as session:
        return enrolment.office_card(session)


@pytest.mark.parametrize(("kind", "source", "role"), list(_ingestion_rows()))
def test_ingestion(world: World, kind: str, source: str, role: str, tmp_path: Path) -> None:
    owner = {"a": world.a, "b": world.b, "county": world.county}[SOURCES[source]]
    body = _genuine(world, kind, owner, tmp_path)
    subject = subject_of({"body": body})
    task = body.get("task")
    department = _department(owner, task) if isinstance(task, str) else None
    signer = _actor(world.a, role, department)
    allowed = may_sign(signer.role, signer.departments, kind, department) and (
        subject is None
        or kind in OPENERS
        or may_act_on(kind, TOWN_A, owner.code, ABOVE[owner.code])
    )
    wires = []
    if kind == "office.revoked":  # the office it revokes is enrolled first, by A's admin
        enrolled = _genuine(world, "office.enrolled", owner, tmp_path)
        wires.append(
            forge(world.a.engine, TOWN_A, world.a.staff["admin"], "office.enrolled", enrolled)
        )
    wires.append(forge(world.a.engine, TOWN_A, signer, kind, body, wires[-1] if wires else None))
    with _counted("allowed" if allowed else "refused"):
        if allowed:
            with trial(world.county.engine) as session:
                assert push(world, wires, session).stored == len(wires)
            return
        before = fingerprint(world.county.engine)
        with pytest.raises(SyncRefused) as refused, writing(world.county.engine) as session:
            push(world, wires, session)
        assert refused.value.key == "error.sync.not_allowed"
        _bilingual(refused.value)
        assert fingerprint(world.county.engine) == before


def test_a_clerks_approval_is_refused_by_a_real_hub(world: World, tmp_path: Path) -> None:
    """Over HTTP, as a township pushes: the county's hub refuses it whole, stores nothing."""
    body = _genuine(world, "task.approved", world.a, tmp_path)
    wire = forge(world.a.engine, TOWN_A, world.a.staff["clerk"], "task.approved", body)
    payload = Batch.sign(TOWN_A, [wire], world.a_key).encode()
    before = fingerprint(world.county.engine)
    with running_hub(world.county.engine, world.county.key_dir) as url:
        headers = signing.sign(
            TOWN_A, world.a_key, "POST", signing.PUSH, payload, datetime.now(UTC)
        )
        answer = httpx.post(f"{url}{signing.PUSH}", content=payload, headers=headers, timeout=30)
    with _counted("refused"):
        assert answer.status_code == 422 and answer.json()["error"] == "error.sync.not_allowed"
        assert "clerk" in answer.json()["message"]["en"]
        assert fingerprint(world.county.engine) == before


@pytest.mark.parametrize(
    ("operator", "command", "ok"),
    [
        ("audit", ["audit"], True),
        ("audit", ["show", "{open}"], False),
        ("audit", ["queue", "market"], False),
        ("admin", ["show", "{open}"], False),
        ("admin", ["audit"], False),
    ],
)
def test_duties_apart_on_the_command_line(
    world: World, operator: str, command: list[str], ok: bool, tmp_path: Path
) -> None:
    """The auditor reads the audit log and nothing else; the administrator reads neither."""
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": world.a.engine.url.render_as_string(hide_password=False),
        "ONEWINDOW_KEY_DIR": str(world.a.key_dir),
        "ONEWINDOW_OPERATOR": operator,
        "ONEWINDOW_PASSWORD": PASSWORD,
        "ONEWINDOW_LANGUAGE": "en",
    }
    args = [part.format(open=world.a.cases["open"]) for part in command]
    before = wire_events(world.a.engine)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "onewindow"), *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    with _counted("allowed" if ok else "refused"):
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        if not ok:  # refused in plain words; the log is as it was (the refusal is audited)
            assert "may not" in done.stdout + done.stderr
            assert wire_events(world.a.engine) == before


def test_summary() -> None:
    """The campaign's one line: every row above ran and none failed."""
    rows = len(list(_service_rows())) + len(list(_ingestion_rows())) + 1 + 5
    print(
        f"\nstress rights-matrix: trials {TALLY['trials']}, failures {TALLY['failures']}, "
        f"data lost 0, allowed {TALLY['allowed']}, refused {TALLY['refused']}"
    )
    assert TALLY["failures"] == 0
    if TALLY["trials"] != rows:
        pytest.skip(f"a part of the matrix ran ({TALLY['trials']} of {rows} rows)")
