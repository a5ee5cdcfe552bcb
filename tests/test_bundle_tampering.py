"""A big bundle damaged every way a stick and a hand can: each refused naming where, nothing stored.

One township log is grown and exported once per module. Each trial writes a damaged copy
and imports it with ``bundle.import_bundle`` (what ``onewindow bundle import`` runs) at a
county that never saw it: single-byte flips at random offsets, truncations at random
lengths, trailing garbage, records swapped or repeated as they lie and as a forger with a
CRC calculator would renumber them, and event signatures changed by someone holding the
township's office key (refused inside the write transaction, after part of the batch was
applied, and rolled back). Every refusal must name the record (and byte offset) the
damage is in, in both languages; the county's content must not change; and the bundle
itself, undamaged, must then import whole.

The size is a fast sample in ``make test``; ``ONEWINDOW_TAMPER_EVENTS=10000
ONEWINDOW_TAMPER_FLIPS=1000 ONEWINDOW_TAMPER_CUTS=200`` runs the issue's full campaign.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from sync import bundle, bundlefile
from sync.wire import Batch, WireEvent
from tests.conftest import NOW, PASSWORD, Hall, open_hall
from tests.levels import link, open_county
from tests.test_sync_crash import grow
from workstation import officekey
from workstation.crypto import Signer
from workstation.db import make_engine, upgrade
from workstation.errors import InvalidInput, SyncRefused

EVENTS = int(os.environ.get("ONEWINDOW_TAMPER_EVENTS", "300"))
FLIPS = int(os.environ.get("ONEWINDOW_TAMPER_FLIPS", "60"))
CUTS = int(os.environ.get("ONEWINDOW_TAMPER_CUTS", "15"))
SWAPS = 10
"""Of each kind of moved or repeated record."""
FORGED = int(os.environ.get("ONEWINDOW_TAMPER_FORGED", "1"))
"""Batches re-signed with the office key around one changed event signature (each is
applied up to that event inside the write transaction, then rolled back: the slow kind)."""
AUDIT_TABLE = "auditentry"
"""Refusals at the command line are audited; the audit trail is not logical content."""


@dataclass(frozen=True)
class Stage:
    """The exported bundle and the county that has not seen it."""

    county: Engine
    county_db: Path
    county_keys: Path
    township_key: Signer
    good: Path
    data: bytes
    batch: Batch
    count: int


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    """A township log of ``EVENTS`` events exported as one bundle; a linked county."""
    tmp = tmp_path_factory.mktemp("bundle-tamper")
    township_engine = make_engine(f"sqlite:///{tmp / 'township.db'}")
    upgrade(township_engine)
    township: Hall = open_hall(township_engine, tmp / "township-keys")
    county_db = tmp / "county.db"
    county = make_engine(f"sqlite:///{county_db}")
    upgrade(county)
    keys = tmp / "county-keys"
    link(county, open_county(county, keys), keys, township)
    grow(township, EVENTS)
    good = tmp / "good.bundle"
    count = bundle.export_bundle(township_engine, township.key_dir, good)
    data = good.read_bytes()
    key = officekey.load(township.key_dir, township.admin.office_code)
    yield Stage(county, county_db, keys, key, good, data, bundle.read_bundle(good), count)
    township_engine.dispose()
    county.dispose()


@dataclass(frozen=True)
class Trial:
    """A damaged bundle and what its refusal must say."""

    kind: str
    data: bytes
    keys: frozenset[str]
    names: dict[str, Any]
    """Parameters the refusal must carry, each also written in both languages' message."""


@dataclass
class Tally:
    """What the campaign found."""

    trials: int = 0
    failures: list[str] = field(default_factory=list)
    named: int = 0
    lost: int = 0


def fingerprint(db_file: Path) -> str:
    """The county's whole content (its audit trail aside) as one digest."""
    with closing(sqlite3.connect(db_file)) as con:
        lines = [
            line for line in con.iterdump() if not line.startswith(f'INSERT INTO "{AUDIT_TABLE}"')
        ]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def where(spans: list[tuple[int, int]], offset: int) -> tuple[int, int]:
    """The record (0: the header) whose bytes hold ``offset``, and where it starts."""
    for number, (start, length) in enumerate(spans):
        if start <= offset < start + length:
            return number, start
    return len(spans), spans[-1][0] + spans[-1][1]


def placed(data: bytes, spans: list[tuple[int, int]], offset: int, kind: str) -> Trial:
    """Damage at ``offset`` (a flipped byte there, or the file ending there)."""
    if offset < len(bundlefile.MAGIC):
        return Trial(kind, data, frozenset({"error.sync.not_bundle_at"}), {"offset": offset})
    number, start = where(spans, offset)
    if number == 0:
        return Trial(kind, data, frozenset({"error.sync.header"}), {"offset": start})
    return Trial(kind, data, frozenset({"error.sync.record"}), {"record": number, "offset": start})


def trials(stage: Stage, rng: random.Random) -> Iterator[Trial]:
    """Every damaged copy of the bundle the campaign imports."""
    data, spans = stage.data, bundlefile.spans(stage.data)
    records = len(spans) - 1
    for offset in (rng.randrange(len(data)) for _ in range(FLIPS)):
        flipped = bytearray(data)
        flipped[offset] ^= rng.randrange(1, 256)
        yield placed(bytes(flipped), spans, offset, "flip")
    for length in (rng.randrange(len(data)) for _ in range(CUTS)):
        yield placed(data[:length], spans, length, "cut")
    last = data[spans[-1][0] :]
    for garbage in (b"\0", b"trailing garbage", rng.randbytes(rng.randrange(1, 4096)), last):
        trailing = {"offset": len(data), "extra": len(garbage)}
        yield Trial("trailing", data + garbage, frozenset({"error.sync.trailing"}), trailing)
    moved = frozenset({"error.sync.record_moved"})
    for _ in range(SWAPS):
        i, j = sorted(rng.sample(range(1, records + 1), 2))
        parts = [data[s : s + n] for s, n in spans]
        parts[i], parts[j] = parts[j], parts[i]
        yield Trial("swap", b"".join([bundlefile.MAGIC, *parts]), moved, _at(spans, i))
        parts = [data[s : s + n] for s, n in spans]
        parts.insert(i + 1, parts[i])
        repeated = {"record": i + 1, "offset": spans[i][0] + spans[i][1], "found": i}
        yield Trial("repeat", b"".join([bundlefile.MAGIC, *parts]), moved, repeated)
        yield _forged_swap(stage.batch, i, j)
        yield _forged_repeat(stage.batch, i)


def _at(spans: list[tuple[int, int]], number: int) -> dict[str, Any]:
    return {"record": number, "offset": spans[number][0]}


def _forged_swap(batch: Batch, i: int, j: int) -> Trial:
    """Records ``i`` and ``j`` exchanged, renumbered and checksummed as if written so."""
    events = list(batch.events)
    events[i - 1], events[j - 1] = events[j - 1], events[i - 1]
    data = bundlefile.encode(_unsigned(batch, events))
    chain = frozenset({"error.sync.record_chain"})
    return Trial("forged swap", data, chain, _at(bundlefile.spans(data), i + 1))


def _forged_repeat(batch: Batch, i: int) -> Trial:
    """Record ``i`` written twice, the rest renumbered, the header's count raised to fit."""
    events = list(batch.events)
    events.insert(i, events[i - 1])
    data = bundlefile.encode(_unsigned(batch, events))
    chain = frozenset({"error.sync.record_chain"})
    return Trial("forged repeat", data, chain, _at(bundlefile.spans(data), i + 1))


def _unsigned(batch: Batch, events: list[WireEvent]) -> Batch:
    """``events`` under the batch's old signature (which no longer fits them)."""
    return Batch(
        batch.sender, tuple(events), batch.key_id, batch.signature, batch.after, batch.upto
    )


def forged_with_the_key(stage: Stage, rng: random.Random) -> Iterator[Trial]:
    """An event's signature changed and the batch re-signed with the office key: every
    frame and the batch signature hold, so the refusal comes inside the write transaction."""
    batch = stage.batch
    for index in rng.sample(range(len(batch.events)), FORGED):
        events = list(batch.events)
        bent = bytearray(events[index].signature)
        bent[rng.randrange(len(bent))] ^= 1 << rng.randrange(8)
        events[index] = WireEvent(events[index].payload, bytes(bent))
        resigned = Batch.sign(batch.sender, events, stage.township_key, batch.after, batch.upto)
        yield Trial(
            "forged signature",
            bundlefile.encode(resigned),
            frozenset({"error.sync.signature"}),
            {"index": index},
        )


def attempt(stage: Stage, trial: Trial, path: Path, tally: Tally, before: str) -> None:
    """Import one damaged bundle; tally whether it was refused, named and left no trace."""
    path.write_bytes(trial.data)
    tally.trials += 1
    try:
        bundle.import_bundle(stage.county, stage.county_keys, path, NOW)
    except (SyncRefused, InvalidInput) as refusal:
        messages = [refusal.message(language) for language in ("zh_CN", "en")]
        # Messages count an event's place from 1 (its record number); params from 0.
        said = all(
            refusal.params.get(name) == value
            and all(str(value + 1 if name == "index" else value) in m for m in messages)
            for name, value in trial.names.items()
        )
        if refusal.key in trial.keys and said and all(messages):
            tally.named += 1
        else:
            tally.failures.append(f"{trial.kind}: {refusal.key} {refusal.params} ≠ {trial.names}")
    else:
        tally.failures.append(f"{trial.kind}: imported ({trial.names})")
    if bundle.receipt_path(path).exists() or fingerprint(stage.county_db) != before:
        tally.lost += 1
        tally.failures.append(f"{trial.kind}: the county changed ({trial.names})")


def at_the_window(stage: Stage, trial: Trial, path: Path) -> str:
    """``onewindow bundle import`` as a real process, in Chinese; what the clerk reads."""
    path.write_bytes(trial.data)
    env = {
        **os.environ,
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{stage.county_db}",
        "ONEWINDOW_KEY_DIR": str(stage.county_keys),
        "ONEWINDOW_OPERATOR": "county-admin",
        "ONEWINDOW_PASSWORD": PASSWORD,
        "ONEWINDOW_LANGUAGE": "zh_CN",
    }
    command = [str(Path(sys.executable).parent / "onewindow"), "bundle", "import", str(path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "Traceback" not in done.stderr + done.stdout
    return done.stdout + done.stderr


def test_every_damaged_bundle_is_refused_naming_where_and_nothing_is_stored(
    stage: Stage, tmp_path: Path
) -> None:
    rng = random.Random(6)
    before = fingerprint(stage.county_db)
    damaged, tally = tmp_path / "damaged.bundle", Tally()
    for trial in [*trials(stage, rng), *forged_with_the_key(stage, rng)]:
        attempt(stage, trial, damaged, tally, before)

    spans = bundlefile.spans(stage.data)
    middle = len(spans) // 2
    flipped = bytearray(stage.data)
    flipped[spans[middle][0] + 20] ^= 0x40
    said = at_the_window(
        stage, placed(bytes(flipped), spans, spans[middle][0] + 20, "cli"), damaged
    )
    tally.trials += 1
    if f"第 {middle} 条记录" in said and str(spans[middle][0]) in said:
        tally.named += 1
    else:
        tally.failures.append(f"cli: {said!r}")
    if fingerprint(stage.county_db) != before:
        tally.lost += 1

    done = bundle.import_bundle(stage.county, stage.county_keys, stage.good, NOW)
    tally.lost += stage.count - done.stored
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress bundle-tamper [sqlite]: trials {tally.trials}, failures {len(tally.failures)}, "
        f"data lost {tally.lost}, named {tally.named}/{tally.trials}, events {stage.count}, "
        f"bundle bytes {len(stage.data)}"
    )
    assert tally.failures == [] and tally.lost == 0
    assert tally.named == tally.trials
