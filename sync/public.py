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

from workstation.db import writing
from workstation.i18n import translate
from workstation.services.status import PublicStatus, TooManyTries, look_up

LANGUAGES = ("zh_CN", "en")


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
            200: {"description": "The case's status, departments and dates; no personal data."},
            404: {"description": "Unknown number or wrong access code (the same answer)."},
            429: {"description": "Too many wrong codes for this number: wait (Retry-After)."},
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
            body = {"error": wait.key, "message": _both(wait.key, **wait.params)}
            return JSONResponse(body, 429, headers={"Retry-After": str(wait.seconds)})
        if found is None:
            key = "error.track.unknown"
            return JSONResponse({"error": key, "message": _both(key)}, 404)
        return JSONResponse(as_json(found))
