"""Bundles on a USB stick: applied exactly like a push, idempotent, refused when damaged."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col
from typer.testing import CliRunner

from models import Application, Event, Task
from sync import bundle, bundlefile
from sync.outgoing import next_batch, take_receipt
from sync.receive import accept
from sync.wire import Batch
from tests.conftest import NOW, PASSWORD, Hall, open_hall
from tests.factories import request_for
from tests.levels import events, link, open_county
from tests.test_sync_pull import county_officer, township_at
from workstation import officekey
from workstation.cli import app
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import InvalidInput, SyncRefused
from workstation.services import enrolment, intake, outbox, tasks
from workstation.services.auth import Actor


@pytest.fixture
def township(tmp_path: Path) -> Hall:
    """A township office on its own SQLite file, with two applications."""
    engine = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(engine)
    hall = open_hall(engine, tmp_path / "township-keys")
    accept_some(hall, 2)
    return hall


def accept_some(hall: Hall, count: int, seed: int = 0) -> None:
    """``count`` hotel applications at the township window."""
    with writing(hall.engine) as session:
        for n in range(count):
            request = request_for("hotel-open", rng=random.Random(seed * 100 + n))
            intake.accept(session, actor=hall.clerk, request=request, now=NOW)


def new_county(tmp_path: Path, name: str) -> tuple[Engine, Actor, Signer, Path]:
    """A county on SQLite; its engine, administrator, office key and key directory."""
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}.db'}")
    upgrade(engine)
    keys = tmp_path / f"{name}-keys"
    admin = open_county(engine, keys)
    return engine, admin, officekey.load(keys, admin.office_code), keys


def export(hall: Hall, path: Path) -> int:
    """Export what the county has not receipted; how many events."""
    count = bundle.export_bundle(hall.engine, hall.key_dir, path)
    assert count > 0
    return count


def import_at(county: Engine, keys: Path, path: Path) -> tuple[int, int]:
    """Import a bundle at the county, writing the receipt beside it; (stored, skipped)."""
    done = bundle.import_bundle(county, keys, path, NOW)
    return done.stored, done.skipped


def marks(hall: Hall) -> set[str]:
    """Where the township's own events stand with the county, as the case timeline shows."""
    with reading(hall.engine) as session:
        own = list(session.scalars(select(Event).where(col(Event.origin) == "610102001")))
        return set(outbox.sync_marks(session, own).values())


def waiting(hall: Hall) -> int:
    """Events the county has not receipted."""
    with reading(hall.engine) as session:
        return outbox.waiting(session)


def test_a_bundle_goes_up_and_its_receipt_comes_back(township: Hall, tmp_path: Path) -> None:
    county, admin, _key, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    stick = tmp_path / "stick" / "610102001.bundle"
    stick.parent.mkdir()
    assert marks(township) == {"provisional"}
    count = export(township, stick)
    assert count == waiting(township)
    assert marks(township) == {"sent"}
    assert [p.name for p in stick.parent.iterdir()] == [stick.name]  # no partial file left
    assert import_at(county, keys, stick) == (count, 0)
    assert import_at(county, keys, stick) == (0, count)  # twice changes nothing
    covered, by = bundle.take_bundle_receipt(township.engine, bundle.receipt_path(stick), NOW)
    assert (covered, by, waiting(township)) == (count, admin.office_code, 0)
    assert marks(township) == {"receipted"}


def test_a_bundle_out_of_order_is_refused_as_a_missing_prerequisite(
    township: Hall, tmp_path: Path
) -> None:
    county, admin, _key, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    first, second = tmp_path / "first.bundle", tmp_path / "second.bundle"
    export(township, first)
    import_at(county, keys, first)
    with writing(township.engine) as session:
        take_receipt(session, bundle.read_receipt(bundle.receipt_path(first)), now=NOW)
    accept_some(township, 1, seed=7)
    export(township, second)
    # A county restored from a backup taken before the first bundle: the second needs it.
    restored, admin2, key2, _ = new_county(tmp_path, "restored")
    with reading(township.engine) as session:
        card = enrolment.office_card(session)
    with writing(restored) as session:
        enrolment.enrol(session, actor=admin2, card=card, now=NOW)
    before = events(restored)
    with pytest.raises(SyncRefused) as info, writing(restored) as session:
        accept(session, bundle.read_bundle(second), office_key=key2)
    assert info.value.key == "error.sync.prerequisite"
    assert "missing" in info.value.message("en").lower()
    assert events(restored) == before


def test_every_damaged_bundle_is_refused_and_nothing_is_applied(
    township: Hall, tmp_path: Path
) -> None:
    county, admin, key, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    good = tmp_path / "good.bundle"
    export(township, good)
    data = good.read_bytes()
    before = events(county)
    rng = random.Random(2026)
    damaged = tmp_path / "damaged.bundle"
    reasons: set[str] = set()
    for offset in rng.sample(range(len(data)), min(200, len(data))):
        flipped = bytearray(data)
        flipped[offset] ^= 1 << rng.randrange(8)
        damaged.write_bytes(bytes(flipped))
        with pytest.raises((SyncRefused, InvalidInput)) as info, writing(county) as session:
            accept(session, bundle.read_bundle(damaged), office_key=key)
        reasons.add(info.value.key)
        assert info.value.message("zh_CN") and info.value.message("en")
    for cut in (1, len(data) // 2, len(data) - 1):
        damaged.write_bytes(data[:cut])
        with pytest.raises(SyncRefused), writing(county) as session:
            accept(session, bundle.read_bundle(damaged), office_key=key)
    damaged.write_bytes(data + b"trailing garbage")
    with pytest.raises(SyncRefused), writing(county) as session:
        accept(session, bundle.read_bundle(damaged), office_key=key)
    assert events(county) == before
    # Every one is refused while reading, before the county's keys are even looked at.
    assert reasons <= {"error.sync.not_bundle_at", "error.sync.header", "error.sync.record"}, (
        reasons
    )


def test_an_older_bundle_still_reads_and_its_damage_is_placed_by_offset(
    township: Hall, tmp_path: Path
) -> None:
    county, admin, _key, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    with reading(township.engine) as session:
        office_key = officekey.load(township.key_dir, "610102001")
        current = next_batch(session, office_key, limit=None)
    assert current is not None
    # As an office before wire version 2 wrote it: payloads in base64, one deflated block.
    batch = Batch.sign(current.sender, list(current.events), office_key, current.after,
                       current.upto, version=1)  # fmt: skip
    old = tmp_path / "old.bundle"
    data = bundlefile.MAGIC_V1 + batch.encode()
    assert zlib.decompressobj().decompress(batch.encode())  # deflate, not zstd
    old.write_bytes(data)
    assert bundle.read_bundle(old) == batch
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0x10
    old.write_bytes(bytes(flipped))
    before = events(county)
    with pytest.raises(SyncRefused) as info:
        bundle.import_bundle(county, keys, old, NOW)
    assert info.value.key == "error.sync.damaged_at"
    assert len(bundlefile.MAGIC_V1) < info.value.params["offset"] <= len(data)
    assert str(info.value.params["offset"]) in info.value.message("zh_CN")
    assert events(county) == before
    old.write_bytes(data)  # undamaged, it is stored: its signature checked in its own layout
    bundle.import_bundle(county, keys, old, NOW)
    assert events(county) == before + len(batch.events)


def test_the_bundle_commands(township: Hall, tmp_path: Path) -> None:
    county, admin, _, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    path = tmp_path / "up.bundle"

    def run(*args: str, at: tuple[str, Path, str]) -> str:
        database, key_dir, who = at
        env = {
            "ONEWINDOW_DATABASE_URL": database,
            "ONEWINDOW_KEY_DIR": str(key_dir),
            "ONEWINDOW_OPERATOR": who,
            "ONEWINDOW_PASSWORD": PASSWORD,
            "ONEWINDOW_LANGUAGE": "en",
        }
        result = CliRunner().invoke(app, list(args), env=env)
        assert "Traceback" not in result.output
        return result.output

    here = (township.engine.url.render_as_string(hide_password=False), township.key_dir, "admin")
    up = (county.url.render_as_string(hide_password=False), keys, "county-admin")
    count = waiting(township)
    assert f"{count} events" in run("bundle", "export", "--out", str(path), at=here)
    assert f"{count} new" in run("bundle", "import", str(path), at=up)
    out = run("bundle", "receipt", str(bundle.receipt_path(path)), at=here)
    assert f"{count} events" in out and waiting(township) == 0
    assert "nothing to export" in run("bundle", "export", "--out", str(path), at=here)
    path.write_bytes(b"not a bundle")
    assert "not a One-Window bundle" in run("bundle", "import", str(path), at=up)


def test_a_bundle_carries_the_county_decisions_down(township: Hall, tmp_path: Path) -> None:
    county, admin, _key, keys = new_county(tmp_path, "county")
    link(county, admin, keys, township)
    other = township_at(tmp_path, "other", "610102002")
    link(county, admin, keys, other)
    up = tmp_path / "up.bundle"
    export(township, up)
    import_at(county, keys, up)
    with reading(township.engine) as session:
        numbers = sorted(session.scalars(select(col(Application.tracking_no))))
    fire = county_officer(county, admin, keys, "fire")
    with writing(county) as session:
        tasks.approve(session, actor=fire, task_id=f"{numbers[0]}/fire", permit_no="XF-7", now=NOW)

    down = tmp_path / "down.bundle"
    count = bundle.export_for_below(county, keys, township.admin.office_code, down)
    done = bundle.import_bundle(township.engine, township.key_dir, down, NOW)
    assert (done.stored, done.skipped, done.receipt) == (count, 0, None)
    with reading(township.engine) as session:
        task = session.get(Task, f"{numbers[0]}/fire")
        assert task is not None and (task.state, task.permit_no) == ("approved", "XF-7")
    again = bundle.import_bundle(township.engine, township.key_dir, down, NOW)
    assert (again.stored, again.skipped) == (0, count)

    # The same bundle at the other township: not its cases, refused whole, nothing stored.
    before = events(other.engine)
    with pytest.raises(SyncRefused) as info:
        bundle.import_bundle(other.engine, other.key_dir, down, NOW)
    assert info.value.key == "error.sync.not_ours"
    assert events(other.engine) == before
