"""Apply one event envelope to the projections; used live by ``append`` and by ``rebuild``.

Every value comes from the envelope alone (no clock, no calendar, no settings), so that the
projections replayed from the log are identical to the ones kept live (invariant 3). Office,
operator and catalog events are projected here; an application's events, in their agreed
order (``caseorder``), by ``case_events``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models import (
    CalendarYear,
    CaseEvent,
    ChainHead,
    Department,
    Event,
    HeldEvent,
    Matter,
    Office,
    Operator,
)
from workstation import caseorder
from workstation.caseorder import OPENERS as OPENERS
from workstation.caseorder import Envelope, Handler
from workstation.caseorder import event_time as event_time
from workstation.caseorder import not_before as not_before
from workstation.caseorder import subject_of as subject_of
from workstation.rows import Rows, SessionRows
from workstation.rows import latest_key as latest_key

_HANDLERS: dict[str, Handler] = {}
_OPENERS: dict[str, Handler] = {}
REVIEWS = frozenset({"held.admitted", "held.refused"})
"""A supervisor's decision on an event held because its key had been revoked."""


def handles(event_type: str) -> Callable[[Handler], Handler]:
    """Register the projection handler of ``event_type``."""

    def register(handler: Handler) -> Handler:
        _HANDLERS[event_type] = handler
        return handler

    return register


def event_types() -> frozenset[str]:
    """Every event type the projector knows."""
    return frozenset(_HANDLERS) | REVIEWS


def handles_opener(event_type: str, case_only: Handler) -> None:
    """Register how an application's first event is replayed (its case only)."""
    _OPENERS[event_type] = case_only


def apply(session: Session, envelope: Envelope, digest: str, *, log: Session | None = None) -> bool:
    """Project ``envelope`` (whose payload hashes to ``digest``); True if it was held for review.

    An event of an application that sorts before one already applied replays the case in the
    agreed order; its envelopes are read from ``log`` (the session holding the events, if
    not this one).
    """
    return apply_to(SessionRows(session, log), envelope, digest)


def apply_to(rows: Rows, envelope: Envelope, digest: str) -> bool:
    """Project ``envelope`` into ``rows``; True if it was held for review.

    Unknown types are errors.
    """
    if envelope["type"] not in _HANDLERS and envelope["type"] not in REVIEWS:
        raise ValueError(f"no projection for event type {envelope['type']!r}")
    held = _signed_by_revoked(rows, envelope)
    if held:
        _hold(rows, envelope)
    elif envelope["type"] in REVIEWS:
        _review(rows, envelope)
    else:
        _project(rows, envelope)
    head = rows.get(ChainHead, envelope["origin"])
    if head is None:
        rows.add(ChainHead, origin=envelope["origin"], seq=envelope["seq"], hash=digest)
    else:
        head.seq, head.hash = envelope["seq"], digest
    rows.settle()
    # No flush here: the next query flushes what it needs, so a batch's rows go out together.
    return held


def _project(rows: Rows, envelope: Envelope) -> None:
    subject = subject_of(envelope)
    if subject is None:
        _HANDLERS[envelope["type"]](rows, envelope, envelope["body"], event_time(envelope["ts"]))
    elif envelope["type"] in OPENERS:
        _HANDLERS[envelope["type"]](rows, envelope, envelope["body"], event_time(envelope["ts"]))
        caseorder.place(rows, subject, envelope, "applied", "")
    else:
        latest = rows.latest(subject)
        if latest is None:
            raise ValueError(f"event refers to unknown application {subject}")
        if caseorder.order_key(envelope) > latest:
            caseorder.apply_in_case(rows, subject, envelope, _HANDLERS)
        else:
            caseorder.place(rows, subject, envelope, "pending", "")
            caseorder.replay(rows, subject, _HANDLERS, _OPENERS)


def _signed_by_revoked(rows: Rows, env: Envelope) -> bool:
    """True for an event whose operator's key was revoked before it, in this log's order."""
    if env["type"] == "office.opened" and env["seq"] == 1:
        return False
    operator = rows.get(Operator, (env["origin"], env["actor"]))
    return operator is not None and operator.key_id == env["key_id"] and not operator.active


def _hold(rows: Rows, env: Envelope) -> None:
    subject = subject_of(env)
    rows.add(
        HeldEvent, origin=env["origin"], seq=env["seq"], type=env["type"], actor=env["actor"],
        subject=subject,
    )  # fmt: skip
    if subject is not None and env["type"] not in OPENERS:
        caseorder.place(rows, subject, env, "quarantined", "")


def _review(rows: Rows, env: Envelope) -> None:
    """A supervisor's decision on a held event: admitted, it counts from its place; or not."""
    body = env["body"]
    held = rows.get(HeldEvent, (body["origin"], body["seq"]))
    if held is None or held.resolution:
        raise ValueError(f"no event held at {body['origin']}/{body['seq']}")
    held.resolution = "admitted" if env["type"] == "held.admitted" else "refused"
    held.resolved_by, held.reason = env["actor"], body["reason"]
    if held.resolution == "refused":
        return
    payload = rows.log.scalar(
        select(col(Event.payload)).where(
            col(Event.origin) == held.origin, col(Event.seq) == held.seq
        )
    )
    if payload is None:
        raise ValueError(f"no event stored at {held.origin}/{held.seq}")
    admitted = json.loads(payload)
    if held.subject is not None and held.type not in OPENERS:
        row = rows.get(CaseEvent, (held.subject, caseorder.order_key(admitted)))
        if row is not None:
            row.outcome = "pending"
            rows.flush()
        caseorder.replay(rows, held.subject, _HANDLERS, _OPENERS)
    else:
        _project(rows, admitted)


def _operator(rows: Rows, body: dict[str, Any]) -> None:
    rows.add(
        Operator,
        username=body["username"],
        name=body["name"],
        role=body["role"],
        office_code=body["office"],
        departments=list(body["departments"]),
        key_id=body["key_id"],
        public_key=body["public_key"],
    )


def _office(rows: Rows, code: str) -> Office:
    """The office ``code``, made (nameless) if this is the first this log says of it."""
    return rows.get(Office, code) or rows.add(Office, code=code, name="", level="")


@handles("office.opened")
def _office_opened(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    # The first genesis a database sees is its own office's; later ones (at a hub) are of
    # offices below, whose rows may already exist from their enrolment.
    first = rows.local_office() is None
    parent = body.get("parent")
    if parent and rows.get(Office, parent["code"]) is None:
        rows.add(Office, code=parent["code"], name=parent["name"], level=parent["level"])
    spec = body["office"]
    office = _office(rows, spec["code"])
    office.name, office.level = spec["name"], spec["level"]
    office.parent_code = parent["code"] if parent else office.parent_code
    office.local = first
    office.demo = bool(body.get("demo", False)) and first
    rows.flush()
    _operator(rows, body["admin"])


def _from_below(rows: Rows, env: Envelope) -> bool:
    """True for an event of an office enrolled below this one (relayed up by sync)."""
    office = rows.get(Office, env["origin"])
    return office is not None and office.enrolled


@handles("office.key_registered")
def _office_key(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = rows.get(Office, body["office"])
    if office is None:
        raise ValueError("event refers to an unknown office")
    if office.enrolled:
        return  # the key this office enrolled it with stays; re-keying is a new enrolment
    office.key_id, office.public_key = body["key_id"], body["public_key"]


@handles("office.upstream_registered")
def _upstream(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(rows, env):
        return  # where an office below syncs to is its own business
    office = _office(rows, body["code"])
    office.name, office.level = body["name"], body["level"]
    office.key_id, office.public_key = body["key_id"], body["public_key"]
    here = rows.get(Office, env["origin"])
    if here is not None:
        here.parent_code = body["code"]


@handles("office.enrolled")
def _office_enrolled(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = _office(rows, body["code"])
    office.name, office.level, office.parent_code = body["name"], body["level"], body["parent"]
    office.key_id, office.public_key = body["key_id"], body["public_key"]
    office.enrolled, office.revoked_at = True, None


@handles("office.revoked")
def _office_revoked(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    office = rows.get(Office, body["code"])
    if office is None:
        raise ValueError("event refers to an unknown office")
    office.revoked_at = at


@handles("operator.registered")
def _operator_registered(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    _operator(rows, body)


@handles("operator.revoked")
def _operator_revoked(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    operator = rows.get(Operator, (env["origin"], body["username"]))
    if operator is not None:
        operator.active = False


@handles("catalog.published")
def _catalog(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(rows, env):
        return  # the catalog flows down from the level that publishes it, never up
    for item in body["departments"]:
        rows.put(Department, **item)
    rows.flush()
    for item in body["matters"]:
        definition = item["definition"]
        rows.put(
            Matter,
            code=definition["code"],
            version=definition["version"],
            name_zh=definition["name"]["zh"],
            name_en=definition["name"]["en"],
            initials=item["initials"],
            applicant_kind=definition["applicant_kind"],
            definition=definition,
        )


@handles("calendar.loaded")
def _calendar(rows: Rows, env: Envelope, body: dict[str, Any], at: datetime) -> None:
    if _from_below(rows, env):
        return  # holidays, like the catalog, flow down only
    rows.put(CalendarYear, year=body["schedule"]["year"], schedule=body["schedule"])


# The application handlers register themselves with ``handles`` when imported.
from workstation import case_events  # noqa: E402, F401
