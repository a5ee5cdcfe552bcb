"""How many bytes an event costs on the way up: raw, in the batch body, and compressed on the wire.

``python -m bench.sync_payload --applications 2000`` builds the demo township on SQLite in a
temporary directory (``demo.seed`` plays weeks of a hall through the services: mixed matters
from the catalog, varied applicants, refusals, approvals, rejections, supplements, delivery),
links it to a county, and pushes its whole log up as the client does: ``next_batch``,
``Batch.encode``, the county's ``accept`` of the decoded bytes and ``take_receipt`` back, once
per batch size, each walk from its own copy of both untouched databases. Per event it reports
the raw signed event (payload + signature), the uncompressed batch body (the inflated wire
bytes), the wire bytes themselves (zstd level 3 since wire version 2) and, on the same body,
zlib-9, lzma and zstandard level 3 as peers; then the same for one bundle of
everything, as ``onewindow bundle export`` writes it."""

from __future__ import annotations

import argparse
import lzma
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import zstandard
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bench.places import copy_sqlite
from models import Event
from sync import bundle
from sync.outgoing import BATCH_SIZE, next_batch, take_receipt
from sync.receive import accept
from sync.wire import Batch, unpacked
from workstation import crypto, demo, officekey
from workstation.catalog import load_catalog
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import enrolment, office
from workstation.services.auth import Actor, login

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
"""The end of the played weeks (a Monday morning), as in ``bench.queue_paging``."""
DAYS = 45
"""The applications arrive over this many days before ``NOW``."""
START = NOW - timedelta(days=DAYS + 1)
SIZES = (50, BATCH_SIZE, 2000)
"""Batch sizes walked: small, the client's default, large."""


@dataclass(frozen=True)
class Sizes:
    """Bytes of one batch (or bundle) in each form, measured on the real encoded bytes."""

    events: int
    raw: int
    """Sum over the events of payload + signature: what the log stores."""
    body: int
    """The canonical JSON document, uncompressed: ``wire.unpacked(batch.encode())``."""
    wire: int
    """``len(batch.encode())`` (for a bundle: the file, header included)."""
    zlib9: int
    lzma: int
    zstd3: int


@dataclass(frozen=True)
class Linked:
    """The township (origin of every event pushed) and the county above it."""

    township: Path
    county: Path
    township_key: Signer
    county_key: Signer


def measure(batch: Batch, encoded: bytes) -> Sizes:
    """Every size of ``batch`` from its encoded (compressed) bytes."""
    body = unpacked(encoded)
    return Sizes(
        events=len(batch.events),
        raw=sum(len(e.payload) + len(e.signature) for e in batch.events),
        body=len(body),
        wire=len(encoded),
        zlib9=len(zlib.compress(body, 9)),
        lzma=len(lzma.compress(body)),
        zstd3=len(zstandard.ZstdCompressor(level=3).compress(body)),
    )


def _county(engine: Engine, key_dir: Path) -> Actor:
    """The county above the demo township: office key and catalog; its administrator."""
    with writing(engine) as session:
        admin = office.init_office(
            session,
            key_dir=key_dir,
            office=demo.COUNTY,
            parent=None,
            admin_username="county-admin",
            admin_name="区管理员",
            admin_password=demo.PASSWORD,
            now=START,
        )
    with writing(engine) as session:
        enrolment.register_office_key(session, actor=admin, key_dir=key_dir, now=START)
        office.publish_catalog(session, actor=admin, catalog=load_catalog(), now=START)
    return admin


def build(directory: Path, applications: int, seed: int = 1) -> Linked:
    """The demo township with ``applications`` played through the services, linked to a county.

    ``demo.seed`` plays weeks of a hall in time order (intake with varied applicants, refusals,
    approvals with permits, rejections, supplements, owed materials, delivery, ratings,
    withdrawals, claims), every step a signed event; the county enrols the township and the
    township registers the county as its upstream, as ``onewindow`` administrators do.
    """
    township = make_engine(f"sqlite:///{directory / 'township.db'}")
    county = make_engine(f"sqlite:///{directory / 'county.db'}")
    upgrade(township)
    upgrade(county)
    township_keys, county_keys = directory / "township-keys", directory / "county-keys"
    started = time.perf_counter()
    demo.seed(township, key_dir=township_keys, seed=seed, count=applications, now=NOW, days=DAYS)
    print(
        f"  {applications} applications played in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    county_admin = _county(county, county_keys)
    with reading(township) as session:
        admin = login(session, key_dir=township_keys, username="admin", password=demo.PASSWORD)
        township_card = enrolment.office_card(session)
    with writing(county) as session:
        enrolment.enrol(session, actor=county_admin, card=township_card, now=NOW)
    with reading(county) as session:
        county_card = enrolment.office_card(session)
    with writing(township) as session:
        enrolment.register_upstream(session, actor=admin, card=county_card, now=NOW)
    township.dispose()
    county.dispose()
    return Linked(
        directory / "township.db",
        directory / "county.db",
        officekey.load(township_keys, township_card.code),
        officekey.load(county_keys, county_card.code),
    )


@dataclass(frozen=True)
class Walk:
    """One push of the whole log in batches of one size: each batch's sizes, where time went."""

    batches: list[Sizes]
    seconds: dict[str, float]
    """Seconds in ``next_batch`` (query + signing), ``encode``, the county and the receipt."""


def walk(built: Linked, directory: Path, size: int) -> Walk:
    """Push the whole township log up in batches of ``size``, as the client does, on copies."""
    township = make_engine(f"sqlite:///{copy_sqlite(built.township, directory / f't-{size}.db')}")
    county = make_engine(f"sqlite:///{copy_sqlite(built.county, directory / f'c-{size}.db')}")
    measured: list[Sizes] = []
    seconds = dict.fromkeys(("next_batch", "encode", "county accept", "take_receipt"), 0.0)
    try:
        while True:
            clock = time.perf_counter()
            with reading(township) as session:
                batch = next_batch(session, built.township_key, limit=size)
            seconds["next_batch"] += time.perf_counter() - clock
            if batch is None:
                break
            clock = time.perf_counter()
            encoded = batch.encode()
            seconds["encode"] += time.perf_counter() - clock
            measured.append(measure(batch, encoded))
            clock = time.perf_counter()
            with writing(county) as session:
                answer = accept(session, Batch.decode(encoded), office_key=built.county_key)
            seconds["county accept"] += time.perf_counter() - clock
            clock = time.perf_counter()
            with writing(township) as session:
                covered = take_receipt(session, answer.receipt, now=NOW)
            seconds["take_receipt"] += time.perf_counter() - clock
            if answer.stored != len(batch.events) or covered != len(batch.events):
                raise RuntimeError(f"batch not taken whole: {answer.stored}, {covered}")
    finally:
        township.dispose()
        county.dispose()
    return Walk(measured, seconds)


def bundled(built: Linked, directory: Path) -> Sizes:
    """Everything the county has not receipted, as one bundle file (``bundle export``)."""
    township = make_engine(f"sqlite:///{built.township}")
    try:
        with reading(township) as session:
            batch = next_batch(session, built.township_key, limit=None)
    finally:
        township.dispose()
    assert batch is not None
    path = directory / "all.bundle"
    bundle.write_bundle(path, batch)
    data = path.read_bytes()
    read = bundle.read_bundle(path)
    if read.events != batch.events or not read.verifies(built.township_key.public_key):
        raise RuntimeError("the bundle does not read back as written")
    # A bundle is framed record by record and not compressed (so damage can be named by
    # record): its size on the stick beside the batch's own compressed sizes.
    return replace(measure(batch, batch.encode()), wire=len(data))


def event_types(path: Path) -> list[tuple[str, int, float]]:
    """Per event type in the township log: how many, and the median raw bytes of one."""
    engine = make_engine(f"sqlite:///{path}")
    sizes: dict[str, list[int]] = defaultdict(list)
    with reading(engine) as session:
        for event in session.scalars(select(Event)):
            sizes[event.type].append(len(event.payload) + len(event.signature))
    engine.dispose()
    return sorted(
        ((t, len(v), statistics.median(v)) for t, v in sizes.items()), key=lambda r: -r[1]
    )


ROWS: tuple[tuple[str, Callable[[Sizes], int | None]], ...] = (
    ("raw signed event (payload+signature)", lambda s: s.raw),
    ("batch body (JSON, payload text)", lambda s: s.body),
    ("on the wire: encode() = zstd-3", lambda s: s.wire),
    ("peer: zlib-9 of the body", lambda s: s.zlib9),
    ("peer: lzma preset 6 of the body", lambda s: s.lzma),
    ("peer: zstandard level 3 of the body", lambda s: s.zstd3),
)


def table(title: str, batches: Sequence[Sizes]) -> list[str]:
    """Per-event bytes and ratios of ``batches``: median over the batches, min–max, overall."""
    events = sum(b.events for b in batches)
    low, high = min(b.events for b in batches), max(b.events for b in batches)
    plural = "batch" if len(batches) == 1 else "batches"
    spread = f" (events per batch {low}–{high})" if low != high else ""
    lines = [
        f"{title}: {len(batches)} {plural}, {events} events{spread}",
        f"  {'bytes per event':<40} {'median':>8} {'min–max':>11} {'all':>7} "
        f"{'body/x':>7} {'x/raw':>6}",
    ]
    for label, get in ROWS:
        values = [get(b) for b in batches]
        if any(v is None for v in values):
            lines.append(f"  {label:<40} zstandard not installed: row skipped")
            continue
        counts = [v for v in values if v is not None]
        per = [v / b.events for v, b in zip(counts, batches, strict=True)]
        ratio = statistics.median(b.body / v for v, b in zip(counts, batches, strict=True))
        share = statistics.median(v / b.raw for v, b in zip(counts, batches, strict=True))
        span, overall = f"{min(per):.0f}–{max(per):.0f}", sum(counts) / events
        lines.append(
            f"  {label:<40} {statistics.median(per):>8.1f} {span:>11} {overall:>7.1f} "
            f"{ratio:>7.2f} {share:>6.2f}"
        )
    return lines


def machine() -> str:
    """The machine and Python line."""
    cpu = platform.processor() or platform.machine()
    try:
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; zlib {zlib.ZLIB_RUNTIME_VERSION}; "
        f"SQLite {sqlite3.sqlite_version}; "
        f"zstandard {zstandard.__version__}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Build the office, walk every batch size, export a bundle, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=2000, help="default 2000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    crypto.SCRYPT_N = 2**14  # bench keys only: the figure measured is the log, not the login
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-sync-payload-") as temp:
        directory = Path(temp)
        print(f"building a township with {args.applications} applications…", file=sys.stderr)
        built = build(directory, args.applications, args.seed)
        built_in = time.perf_counter() - began
        walks: dict[int, Walk] = {}
        for size in SIZES:
            walks[size] = walk(built, directory, size)
            spent = ", ".join(f"{k} {v:.2f} s" for k, v in walks[size].seconds.items())
            print(f"  pushed in batches of {size}: {spent}", file=sys.stderr)
        whole = bundled(built, directory)
        kinds = event_types(built.township)
    total = time.perf_counter() - began
    logged = sum(n for _, n, _ in kinds)
    for size, done in walks.items():
        if sum(b.events for b in done.batches) != logged:
            raise RuntimeError(f"batches of {size} did not carry the whole log")
    print(machine())
    print(f"township log: {logged} events of {len(kinds)} types, all pushed in every walk")
    for kind, count, median in kinds:
        print(f"  {kind:<34} {count:>6}   median {median:>6.0f} B raw")
    for size in SIZES:
        default = " (BATCH_SIZE, the client's default)" if size == BATCH_SIZE else ""
        print()
        print("\n".join(table(f"push, batches of {size}{default}", walks[size].batches)))
    print()
    print("\n".join(table("bundle of everything (file, header included)", [whole])))
    print(
        "\nPer event within each batch, then the median and the range over the batches (the "
        "first batch also carries the office's set-up);\nall: the bytes of every batch over "
        "every event; body/x: the uncompressed batch body over the row (compression ratio);\n"
        "x/raw: the row over the raw signed events (medians over the batches)."
    )
    walked = "; ".join(
        f"{size}: " + ", ".join(f"{k} {v:.2f} s" for k, v in walks[size].seconds.items())
        for size in SIZES
    )
    print(f"run: {total:.1f} s, of which building the office {built_in:.1f} s")
    print(f"push walks: {walked}")


if __name__ == "__main__":
    main()
