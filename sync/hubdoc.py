"""The hub's contract: its refusals, and the OpenAPI description of what FastAPI cannot see.

The push and pull handlers read their bodies as bytes (the signature covers the exact bytes),
so FastAPI would describe them as taking nothing. These fragments say what really travels, so
that a client, or a fuzzer such as schemathesis, knows the headers, the bodies and every refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse

from sync import signing
from workstation.errors import WorkstationError

LANGUAGES = ("zh_CN", "en")

POSITION_MAX = 2**31 - 1
"""The largest ``after`` a pull may name: a position is an event row id (PostgreSQL integer)."""

REFUSAL: dict[str, Any] = {
    "type": "object",
    "description": "Why the request was refused, for the asking operator in both languages.",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "minLength": 1, "description": "The message key."},
        "params": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "What the message names (the sync refusals; the public's have none).",
        },
        "message": {
            "type": "object",
            "required": ["zh_CN", "en"],
            "properties": {
                "zh_CN": {"type": "string", "minLength": 1},
                "en": {"type": "string", "minLength": 1},
            },
        },
    },
}


def refusal(
    error: WorkstationError, status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A refusal the asking side can show its operator, in both languages (``REFUSAL``)."""
    params = {name: str(value) for name, value in error.params.items()}
    messages = {language: error.message(language) for language in LANGUAGES}
    body = {"error": error.key, "params": params, "message": messages}
    return JSONResponse(body, status, headers=headers)


def refused(description: str, **headers: dict[str, Any]) -> dict[str, Any]:
    """A refusal response: its description, the refusal body and any headers it carries."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": REFUSAL}},
    }
    if headers:
        response["headers"] = headers
    return response


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


SIGNED_HEADERS = [
    _header(signing.OFFICE, "The asking office's code, enrolled here.", {"minLength": 1}),
    _header(
        signing.TIME,
        "When the request was signed (ISO 8601 with offset); within 5 minutes of the hub.",
        {"format": "date-time"},
    ),
    _header(
        signing.NONCE,
        "Used once: the same signed request sent again is refused as a replay.",
        {"minLength": 16, "maxLength": 64, "pattern": "^[0-9a-f]+$"},
    ),
    _header(
        signing.SIGNATURE,
        "Ed25519 by the office key, hex, over method, path, office, time, nonce and body hash.",
        {"pattern": "^[0-9a-f]{128}$"},
    ),
]
"""The four headers of a signed request (``sync.signing``); without them it is refused (403)."""

PUSH_BODY = {
    "required": True,
    "description": "A batch signed by the sending office: canonical JSON, deflated (sync.wire).",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}

PULL_BODY = {
    "required": True,
    "description": "Where the asking office stands: the position after which to send.",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["after"],
                "properties": {"after": {"type": "integer", "minimum": 0, "maximum": POSITION_MAX}},
            }
        }
    },
}

RECEIPT = {
    "type": "object",
    "required": ["stored", "skipped", "held", "receipt"],
    "properties": {
        "stored": {"type": "integer", "minimum": 0},
        "skipped": {"type": "integer", "minimum": 0},
        "held": {"type": "integer", "minimum": 0},
        "receipt": {
            "type": "object",
            "required": ["receiver", "sender", "heads", "key_id", "sig"],
            "description": "Per origin, the sequence and hash stored, signed by this office.",
        },
    },
}

FORBIDDEN = "Not from an enrolled office, badly signed, off the clock or replayed; nothing kept."
UNREADY = "This hub cannot serve now (its key or storage); nothing of it was stored."

PUSH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored; the body counts what was stored and carries the signed receipt.",
        "content": {"application/json": {"schema": RECEIPT}},
    },
    403: refused(FORBIDDEN),
    409: refused("The batch rewrites history held here (a fork): recorded, nothing stored."),
    422: refused("The batch failed a check; nothing of it was stored."),
    503: refused(UNREADY),
}

PULL_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A batch signed by this office (canonical JSON, deflated).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    403: refused(FORBIDDEN),
    422: refused('The body is not ``{"after": <position>}``; nothing was changed.'),
    503: refused(UNREADY),
}

SIGNED_EXTRA = {"parameters": SIGNED_HEADERS}
"""``openapi_extra`` shared by the signed operations (each adds its own request body)."""
