"""What the hub answers the public: a case's status by tracking number and access code.

No personal data ever leaves here: no name, no ID number, no phone, no form, no reason text.
A wrong code and an unknown number get the same answer; repeated wrong codes for a number
make it wait (429 with Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from sync.hubdoc import refused
from workstation.db import writing
from workstation.i18n import translate
from workstation.services.status import PublicStatus, TooManyTries, look_up

LANGUAGES = ("zh_CN", "en")
_BOTH = {
    "type": "object",
    "required": list(LANGUAGES),
    "properties": {language: {"type": "string"} for language in LANGUAGES},
}
_DAY = {"type": ["string", "null"], "format": "date"}
STATUS = {
    "type": "object",
    "description": "What ``as_json`` returns: no name, ID number, phone, form or reason text.",
    "required": ["tracking_no", "matter", "status", "status_text", "accepted", "due", "tasks"],
    "properties": {
        "tracking_no": {"type": "string"},
        "matter": _BOTH,
        "status": {"type": "string"},
        "status_text": _BOTH,
        "accepted": _DAY,
        "due": _DAY,
        "completed": _DAY,
        "delivered": _DAY,
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["department", "state", "state_text", "due", "decided"],
                "properties": {
                    "department": _BOTH,
                    "state": {"type": "string"},
                    "state_text": _BOTH,
                    "due": _DAY,
                    "decided": _DAY,
                },
            },
        },
    },
}
"""The schema of a found case's public status, for the OpenAPI description."""


def _both(key: str, **params: Any) -> dict[str, str]:
    return {language: translate(key, language, **params) for language in LANGUAGES}


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def as_json(found: PublicStatus) -> dict[str, Any]:
    """The public status as the endpoint returns it (both languages)."""
    return {
        "tracking_no": found.tracking_no,
        "matter": dict(zip(LANGUAGES, found.matter, strict=True)),
        "status": found.status,
        "status_text": _both(f"status.{found.status}"),
        "accepted": _day(found.accepted),
        "due": _day(found.due),
        "completed": _day(found.completed),
        "delivered": _day(found.delivered),
        "tasks": [
            {
                "department": dict(zip(LANGUAGES, task.department, strict=True)),
                "state": task.state,
                "state_text": _both(f"state.{task.state}"),
                "due": _day(task.due),
                "decided": _day(task.decided),
            }
            for task in found.tasks
        ],
    }


def add_routes(app: FastAPI, engine: Engine, now: Callable[[], datetime]) -> None:
    """Add ``GET /track/{tracking_no}`` to the hub."""

    @app.get(
        "/track/{tracking_no}",
        responses={
            200: {
                "description": "The case's status, departments and dates; no personal data.",
                "content": {"application/json": {"schema": STATUS}},
            },
            404: refused("Unknown number or wrong access code (the same answer)."),
            422: refused("The request could not be read; nothing was looked up."),
            429: refused(
                "Too many wrong codes for this number: wait (Retry-After).",
                **{"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
            ),
        },
    )
    async def track(tracking_no: str, code: str = "") -> JSONResponse:
        """A case's status for whoever holds its receipt: tracking number and access code."""
        return await run_in_threadpool(_track, tracking_no, code)

    def _track(tracking_no: str, code: str) -> JSONResponse:
        moment = now()
        try:
            with writing(engine) as session:
                found = look_up(session, tracking_no, code, now=moment)
        except TooManyTries as wait:
            # The public's refusals carry no params: the message says all there is to say.
            body = {"error": wait.key, "message": _both(wait.key, **wait.params)}
            return JSONResponse(body, 429, headers={"Retry-After": str(wait.seconds)})
        if found is None:
            key = "error.track.unknown"
            return JSONResponse({"error": key, "message": _both(key)}, 404)
        return JSONResponse(as_json(found))
