"""One round of sync with the level above, over HTTP: push until nothing waits.

Every batch is its own request and its own transaction here: a cut anywhere costs at most the
batch in flight, which the upstream skips when it comes again. A link that breaks mid-exchange
is tried again after a pause, a few times in a row; batches start small, double while the link
holds and halve when it breaks, so that a flaky rural line resends little. After a cut the next
request carries one event: its receipt says whether the upstream already stored the batch that
was cut (the answer was lost, not the batch), and nothing is sent twice in bulk.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from sync import signing
from sync.downstream import PULL_SIZE, accept_pulled, pulled_up_to
from sync.outgoing import BATCH_SIZE, next_batch, rewind, take_receipt
from sync.wire import Batch, Receipt
from workstation import officekey
from workstation.crypto import Signer
from workstation.db import reading, writing
from workstation.errors import ConfigError, SyncRefused, WorkstationError
from workstation.services.office import local_office
from workstation.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""A rural link is slow; a dead one is found out within seconds."""
FIRST_BATCH = 64
"""Events in a round's first batch; doubled while the link holds, up to the round's limit."""
MIN_BATCH = 8
"""A batch never shrinks below this many events (each request costs its headers too)."""
GROWTH = 8
"""Events added to the batch size per answered batch once the link has broken in this round."""
RETRIES = 6
"""Cuts in a row a round rides out before it gives up and says the upstream is unreachable."""
PAUSE = 0.2
"""Seconds to wait after a cut before trying again; doubled for each cut in a row."""
MAX_PAUSE = 5.0
"""The longest pause between two tries (RETRIES cuts in a row wait about 11 s in all)."""


class UpstreamUnreachable(WorkstationError):
    """The level above did not answer; everything stays here and goes up next time."""

    key = "error.sync.unreachable"


class LinkCut(UpstreamUnreachable):
    """The upstream answered, then the link broke mid-exchange: worth trying again."""


class UpstreamRefused(SyncRefused):
    """The level above refused a batch and said why (in both languages)."""

    def __init__(self, key: str, params: dict[str, str], messages: dict[str, str]) -> None:
        super().__init__(key, **params)
        self.messages = messages

    def message(self, language: str) -> str:
        """The upstream's own words, in the operator's language."""
        return self.messages.get(language) or super().message(language)


@dataclass(frozen=True)
class PushReport:
    """What one round moved."""

    batches: int
    events: int
    receipted: int
    resent: int = 0
    """Events the upstream already held (the batch in flight when a link was cut)."""
    held: int = 0
    """Events the upstream stored but holds for review: signed by a key after its revocation."""


@dataclass(frozen=True)
class _Link:
    """This office's signed requests to the level above."""

    http: httpx.Client
    office: str
    key: Signer
    url: str
    clock: Callable[[], datetime]

    def post(self, path: str, body: bytes, content_type: str) -> httpx.Response:
        """One signed request; a dead link is said so."""
        headers = signing.sign(self.office, self.key, "POST", path, body, self.clock())
        headers["Content-Type"] = content_type
        try:
            return self.http.post(path, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Nobody listens: the hub is down, not the link flaky; say so at once.
            raise UpstreamUnreachable(url=self.url, reason=str(error)) from None
        except httpx.HTTPError as error:
            raise LinkCut(url=self.url, reason=str(error) or type(error).__name__) from None


@dataclass
class _Pace:
    """How many events the next batch carries, and how long to wait after a cut."""

    ceiling: int
    size: int = FIRST_BATCH
    growing: bool = True
    """Doubling (no cut yet in this round); after the first cut the size grows by GROWTH."""
    probing: bool = False
    """The last request was cut: the next carries one event, to learn what the upstream holds."""
    cuts: int = 0
    """Cuts in a row."""

    def __post_init__(self) -> None:
        self.size = max(min(self.size, self.ceiling), 1)

    def batch(self) -> int:
        """Events for the next request."""
        return 1 if self.probing else self.size

    def answered(self) -> None:
        """A request went through: grow (unless it was the probe after a cut)."""
        self.cuts = 0
        if self.probing:
            self.probing = False
            return
        grown = self.size * 2 if self.growing else self.size + GROWTH
        self.size = min(grown, self.ceiling)

    def cut(self, error: LinkCut) -> None:
        """The link broke: halve the batch, probe next, wait; give up after RETRIES in a row."""
        self.cuts += 1
        if self.cuts > RETRIES:
            raise error
        self.size = max(self.size // 2, min(MIN_BATCH, self.ceiling))
        self.growing, self.probing = False, True
        pause = min(PAUSE * 2 ** (self.cuts - 1), MAX_PAUSE)
        log.warning("link cut (%s); again in %.1f s, %d events a batch", error, pause, self.size)
        time.sleep(pause)


@contextmanager
def _link(
    engine: Engine, settings: Settings, clock: Callable[[], datetime], http: httpx.Client | None
) -> Iterator[_Link]:
    if not settings.upstream_url:
        raise ConfigError("error.sync.no_upstream")
    with reading(engine) as session:
        here = local_office(session).code
    key = officekey.load(settings.key_dir, here)
    client = http or httpx.Client(base_url=settings.upstream_url, timeout=TIMEOUT)
    try:
        yield _Link(client, here, key, settings.upstream_url, clock)
    finally:
        if http is None:
            client.close()


def push(
    engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    http: httpx.Client | None = None,
    limit: int = BATCH_SIZE,
) -> PushReport:
    """Send everything the upstream has not receipted, batch by batch; what moved.

    ``limit`` caps the events of one batch; a cut link is tried again (see ``_Pace``).
    """
    batches = events = receipted = resent = held = 0
    pace = _Pace(limit)
    with _link(engine, settings, clock, http) as link:
        while True:
            with reading(engine) as session:
                batch = next_batch(session, link.key, limit=pace.batch())
            if batch is None:
                break
            try:
                answer = link.post(signing.PUSH, batch.encode(), "application/octet-stream")
            except LinkCut as cut:
                pace.cut(cut)
                continue
            pace.answered()
            log.debug("pushed %d events: HTTP %d", len(batch.events), answer.status_code)
            if answer.status_code != 200:
                refusal = _refusal(answer, link.url)
                if isinstance(refusal, UpstreamRefused) and _rewound(engine, refusal):
                    continue
                raise refusal
            reply = answer.json()
            receipt = Receipt.from_json(reply.get("receipt"))
            resent += int(reply.get("skipped", 0))
            held += int(reply.get("held", 0))
            with writing(engine) as session:
                covered = take_receipt(session, receipt, now=clock())
            if covered == 0:
                # The upstream took the batch but signs for nothing new: sending it again
                # would loop; stop and say so.
                raise SyncRefused("error.sync.no_progress", url=link.url)
            batches, events = batches + 1, events + len(batch.events)
            receipted += covered
    return PushReport(batches, events, receipted, resent, held)


def pull(
    engine: Engine,
    settings: Settings,
    *,
    clock: Callable[[], datetime],
    http: httpx.Client | None = None,
) -> int:
    """Fetch what the level above holds for this office until nothing is left; how many new."""
    stored = 0
    pace = _Pace(PULL_SIZE)
    with _link(engine, settings, clock, http) as link:
        with reading(engine) as session:
            after = pulled_up_to(session)
        while True:
            body = json.dumps({"after": after}).encode()
            try:
                answer = link.post(signing.PULL, body, "application/json")
            except LinkCut as cut:
                # Asking again for the same position is harmless: what arrives twice is skipped.
                pace.cut(cut)
                continue
            pace.answered()
            if answer.status_code != 200:
                raise _refusal(answer, link.url)
            batch = Batch.decode(answer.content)
            with writing(engine) as session:
                stored += accept_pulled(session, batch)
            if not batch.events or batch.upto <= after:
                return stored
            after = batch.upto


def _rewound(engine: Engine, refusal: UpstreamRefused) -> bool:
    """The upstream lacks what it once receipted (restored from a backup): resend the tail."""
    if refusal.key != "error.sync.prerequisite":
        return False
    try:
        origin, have = str(refusal.params["origin"]), int(refusal.params["have"])
    except (KeyError, ValueError):
        return False
    with writing(engine) as session:
        return rewind(session, origin, have)


def _refusal(answer: httpx.Response, url: str) -> WorkstationError:
    """The upstream's refusal as an error, or "unreachable" if it did not say why."""
    try:
        data = answer.json()
        return UpstreamRefused(str(data["error"]), dict(data["params"]), dict(data["message"]))
    except (ValueError, KeyError, TypeError):
        return UpstreamUnreachable(url=url, reason=f"HTTP {answer.status_code}")
