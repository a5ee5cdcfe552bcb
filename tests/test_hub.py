"""The county hub as a real process on loopback: pushes, receipts, refusals, a dead link."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from models import Task
from sync import signing
from sync.client import UpstreamRefused, UpstreamUnreachable, pull, push
from sync.outgoing import next_batch
from sync.signing import PUSH
from tests.conftest import PASSWORD, Hall, open_hall
from tests.factories import request_for
from tests.levels import events, free_port, link, open_county, running_hub, township_card
from tests.test_held import status, withdrawal_signed_by_the_revoked_clerk
from workstation import officekey
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import intake, office, outbox, tasks
from workstation.services.auth import login
from workstation.settings import load_settings
from workstation.verify import verify_log


def now() -> datetime:
    """The real clock: the hub checks request times against its own."""
    return datetime.now(UTC)


@pytest.fixture
def hub(engine: Engine, tmp_path: Path, township: Hall) -> Iterator[str]:
    """`onewindow hub` serving the county (SQLite or PostgreSQL) with the township enrolled."""
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    link(engine, admin, keys, township)
    with running_hub(engine, keys) as url:
        yield url


def test_the_township_pushes_everything_to_the_hub_once(
    hub: str, engine: Engine, township: Hall
) -> None:
    health = httpx.get(f"{hub}/health").json()
    assert health == {"status": "ok", "office": "610102", "level": "county"}
    assert PUSH in httpx.get(f"{hub}/openapi.json").json()["paths"]
    settings = load_settings(key_dir=township.key_dir, upstream_url=hub)
    with reading(township.engine) as session:
        waiting = outbox.waiting(session)
    held = events(engine)

    report = push(township.engine, settings, clock=now, limit=10)
    assert (report.events, report.receipted) == (waiting, waiting)
    assert report.batches == -(-waiting // 10)
    assert events(engine) == held + waiting
    with reading(township.engine) as session:
        assert outbox.waiting(session) == 0
    with reading(engine) as session:
        assert verify_log(session).ok
    again = push(township.engine, settings, clock=now)
    assert (again.batches, again.events) == (0, 0)


def test_the_hub_refuses_a_replay_and_a_stranger(hub: str, engine: Engine, township: Hall) -> None:
    code = township.admin.office_code
    key = officekey.load(township.key_dir, code)
    with reading(township.engine) as session:
        batch = next_batch(session, key, limit=5)
    assert batch is not None
    body = batch.encode()
    headers = signing.sign(code, key, "POST", PUSH, body, now())
    first = httpx.post(f"{hub}{PUSH}", timeout=30, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["stored"] == 5
    replay = httpx.post(f"{hub}{PUSH}", timeout=30, content=body, headers=headers)
    assert replay.status_code == 403
    assert replay.json()["error"] == "error.sync.replay"
    assert "replayed" in replay.json()["message"]["en"]

    stranger = signing.sign("999999", key, "POST", PUSH, body, now())
    refused = httpx.post(f"{hub}{PUSH}", timeout=30, content=body, headers=stranger)
    assert (refused.status_code, refused.json()["error"]) == (403, "error.sync.unenrolled")
    stale = signing.sign(code, key, "POST", PUSH, body, datetime(2026, 1, 1, tzinfo=UTC))
    refused = httpx.post(f"{hub}{PUSH}", timeout=30, content=body, headers=stale)
    assert (refused.status_code, refused.json()["error"]) == (403, "error.sync.clock")
    bent = body[:-1] + b"\x00"
    bent_headers = signing.sign(code, key, "POST", PUSH, bent, now())
    tampered = httpx.post(f"{hub}{PUSH}", timeout=30, content=bent, headers=bent_headers)
    assert tampered.status_code == 422 and tampered.json()["error"] == "error.sync.malformed"
    assert events(engine) > 0


def test_with_the_hub_down_nothing_is_lost(township: Hall, tmp_path: Path) -> None:
    settings = load_settings(
        key_dir=township.key_dir, upstream_url=f"http://127.0.0.1:{free_port()}"
    )
    township_card(township)
    with reading(township.engine) as session:
        waiting = outbox.waiting(session)
    with pytest.raises(UpstreamUnreachable) as info:
        push(township.engine, settings, clock=now)
    assert "127.0.0.1" in info.value.message("zh_CN")
    with reading(township.engine) as session:
        assert outbox.waiting(session) == waiting


def test_an_impostor_with_the_enrolled_code_hears_why(hub: str, tmp_path: Path) -> None:
    """Another machine set up with the township's code has its own key: refused, and told."""
    engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(engine)
    other = open_hall(engine, tmp_path / "other-keys")
    township_card(other)
    settings = load_settings(key_dir=other.key_dir, upstream_url=hub)
    with pytest.raises(UpstreamRefused) as info:
        push(other.engine, settings, clock=now)
    assert info.value.key == "error.sync.request_signature"
    assert "不是办公室" in info.value.message("zh_CN")


def test_two_hub_processes_on_one_database_apply_a_batch_exactly_once(
    engine: Engine, tmp_path: Path, township: Hall
) -> None:
    """The same batch sent at once to two hub processes on one database: stored once."""
    keys = tmp_path / "county-keys"
    admin = open_county(engine, keys)
    link(engine, admin, keys, township)
    code = township.admin.office_code
    key = officekey.load(township.key_dir, code)
    with reading(township.engine) as session:
        batch = next_batch(session, key, limit=None)
    assert batch is not None
    body = batch.encode()
    held = events(engine)

    def send(url: str) -> httpx.Response:
        headers = signing.sign(code, key, "POST", PUSH, body, now())
        return httpx.post(f"{url}{PUSH}", content=body, headers=headers, timeout=60)

    with (
        running_hub(engine, keys) as first,
        running_hub(engine, keys) as second,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        answers = list(pool.map(send, [first, second] * 4))
    assert [a.status_code for a in answers] == [200] * 8
    assert sorted(a.json()["stored"] for a in answers) == [0] * 7 + [len(batch.events)]
    assert events(engine) == held + len(batch.events)
    with reading(engine) as session:
        assert verify_log(session).ok


def test_a_decision_made_at_the_county_comes_down_over_http(
    hub: str, engine: Engine, tmp_path: Path, township: Hall
) -> None:
    settings = load_settings(key_dir=township.key_dir, upstream_url=hub)
    with writing(township.engine) as session:
        request = request_for("hotel-open")
        number = intake.accept(
            session, actor=township.clerk, request=request, now=now()
        ).tracking_no
    push(township.engine, settings, clock=now)
    keys = tmp_path / "county-keys"
    with reading(engine) as session:
        admin = login(session, key_dir=keys, username="county-admin", password=PASSWORD)
    with writing(engine) as session:
        office.add_operator(
            session, actor=admin, key_dir=keys, username="c-fire", name="区消防审批员",
            role="officer", departments=["fire"], password=PASSWORD, now=now(),
        )  # fmt: skip
    with reading(engine) as session:
        fire = login(session, key_dir=keys, username="c-fire", password=PASSWORD)
    with writing(engine) as session:
        tasks.approve(session, actor=fire, task_id=f"{number}/fire", permit_no="XF-9", now=now())
    assert pull(township.engine, settings, clock=now) > 0
    with reading(township.engine) as session:
        task = session.get(Task, f"{number}/fire")
        assert task is not None and (task.state, task.permit_no) == ("approved", "XF-9")
        assert verify_log(session).ok
    assert pull(township.engine, settings, clock=now) == 0


def test_an_event_signed_after_its_key_was_revoked_is_held_at_the_hub(
    hub: str, engine: Engine, township: Hall
) -> None:
    with writing(township.engine) as session:
        request = request_for("hotel-open")
        number = intake.accept(session, actor=township.clerk, request=request, now=now())
        office.revoke_operator(
            session, actor=township.admin, username="clerk", reason="钥匙丢失", now=now()
        )
    withdrawal_signed_by_the_revoked_clerk(township, number.tracking_no)
    settings = load_settings(key_dir=township.key_dir, upstream_url=hub)
    report = push(township.engine, settings, clock=now)
    assert report.held == 1 and report.receipted == report.events
    assert status(engine, number.tracking_no) == "in_progress"
    with reading(engine) as session:
        assert verify_log(session).ok
