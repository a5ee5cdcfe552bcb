"""Two replicas, a township and its county, driven by a Hypothesis state machine.

Rules: actions at either level, push, pull, a crash of either side (its engine dropped and
the file reopened, as after a power cut), and forged batches. Invariants after every step:
both logs verify and each projection equals a replay of its log; a forged batch is refused
and changes nothing. At the end, after a final sync, both hold the same cases.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sync.outgoing import next_batch
from sync.receive import accept
from sync.wire import Batch, WireEvent
from tests.campaign import Tally, size, summary
from tests.levels import events
from tests.test_convergence import Levels, Run, cases_of, linked_pair, settle
from workstation import officekey, rebuild
from workstation.crypto import canonical
from workstation.db import make_engine, reading, writing
from workstation.errors import SyncRefused
from workstation.eventlog import decode
from workstation.verify import verify_log


@cache
def _template() -> tuple[Path, Levels]:
    """A township linked to a county, each on its own SQLite file; built once per run."""
    root = Path(tempfile.mkdtemp(prefix="onewindow-replicas-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    levels = linked_pair(root)
    return root, levels


class TwoLevels(RuleBasedStateMachine):
    """A township and its county on real files, acting, syncing, crashing, being forged at."""

    def __init__(self) -> None:
        super().__init__()
        root, template = _template()
        self.where = Path(tempfile.mkdtemp(prefix="onewindow-replica-run-"))
        shutil.copytree(root, self.where, dirs_exist_ok=True)
        self.run = Run(self._open(template), skew=-30)  # the county clock behind
        self.forged = 0

    def _open(self, template: Levels) -> Levels:
        county = make_engine(f"sqlite:///{self.where / 'county.db'}")
        township = make_engine(f"sqlite:///{self.where / 'township.db'}")
        hall = replace(template.township, engine=township, key_dir=self.where / "township-keys")
        return replace(template, township=hall, county=county)

    @rule(action=st.sampled_from(["accept", "approve", "withdraw", "supplied", "deliver"]),
          case=st.integers(0, 5))  # fmt: skip
    def township_acts(self, action: str, case: int) -> None:
        """The window or a township officer does something (refused actions change nothing)."""
        self.run.township(action, case)

    @rule()
    def case_reaches_the_county(self) -> None:
        """A new case accepted and its township steps approved, pushed: the county may act."""
        self.run.township("accept", 0)
        case = len(self.run.cases) - 1
        self.run.township("approve", case)
        self.run.township("approve", case)
        self.run.push()

    @rule(action=st.sampled_from(["approve", "reject", "supplement"]), case=st.integers(0, 5))
    def county_acts(self, action: str, case: int) -> None:
        """The county's civil affairs officer decides a county task."""
        self.run.county(action, case)

    @rule()
    def push(self) -> None:
        """The township sends what the county has not receipted."""
        self.run.push()

    @rule()
    def pull(self) -> None:
        """The township takes what the county holds for it."""
        self.run.pull()

    @rule(side=st.sampled_from(["township", "county"]))
    def crash_and_reopen(self, side: str) -> None:
        """Power cut: every connection of one side dropped; the file is opened again."""
        levels = self.run.levels
        if side == "county":
            levels.county.dispose()
            county = make_engine(f"sqlite:///{self.where / 'county.db'}")
            self.run.levels = replace(levels, county=county)
        else:
            levels.township.engine.dispose()
            engine = make_engine(f"sqlite:///{self.where / 'township.db'}")
            hall = replace(levels.township, engine=engine)
            self.run.levels = replace(levels, township=hall)

    @rule(index=st.integers(0, 1000))
    def forge(self, index: int) -> None:
        """A batch with one event's body altered after signing: refused, nothing stored."""
        levels = self.run.levels
        hall = levels.township
        key = officekey.load(hall.key_dir, hall.admin.office_code)
        with reading(hall.engine) as session:
            batch = next_batch(session, key)
        if batch is None:
            return
        wire = list(batch.events)
        at = index % len(wire)
        envelope = decode(wire[at].payload)
        envelope["body"] = {**envelope["body"], "forged": True}
        wire[at] = WireEvent(canonical(envelope), wire[at].signature)
        forged = Batch.sign(hall.admin.office_code, wire, key, batch.after)
        before = events(levels.county)
        with pytest.raises(SyncRefused), writing(levels.county) as session:
            accept(session, forged, office_key=levels.county_key)
        assert events(levels.county) == before
        self.forged += 1

    @invariant()
    def logs_verify_and_projections_replay(self) -> None:
        """Each side's log verifies and its projections equal a replay of it."""
        for engine in (self.run.levels.township.engine, self.run.levels.county):
            with reading(engine) as session:
                report = verify_log(session)
                assert report.ok, report.problem
                assert rebuild.check(session) == []

    def teardown(self) -> None:
        TALLY.trials += 1
        """After a final sync both replicas hold the same cases."""
        levels = self.run.levels
        try:
            settle(self.run)
            township, county = (
                cases_of(levels.township.engine, self.run.cases),
                cases_of(levels.county, self.run.cases),
            )
            assert township == county
        finally:
            levels.township.engine.dispose()
            levels.county.dispose()
            shutil.rmtree(self.where, ignore_errors=True)


TwoLevels.TestCase.settings = settings(
    max_examples=size("ONEWINDOW_REPLICA_EXAMPLES", 8),
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestTwoLevels = TwoLevels.TestCase
TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _campaign(request: pytest.FixtureRequest) -> Iterator[Tally]:
    yield from summary("two-replicas", TALLY, request)
