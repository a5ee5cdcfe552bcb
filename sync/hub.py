"""`onewindow hub`: an office's database served over HTTP to the offices enrolled below it.

A FastAPI app run by uvicorn. It keeps nothing outside the database (nonces, cursors and
events are rows), so several hub processes may serve one PostgreSQL: each push runs in one
transaction under the database's write lock, and applies exactly once whoever serves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sync import public, signing
from sync.downstream import next_pull
from sync.receive import ForkRefused, accept, record_fork
from sync.wire import Batch
from workstation import officekey
from workstation.db import make_engine, reading, writing
from workstation.errors import SyncRefused, WorkstationError
from workstation.services.office import local_office
from workstation.settings import Settings, load_settings

FORBIDDEN = frozenset(
    {
        "error.sync.unenrolled",
        "error.sync.revoked",
        "error.sync.request_signature",
        "error.sync.replay",
        "error.sync.clock",
    }
)
"""Refusals of who is asking (403); the others are refusals of what was sent (409, 422)."""

Clock = Callable[[], datetime]


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The hub of the office whose database ``settings`` name."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)
    now = clock or (lambda: datetime.now(UTC))
    app = FastAPI(
        title="One-Window hub",
        summary="Signed sync between the levels of 一窗通 offices.",
        version="1",
    )

    public.add_routes(app, engine, now)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Whether the hub can read its database, and which office it serves."""
        with reading(engine) as session:
            here = local_office(session)
            return {"status": "ok", "office": here.code, "level": here.level}

    @app.post(
        signing.PUSH,
        responses={
            200: {"description": "Stored; the body is the receipt signed by this office."},
            403: {"description": "The request is not from an enrolled office, or is replayed."},
            409: {"description": "The batch rewrites history held here (a fork)."},
            422: {"description": "The batch failed a check; nothing of it was stored."},
        },
    )
    async def push(request: Request) -> JSONResponse:
        """Take a signed batch of events from an office below, whole or not at all."""
        body = await request.body()
        headers = {name: request.headers.get(name, "") for name in _HEADERS}
        return await run_in_threadpool(_push, body, headers)

    def _push(body: bytes, headers: dict[str, str]) -> JSONResponse:
        moment = now()
        try:
            with writing(engine) as session:
                office = signing.check(session, headers, "POST", signing.PUSH, body, moment)
                batch = Batch.decode(body)
                if batch.sender != office.code:
                    raise SyncRefused("error.sync.sender", office=office.code, sender=batch.sender)
                key = officekey.load(settings.key_dir, local_office(session).code)
                done = accept(session, batch, office_key=key)
        except ForkRefused as fork:
            with writing(engine) as session:
                record_fork(session, fork, moment)
            return _refusal(fork, 409)
        except SyncRefused as refused:
            return _refusal(refused, 403 if refused.key in FORBIDDEN else 422)
        except WorkstationError as error:
            return _refusal(error, 503)
        return JSONResponse(
            {
                "stored": done.stored,
                "skipped": done.skipped,
                "held": done.held,
                "receipt": done.receipt.to_json(),
            }
        )

    @app.post(
        signing.PULL,
        responses={
            200: {
                "description": "A batch signed by this office (deflated canonical JSON).",
                "content": {"application/octet-stream": {}},
            },
            403: {"description": "The request is not from an enrolled office, or is replayed."},
            422: {"description": 'The request body is not ``{"after": <position>}``.'},
        },
    )
    async def pull(request: Request) -> Response:
        """The next events addressed to the asking office's subtree, after its position."""
        body = await request.body()
        headers = {name: request.headers.get(name, "") for name in _HEADERS}
        return await run_in_threadpool(_pull, body, headers)

    def _pull(body: bytes, headers: dict[str, str]) -> Response:
        try:
            with writing(engine) as session:
                office = signing.check(session, headers, "POST", signing.PULL, body, now())
                after = _position(body)
                key = officekey.load(settings.key_dir, local_office(session).code)
                batch = next_pull(session, office.code, after, key)
        except SyncRefused as refused:
            return _refusal(refused, 403 if refused.key in FORBIDDEN else 422)
        except WorkstationError as error:
            return _refusal(error, 503)
        return Response(batch.encode(), media_type="application/octet-stream")

    return app


def _position(body: bytes) -> int:
    """The ``after`` of a pull request; anything else is refused."""
    try:
        value = json.loads(body.decode("utf-8"))["after"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SyncRefused("error.sync.malformed", where="after") from None
    if type(value) is not int or value < 0:
        raise SyncRefused("error.sync.malformed", where="after")
    return value


_HEADERS = (signing.OFFICE, signing.TIME, signing.NONCE, signing.SIGNATURE)


def _refusal(error: WorkstationError, status: int) -> JSONResponse:
    """A refusal the office below can show its operator, in both languages."""
    params: dict[str, Any] = {k: str(v) for k, v in error.params.items()}
    messages = {language: error.message(language) for language in ("zh_CN", "en")}
    return JSONResponse({"error": error.key, "params": params, "message": messages}, status)


def app_factory() -> FastAPI:
    """For uvicorn's ``--factory``: the hub of the office the environment names."""
    return create_app()
