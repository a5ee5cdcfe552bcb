"""The background sync of the workstation: push, then pull, whenever the level above answers.

It runs in a thread worker and never blocks a screen; after a failure it waits longer each
time (up to five minutes), after a success it comes back every half minute. The header reads
its state: online or offline, when it last synced, and the last error in the operator's words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from workstation.errors import WorkstationError

if TYPE_CHECKING:
    from textual.app import App

    from workstation.workbench import Workbench

EVERY = 30.0
"""Seconds between rounds while the upstream answers."""
FIRST_RETRY, LAST_RETRY = 5.0, 300.0
"""Seconds before the first retry after a failure, and the longest wait between two."""


@dataclass
class SyncState:
    """What the header shows of the link to the level above."""

    online: bool | None = None
    """None until the first round has ended."""
    last_sync: datetime | None = None
    last_error: str = ""
    """The last failure, in the operator's language ("" after a success)."""


class Syncer:
    """Schedules rounds of ``sync.client.push`` on an app, one at a time."""

    def __init__(self, app: App[None], bench: Workbench, on_change: Callable[[], None]) -> None:
        self.app = app
        self.bench = bench
        self.state = SyncState()
        self._on_change = on_change
        self._wait = FIRST_RETRY

    @property
    def enabled(self) -> bool:
        """Only an office with a level above syncs."""
        return bool(self.bench.settings.upstream_url)

    def start(self) -> None:
        """The first round now (it finds out whether the upstream answers)."""
        if self.enabled:
            self.app.set_timer(0.1, self.round)

    def round(self) -> None:
        """One round in a thread; the next is scheduled when it ends."""
        self.app.run_worker(self._push, thread=True, exclusive=True, group="sync")

    def _push(self) -> None:
        # httpx and the sync stack load with the first round, not with the workstation: an
        # office without a level above never pays for them.
        from sync import client

        bench = self.bench
        try:
            client.push(bench.engine, bench.settings, clock=bench.now)
            client.pull(bench.engine, bench.settings, clock=bench.now)
        except WorkstationError as error:
            message = error.message(bench.settings.language)
            self.app.call_from_thread(self._ended, False, message)
            return
        self.app.call_from_thread(self._ended, True, "")

    def _ended(self, ok: bool, message: str) -> None:
        state = self.state
        state.online, state.last_error = ok, message
        if ok:
            state.last_sync, self._wait = self.bench.now(), FIRST_RETRY
            self.app.set_timer(EVERY, self.round)
        else:
            self.app.set_timer(self._wait, self.round)
            self._wait = min(self._wait * 2, LAST_RETRY)
        self._on_change()
