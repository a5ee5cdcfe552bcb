"""One round of sync with the level above, over HTTP: push until nothing waits.

Every batch is its own request and its own transaction here: a cut anywhere costs at most the
batch in flight, which the upstream skips when it comes again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from sync import signing
from sync.downstream import accept_pulled, pulled_up_to
from sync.outgoing import BATCH_SIZE, next_batch, rewind, take_receipt
from sync.wire import Batch, Receipt
from workstation import officekey
from workstation.crypto import Signer
from workstation.db import reading, writing
from workstation.errors import ConfigError, SyncRefused, WorkstationError
from workstation.services.office import local_office
from workstation.settings import Settings

TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""A rural link is slow; a dead one is found out within seconds."""


class UpstreamUnreachable(WorkstationError):
    """The level above did not answer; everything stays here and goes up next time."""

    key = "error.sync.unreachable"


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
        except httpx.HTTPError as error:
            raise UpstreamUnreachable(url=self.url, reason=str(error)) from None


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
    """Send everything the upstream has not receipted, batch by batch; what moved."""
    batches = events = receipted = resent = held = 0
    with _link(engine, settings, clock, http) as link:
        while True:
            with reading(engine) as session:
                batch = next_batch(session, link.key, limit=limit)
            if batch is None:
                break
            answer = link.post(signing.PUSH, batch.encode(), "application/octet-stream")
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
    with _link(engine, settings, clock, http) as link:
        with reading(engine) as session:
            after = pulled_up_to(session)
        while True:
            body = json.dumps({"after": after}).encode()
            answer = link.post(signing.PULL, body, "application/json")
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
