"""Bundles: the same signed batches, carried on a USB stick where there is no link at all.

A bundle is a signed batch framed record by record (``sync.bundlefile``: damage is refused
naming the record and its byte offset), written to a temporary name, flushed to the disk and
renamed, so a stick pulled out mid-write leaves no half file that looks whole. The receiving
office checks and applies it exactly like a push and writes its signed receipt beside it for
the trip back.

An import is one transaction: killed anywhere, it leaves nothing of the bundle, and the next
import starts again. The receipt is written only after the commit, so one that exists always
covers stored events. ``ONEWINDOW_TEST_PAUSE_BEFORE_COMMIT`` (seconds) is a test hook, read
only here: the import says so on stderr and waits with every event applied and nothing
committed, so that a test can kill it at the worst moment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from sync import bundlefile
from sync.downstream import accept_pulled, next_pull
from sync.outgoing import next_batch, take_receipt
from sync.receive import ForkRefused, accept, record_fork
from sync.wire import Batch, Receipt
from workstation import officekey
from workstation.db import reading, writing
from workstation.errors import InvalidInput, SyncRefused
from workstation.eventlog import decode
from workstation.services import outbox
from workstation.services.office import local_office

MAGIC = bundlefile.MAGIC
"""The first bytes of every bundle written now: what it is and the layout's version."""
RECEIPT_SUFFIX = ".receipt.json"
"""The receipt written beside an imported bundle."""
PAUSE_HOOK = "ONEWINDOW_TEST_PAUSE_BEFORE_COMMIT"
"""Test hook: seconds an import waits with everything applied and nothing committed."""


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (temporary name, fsync, rename, fsync)."""
    temp = path.with_name(f".{path.name}.partial")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise InvalidInput(
            "error.file.write", path=str(path), reason=error.strerror or str(error)
        ) from None


def write_bundle(path: Path, batch: Batch) -> None:
    """Save ``batch`` as a bundle file."""
    write_atomically(path, bundlefile.encode(batch))


def read_bundle(path: Path) -> Batch:
    """The batch in a bundle file; a damaged one is refused naming the record and offset."""
    return bundlefile.decode(_read(path), str(path))


def receipt_path(bundle: Path) -> Path:
    """Where the receipt of an imported bundle is written."""
    return bundle.with_name(bundle.name + RECEIPT_SUFFIX)


def write_receipt(path: Path, receipt: Receipt) -> None:
    """Save a receipt for the trip back down."""
    text = json.dumps(receipt.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"))


def read_receipt(path: Path) -> Receipt:
    """A receipt from its file; a broken one is refused."""
    try:
        value = json.loads(_read(path).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SyncRefused("error.sync.malformed", where=str(path)) from None
    return Receipt.from_json(value)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidInput(
            "error.file.read", path=str(path), reason=error.strerror or str(error)
        ) from None


def export_bundle(engine: Engine, key_dir: Path, out: Path) -> int:
    """Write what the level above has not receipted to ``out``; how many events (0: none)."""
    with reading(engine) as session:
        key = officekey.load(key_dir, local_office(session).code)
        batch = next_batch(session, key, limit=None)
    if batch is None:
        return 0
    write_bundle(out, batch)
    heads: dict[str, int] = {}
    for wire in batch.events:
        envelope = decode(wire.payload)
        heads[envelope["origin"]] = max(heads.get(envelope["origin"], 0), envelope["seq"])
    with writing(engine) as session:
        outbox.mark_sent(session, heads)
    return len(batch.events)


def export_for_below(engine: Engine, key_dir: Path, office: str, out: Path, after: int = 0) -> int:
    """At a hub: write what office ``office`` below is owed after position ``after``; how many."""
    with reading(engine) as session:
        key = officekey.load(key_dir, local_office(session).code)
        batch = next_pull(session, office, after, key, limit=None)
    if batch.events:
        write_bundle(out, batch)
    return len(batch.events)


@dataclass(frozen=True)
class Imported:
    """What a bundle did here."""

    stored: int
    skipped: int
    receipt: Path | None
    """Where the signed receipt for the office below was written (None for one from above)."""
    held: int = 0


def import_bundle(engine: Engine, key_dir: Path, path: Path, now: datetime) -> Imported:
    """Check and apply a bundle exactly like a push from below or a pull from above.

    A bundle from below is answered with a signed receipt written beside it; a fork is
    refused and recorded for the supervisor (in its own transaction).
    """
    batch = read_bundle(path)
    with reading(engine) as session:
        from_above = batch.sender == local_office(session).parent_code
    if from_above:
        with writing(engine) as session:
            stored = accept_pulled(session, batch)
        return Imported(stored, len(batch.events) - stored, None)
    try:
        with writing(engine) as session:
            key = officekey.load(key_dir, local_office(session).code)
            done = accept(session, batch, office_key=key)
            _test_pause()
    except ForkRefused as fork:
        with writing(engine) as session:
            record_fork(session, fork, now)
        raise
    out = receipt_path(path)
    write_receipt(out, done.receipt)
    return Imported(done.stored, done.skipped, out, done.held)


def _test_pause() -> None:
    """The test hook: wait here when the environment asks for it (never set in production)."""
    seconds = os.environ.get(PAUSE_HOOK)
    if seconds:
        sys.stderr.write(f"{PAUSE_HOOK}\n")
        sys.stderr.flush()
        time.sleep(float(seconds))


def take_bundle_receipt(engine: Engine, path: Path, now: datetime) -> tuple[int, str]:
    """Take the level above's receipt for a bundle; events it covers and who signed it."""
    receipt = read_receipt(path)
    with writing(engine) as session:
        covered = take_receipt(session, receipt, now=now)
    return covered, receipt.receiver
