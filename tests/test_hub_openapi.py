"""schemathesis against the hub's own OpenAPI description, on a real hub process with real data.

A county hub (``onewindow hub`` on loopback) holds a township's pushed cases. Every operation of
``/openapi.json`` is fuzzed in positive and negative mode; a request to push or pull is usually
signed by the township's office key over the exact bytes sent, so the fuzz reaches the batch and
position checks and not only the signature. A push body is either what schemathesis drew for
``application/octet-stream`` or a batch in the wire format built from the township's real events,
bent and re-signed. After each request: no 5xx, the schema's checks hold, a refusal is a 4xx
that names its key and says why in both languages, and a refused request changed nothing.

A fast sample in ``make test``; ``ONEWINDOW_SCHEMA_EXAMPLES=500`` runs the full campaign.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import zstandard
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from models import Application, Event, TrackAttempt
from sync import signing
from sync.client import push
from sync.wire import Batch, WireEvent
from tests.conftest import Hall
from tests.factories import request_for
from tests.levels import free_port, hub_process, link, open_county, wire_events
from workstation import i18n
from workstation.crypto import Signer, canonical
from workstation.db import reading, writing
from workstation.services import intake
from workstation.settings import load_settings
from workstation.verify import verify_log

EXAMPLES = int(os.environ.get("ONEWINDOW_SCHEMA_EXAMPLES", "6"))
"""Examples per operation and mode: a fast sample by default."""
TRACK = "/track/{tracking_no}"
HEADER = "header"
"""Where a signed request's credentials travel (a ``ParameterLocation``, a str enum)."""
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
"""schemathesis's own checks, on every response."""


def now() -> datetime:
    """The real clock: the hub checks request times against its own."""
    return datetime.now(UTC)


def fingerprint(engine: Engine, *, skip: frozenset[str] = frozenset()) -> str:
    """A hash of every row of every table but ``skip``: equal when nothing logical changed."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for name, sql in _dumps(engine):
            if name not in skip:
                digest.update(name.encode())
                digest.update(repr(connection.exec_driver_sql(sql).fetchall()).encode())
    return digest.hexdigest()


@functools.cache
def _dumps(engine: Engine) -> tuple[tuple[str, str], ...]:
    """Per table, the SQL that reads all of it in key order (compiled once: it runs a lot)."""
    return tuple(
        (table.name, str(select(table).order_by(*table.primary_key.columns).compile(engine)))
        for table in SQLModel.metadata.sorted_tables
    )


BOOKKEEPING = {
    # A wrong access code is counted: that is how guessing is made to wait.
    TRACK: frozenset({TrackAttempt.__tablename__}),
}


@dataclass
class County:
    """The county hub on loopback with the township enrolled and its cases pushed."""

    url: str
    engine: Engine
    township: Hall
    office_key: Signer
    events: list[WireEvent]
    """The township's log as it travels (the material bent batches are made of)."""
    number: str
    code: str
    """A pushed case's tracking number and access code, to look up for real."""
    said: list[str]
    """What the hub process printed."""


@pytest.fixture
def county(engine: Engine, tmp_path: Path, township: Hall) -> Iterator[County]:
    """A county (SQLite or PostgreSQL) holding a township's pushed hotel cases."""
    keys = tmp_path / "county-keys"
    office_key = link(engine, open_county(engine, keys), keys, township)
    with writing(township.engine) as session:
        numbers = [
            intake.accept(
                session, actor=township.clerk, request=request_for("hotel-open"), now=now()
            ).tracking_no
            for _ in range(2)
        ]
    port = free_port()
    with hub_process(engine, keys, port) as hub:
        # What the hub prints (a traceback, if it ever has one) is kept for the failure report,
        # and drained as it comes so that the pipe never fills and stalls the hub.
        said: list[str] = []
        assert hub.stdout is not None
        threading.Thread(
            target=lambda: said.extend(map(bytes.decode, hub.stdout)), daemon=True
        ).start()
        url = f"http://127.0.0.1:{port}"
        push(township.engine, load_settings(key_dir=township.key_dir, upstream_url=url), clock=now)
        with reading(engine) as session:
            application = session.get(Application, numbers[0])
            assert application is not None and application.access_code
            code = application.access_code
        yield County(
            url, engine, township, office_key, wire_events(township.engine), numbers[0], code, said
        )


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value, small."""
    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=8,
    )


@st.composite
def wire_bodies(draw: st.DrawFn, county: County) -> bytes:
    """A push body in the wire format: the real log, or pieces of it bent, signed or not."""
    sender = county.township.admin.office_code
    events = list(county.events)
    # A real envelope with one field changed: well-formed enough to reach the database.
    real = json.loads(draw(st.sampled_from(events)).payload)
    changed = draw(st.sampled_from(sorted(real)))
    bent_envelopes = json_values().map(lambda value: canonical(real | {changed: value}))
    pieces = draw(st.lists(st.sampled_from(events), max_size=6)) if draw(st.booleans()) else events
    if draw(st.booleans()):
        index = draw(st.integers(0, max(len(pieces) - 1, 0)))
        # Any text: a payload travels as the JSON string it is (wire version 2).
        text = st.text(st.characters(codec="utf-8"), max_size=64).map(str.encode)
        payload = draw(text | json_values().map(canonical) | bent_envelopes)
        pieces = [
            *pieces[:index],
            WireEvent(payload, draw(st.binary(max_size=64))),
            *pieces[index:],
        ]
    after = draw(
        st.dictionaries(st.sampled_from([sender, "610102", "x"]), st.integers(), max_size=2)
    )
    batch = Batch.sign(sender, pieces, county.office_key, after=after, upto=draw(st.integers(0, 9)))
    wire = zstandard.ZstdDecompressor().decompress(batch.encode())
    if draw(st.booleans()):
        # Bend the document itself: a field replaced by any JSON value, or dropped.
        document = json.loads(wire)
        name = draw(st.sampled_from(sorted(document)))
        if draw(st.booleans()):
            del document[name]
        else:
            document[name] = draw(json_values())
        wire = canonical(document)
    return zstandard.ZstdCompressor(level=3).compress(wire)


@dataclass
class Tally:
    """What the campaign saw."""

    trials: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    signed: int = 0
    known: dict[frozenset[str], str] = field(default_factory=dict)
    """The fingerprint the last request left, if it was a refusal."""

    def fail(self, request: dict[str, Any], why: str) -> None:
        """Note one failure, with the request as it was sent."""
        sent = {k: request.get(k) for k in ("method", "url", "params", "headers")}
        data = request.get("data")
        self.failures.append(f"{why}\n    sent {sent!r} body {data[:300] if data else data!r}")


def refusal_problems(answer: requests.Response) -> str | None:
    """Why a 4xx body is not a refusal an operator can read, or None."""
    try:
        body = answer.json()
        key, messages = body["error"], body["message"]
    except (ValueError, KeyError, TypeError):
        return f"not a refusal body: {answer.text[:200]!r}"
    for language in ("zh_CN", "en"):
        if key not in i18n.keys(language):
            return f"{key!r} is not in the {language} catalog"
        if not isinstance(messages, dict) or not str(messages.get(language, "")).strip():
            return f"no {language} reason"
        if messages[language] == key:
            return f"the {language} reason is the bare key"
    return None


def sign_over(county: County, case: schemathesis.Case, request: dict[str, Any]) -> None:
    """Sign ``request`` in place by the township's office key, over the exact bytes it sends."""
    if "json" in request:
        request["data"] = json.dumps(request.pop("json"), allow_nan=False).encode()
    body = request.get("data") or b""
    code = county.township.admin.office_code
    headers = signing.sign(code, county.office_key, case.method, case.path, body, now())
    request["headers"] = {**request["headers"], **headers}


def exercise(
    county: County,
    tally: Tally,
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    http: requests.Session,
) -> None:
    """Up to ``EXAMPLES`` requests to ``operation`` in ``mode``, each one judged."""
    path, signed = operation.path, operation.path in (signing.PUSH, signing.PULL)
    checks = CHECKS + ([positive_data_acceptance] if path in (signing.PULL, "/health") else [])

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def one(case: schemathesis.Case, data: st.DataObject) -> None:
        request = case.as_transport_kwargs(base_url=county.url)
        meta = case.meta
        drawn = meta.components.items() if meta is not None else ()
        headers_valid = all(info.mode.is_positive for at, info in drawn if at == HEADER)
        # Headers left as drawn test the signature check; signed ones reach the body's checks.
        if signed and headers_valid and data.draw(st.integers(0, 3)) < 3:
            if path == signing.PUSH and mode.is_positive and data.draw(st.booleans()):
                request["data"] = data.draw(wire_bodies(county))
            sign_over(county, case, request)
            tally.signed += 1
        if path == TRACK and mode.is_positive and data.draw(st.integers(0, 3)) == 3:
            # The real case too, with its code or not: a found case's answer is checked as well.
            given = county.code if data.draw(st.booleans()) else (case.query or {}).get("code", "")
            request["url"] = f"{county.url}/track/{county.number}"
            request["params"] = {"code": given}
        skip = BOOKKEEPING.get(path, frozenset())
        # The state a refusal left is the state the next request starts from: read it once.
        before = tally.known.pop(skip, None) or fingerprint(county.engine, skip=skip)
        tally.known.clear()
        answer = http.request(**request, timeout=60)
        tally.trials += 1
        tally.statuses[answer.status_code] += 1
        try:
            case.validate_response(answer, checks=checks, headers=request["headers"])
        except BaseExceptionGroup as failure:  # counted, not raised: the fuzzing goes on
            tally.fail(request, f"{answer.status_code} {type(failure).__name__}: {failure}"[:600])
        if answer.status_code >= 500:
            tally.fail(request, f"{answer.status_code}: {answer.text[:300]}")
        elif answer.status_code >= 400:
            problem = refusal_problems(answer)
            if problem:
                tally.fail(request, f"{answer.status_code}: {problem}")
            after = fingerprint(county.engine, skip=skip)
            if after != before:
                tally.fail(request, f"{answer.status_code} refused, yet the database changed")
            tally.known[skip] = after

    one()


FOUND_BEFORE = 4
"""Requests that once were 500s, asked first in every run."""


def found_before(county: County, http: requests.Session) -> list[str]:
    """What schemathesis found once (each a 500 then), asked again: what is wrong now."""
    code = county.township.admin.office_code
    real = json.loads(county.events[-1].payload)
    bent = WireEvent(canonical(real | {"seq": 2**40}), county.events[-1].signature)
    bad_push = Batch.sign(code, [bent], county.office_key).encode()
    asked = [
        ("GET", f"/track/{county.number}", {"code": "１７３７２０é"}, b"", 404),
        ("POST", signing.PULL, {}, b'{"after": 3.0}', 200),
        ("POST", signing.PULL, {}, b'{"after": 92276443123147328}', 422),
        ("POST", signing.PUSH, {}, bad_push, 422),
    ]
    assert len(asked) == FOUND_BEFORE
    wrong = []
    for method, path, params, body, expected in asked:
        headers = signing.sign(code, county.office_key, method, path, body, now())
        before = fingerprint(county.engine, skip=BOOKKEEPING.get(TRACK, frozenset()))
        answer = http.request(
            method, county.url + path, params=params, data=body, headers=headers, timeout=60
        )
        problem = refusal_problems(answer) if answer.status_code >= 400 else None
        after = fingerprint(county.engine, skip=BOOKKEEPING.get(TRACK, frozenset()))
        if answer.status_code != expected or problem or (expected >= 400 and after != before):
            wrong.append(f"{method} {path} {params}: {answer.status_code} {problem or ''}")
    return wrong


def test_schemathesis_finds_no_5xx_and_refusals_change_nothing(county: County) -> None:
    schema = schemathesis.openapi.from_url(f"{county.url}/openapi.json")
    with reading(county.engine) as session:
        held = {e.id: (e.payload, e.signature) for e in session.scalars(select(Event))}
    tally = Tally()
    started = time.monotonic()
    with requests.Session() as http:
        tally.failures += found_before(county, http)
        tally.trials += FOUND_BEFORE
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode.is_negative and operation.path == "/health":
                    continue  # nothing to negate: it takes no input
                exercise(county, tally, operation, mode, http)
    with reading(county.engine) as session:
        kept = {e.id: (e.payload, e.signature) for e in session.scalars(select(Event))}
        whole = verify_log(session).ok
    lost = sum(kept.get(number) != event for number, event in held.items())
    failures = len(tally.failures) + int(not whole)
    server_errors = sum(count for status, count in tally.statuses.items() if status >= 500)
    refused = sum(count for status, count in tally.statuses.items() if 400 <= status < 500)
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress hub-openapi [{county.engine.dialect.name}]: trials {tally.trials}, "
        f"failures {failures}, data lost {lost}, 5xx {server_errors}, refused {refused}, "
        f"signed {tally.signed}, statuses {dict(sorted(tally.statuses.items()))}, "
        f"examples {EXAMPLES}, {time.monotonic() - started:.0f} s"
    )
    assert failures == 0, "\n".join([*tally.failures[:10], "the hub said:", *county.said[-60:]])
    assert lost == 0 and server_errors == 0
