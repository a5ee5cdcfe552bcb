"""`onewindow hub`: an office's database served over HTTP to the offices enrolled below it.

A FastAPI app run by uvicorn. It keeps nothing outside the database (nonces, cursors and
events are rows), so several hub processes may serve one PostgreSQL: each push runs in one
transaction under the database's write lock, and applies exactly once whoever serves it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from sync import hubdoc, public, signing
from sync.downstream import next_pull
from sync.hubdoc import refusal
from sync.receive import ForkRefused, accept, record_fork
from sync.wire import Batch
from workstation import officekey
from workstation.db import make_engine, reading, writing
from workstation.errors import SyncRefused, WorkstationError
from workstation.services.office import local_office
from workstation.settings import Settings, load_settings

log = logging.getLogger(__name__)

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
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)

    @app.get("/health")
    def health() -> dict[str, str]:
        """Whether the hub can read its database, and which office it serves."""
        with reading(engine) as session:
            here = local_office(session)
            return {"status": "ok", "office": here.code, "level": here.level}

    @app.post(
        signing.PUSH,
        responses=hubdoc.PUSH_RESPONSES,
        openapi_extra=hubdoc.SIGNED_EXTRA | {"requestBody": hubdoc.PUSH_BODY},
    )
    async def push(request: Request) -> JSONResponse:
        """Take a signed batch of events from an office below, whole or not at all."""
        body = await _body(request)
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
            return refusal(fork, 409)
        except SyncRefused as refused:
            return refusal(refused, 403 if refused.key in FORBIDDEN else 422)
        except (DataError, OverflowError):
            # A value the database cannot hold (a number past its integer, a NUL in a PostgreSQL
            # text) that no check before it caught: bad input all the same, refused whole.
            return refusal(SyncRefused("error.sync.malformed", where="value"), 422)
        except WorkstationError as error:
            return refusal(error, 503)
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
        responses=hubdoc.PULL_RESPONSES,
        openapi_extra=hubdoc.SIGNED_EXTRA | {"requestBody": hubdoc.PULL_BODY},
    )
    async def pull(request: Request) -> Response:
        """The next events addressed to the asking office's subtree, after its position."""
        body = await _body(request)
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
            return refusal(refused, 403 if refused.key in FORBIDDEN else 422)
        except WorkstationError as error:
            return refusal(error, 503)
        return Response(batch.encode(), media_type="application/octet-stream")

    return app


def _position(body: bytes) -> int:
    """The ``after`` of a pull request; anything else is refused."""
    try:
        value = json.loads(body.decode("utf-8"))["after"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise SyncRefused("error.sync.malformed", where="after") from None
    # JSON has one kind of number: 7.0 is the integer 7 there (and to the OpenAPI schema).
    if type(value) is float and value.is_integer() and abs(value) <= hubdoc.POSITION_MAX:
        value = int(value)
    if type(value) is not int or not 0 <= value <= hubdoc.POSITION_MAX:
        raise SyncRefused("error.sync.malformed", where="after")
    return value


async def _http_error(request: Request, error: Exception) -> Response:
    """No such path or method: a refusal like every other, not FastAPI's bare ``detail``."""
    assert isinstance(error, StarletteHTTPException)
    key = "error.not_found" if error.status_code == 404 else "error.invalid_input"
    return refusal(WorkstationError(key), error.status_code, error.headers)


async def _invalid_request(request: Request, error: Exception) -> Response:
    """Parameters FastAPI itself could not read: 422 in the refusal's form."""
    assert isinstance(error, RequestValidationError)
    where = ", ".join(".".join(str(part) for part in e["loc"]) for e in error.errors())
    return refusal(WorkstationError("error.invalid_input", where=where), 422)


_HEADERS = (signing.OFFICE, signing.TIME, signing.NONCE, signing.SIGNATURE)


async def _body(request: Request) -> bytes:
    """The request's body; a link cut mid-upload is one line in the log, not a traceback
    (nothing was read, so nothing is stored; the office sends it again)."""
    try:
        return await request.body()
    except ClientDisconnect:
        log.warning("%s: the link was cut while the request was being read", request.url.path)
        raise StarletteHTTPException(status_code=400, detail="client disconnected") from None


def app_factory() -> FastAPI:
    """For uvicorn's ``--factory``: the hub of the office the environment names."""
    return create_app()
