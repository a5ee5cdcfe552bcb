"""The link between a township and its county hub cut at random bytes, again and again.

A proxy on loopback sits between the township's sync client and a real ``onewindow hub``
process and resets the connection at scheduled byte offsets of either direction (a request
half sent, an answer half read). The township keeps syncing as ``onewindow sync`` does until
a round ends whole: the county then holds exactly the township's events, none twice, every
chain verifies, the projections agree, and the cuts cost at most half again the bytes of a
clean sync of the same log through the same proxy.

The size is a fast sample in ``make test`` (with a looser byte bound, see ``MAX_BYTES``);
``ONEWINDOW_CUT_EVENTS=10000 ONEWINDOW_CUT_COUNT=50`` runs the issue's full campaign.
"""

from __future__ import annotations

import json
import os
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from models import PROJECTIONS, Event
from sync.client import UpstreamUnreachable, pull, push
from tests.conftest import Hall, open_hall
from tests.levels import free_port, hub_process, link, open_county
from tests.proxy import DOWN, UP, CuttingProxy, cutting_proxy, drain
from tests.test_sync_crash import grow
from workstation import backup, rebuild
from workstation.db import make_engine, reading, upgrade
from workstation.settings import load_settings
from workstation.verify import verify_log

EVENTS = int(os.environ.get("ONEWINDOW_CUT_EVENTS", "500"))
CUTS = int(os.environ.get("ONEWINDOW_CUT_COUNT", "2"))
FULL = EVENTS >= 5000
MAX_BYTES = 1.5 if FULL else 2.0
"""The cut sync may send at most this many times the bytes of a clean one. In the fast sample
a few cuts fall on a short log whose first batch (the catalog) is a quarter of its bytes: one
cut there weighs as much as ten in the full campaign, where the issue's bound applies."""
ROUNDS = 100
"""Rounds of sync before the test calls the link hopeless (each rides out several cuts)."""


def test_a_link_cut_at_random_bytes_loses_nothing_and_resends_little(tmp_path: Path) -> None:
    county = sqlite(tmp_path / "county.db")
    township = open_hall(sqlite(tmp_path / "township.db"), tmp_path / "township-keys")
    keys = tmp_path / "county-keys"
    link(county, open_county(county, keys), keys, township)
    total = grow(township, EVENTS)
    # The same two offices, twice: one pair syncs over a clean link, the other over the cut one.
    backup.take(county, tmp_path / "county-cut.db")
    backup.take(township.engine, tmp_path / "township-cut.db")
    county_cut = sqlite(tmp_path / "county-cut.db")
    township_cut = sqlite(tmp_path / "township-cut.db")

    port = free_port()
    with hub_process(county, keys, port) as hub, cutting_proxy(port) as clean:
        drain(hub)
        assert sync_until_done(township.engine, township, clean) == 0
    rng = random.Random(6)
    downstream = max(CUTS // 4, 1)  # answers are small: cut them on purpose, not by chance
    cuts = [(DOWN, rng.randrange(clean.sent[DOWN])) for _ in range(downstream)]
    cuts += [(UP, rng.randrange(clean.sent[UP])) for _ in range(CUTS - downstream)]
    with hub_process(county_cut, keys, port) as hub, cutting_proxy(port, cuts) as cut:
        said = drain(hub)  # each cut makes the hub log a few lines: more than a pipe holds
        gave_up = sync_until_done(township_cut, township, cut)

    code = township.admin.office_code
    ours, held = logged(township_cut, code), logged(county_cut, code)
    lost, twice = len(set(ours) - set(held)), len(held) - len(set(held))
    with reading(county_cut) as session:
        chains = verify_log(session).ok and not rebuild.check(session)
    with reading(township_cut) as session:
        chains = chains and verify_log(session).ok
    same = projections(county) == projections(county_cut)
    cases = {name: projections(county_cut)[name] for name in ("application", "task")}
    same = same and cases == {n: projections(township_cut)[n] for n in cases}
    ratio = cut.total / clean.total
    failures = (
        int(lost != 0)
        + int(twice != 0)
        + int(not chains)
        + int(not same)
        + int(ratio > MAX_BYTES)
        + int(len(cut.cuts_done) != CUTS)
    )
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress link-cut [sqlite]: trials {len(cut.cuts_done)}, failures {failures}, "
        f"data lost {lost}, stored twice {twice}, bytes {ratio:.2f}× clean, events {total}, "
        f"rounds given up {gave_up}, hub log lines {len(said)}"
    )
    assert len(cut.cuts_done) == CUTS, cut.cuts_done
    assert lost == twice == 0 and len(held) == len(ours) == total
    assert chains and same
    assert ratio <= MAX_BYTES, (cut.sent, clean.sent)


def sqlite(path: Path) -> Engine:
    """A migrated engine on the SQLite file ``path``."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def sync_until_done(engine: Engine, hall: Hall, proxy: CuttingProxy) -> int:
    """Rounds of `onewindow sync` through ``proxy`` until one ends whole; rounds given up."""
    settings = load_settings(key_dir=hall.key_dir, upstream_url=f"http://127.0.0.1:{proxy.port}")
    for given_up in range(ROUNDS):
        try:
            push(engine, settings, clock=now)
            pull(engine, settings, clock=now)
        except UpstreamUnreachable:
            continue
        return given_up
    raise AssertionError(f"no round of sync ended whole in {ROUNDS}")


def logged(engine: Engine, origin: str) -> list[tuple[str, int, bytes, bytes]]:
    """Every stored event of ``origin``: its place, payload and signature."""
    with reading(engine) as session:
        rows = session.execute(
            select(col(Event.origin), col(Event.seq), col(Event.payload), col(Event.signature))
            .where(col(Event.origin) == origin)
            .order_by(col(Event.id))
        )
        return [(o, s, bytes(p), bytes(g)) for o, s, p, g in rows]


def projections(engine: Engine) -> dict[str, set[tuple[Any, ...]]]:
    """Every projection table's rows."""
    tables = [model.__table__ for model in PROJECTIONS]  # type: ignore[attr-defined]
    with reading(engine) as session:
        return {
            table.name: {tuple(map(_plain, row)) for row in session.execute(select(table))}
            for table in tables
        }


def _plain(value: Any) -> Any:
    """JSON columns come back as dicts and lists: compared by their text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def now() -> datetime:
    """The real clock: the hub checks request times against its own."""
    return datetime.now().astimezone()
