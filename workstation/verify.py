"""Check the whole signed log: hashes, links, sequence, keys, signatures, stored columns.

Every bad event is reported, not only the first: an auditor with a damaged file needs the
whole list. After a bad event its chain carries on from what is stored, without holding the
next event to the link it cannot check, so one damaged event does not name its neighbours.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from models import ChainHead, Event, Office
from workstation.crypto import ALG_ED25519, canonical, key_id, sha256_hex, verify_signature
from workstation.eventlog import GENESIS_PREV, decode
from workstation.projector import subject_of

KEY_ADMIN_TYPES = frozenset(
    {
        "operator.registered",
        "operator.revoked",
        "office.key_registered",
        "office.enrolled",
        "office.revoked",
        "office.upstream_registered",
    }
)
"""Events that change who may sign or sync; only an administrator's key may sign them."""


@dataclass(frozen=True)
class Problem:
    """A bad event: where it is and why (a message key and its parameters)."""

    origin: str
    seq: int
    row_id: int | None
    reason: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifyReport:
    """How many events verified, and every problem found, in storage order."""

    checked: int
    problems: tuple[Problem, ...] = ()

    @property
    def problem(self) -> Problem | None:
        """The first problem, if any."""
        return self.problems[0] if self.problems else None

    @property
    def ok(self) -> bool:
        """True when every event verified."""
        return not self.problems


@dataclass
class _Key:
    username: str
    role: str
    public_key: bytes
    office: str


@dataclass
class _Chain:
    seq: int = 0
    prev: str = GENESIS_PREV
    trusted: bool = True
    """False after a bad event: its stored hash is not a link the next one can be held to."""


class _Bad(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        self.reason, self.params = reason, params


_COLUMNS = ("origin", "seq", "type", "ts", "actor", "key_id", "alg")


class Verifier:
    """Walks events in order, keeping the keys registered so far and each origin's head."""

    def __init__(self, sparse: frozenset[str] = frozenset()) -> None:
        self.keys: dict[str, _Key] = {}
        self.chains: dict[str, _Chain] = {}
        self.sparse = sparse
        """Origins of the levels above: only what concerns this office is pulled down, so
        their sequence rises with gaps and links cannot be followed."""
        self.checked = 0

    def check(self, row: Event) -> None:
        """Verify one stored event; raises _Bad with the reason."""
        try:
            env = decode(row.payload)
        except (ValueError, UnicodeDecodeError):
            raise _Bad("verify.unreadable") from None
        if canonical(env) != row.payload:
            raise _Bad("verify.not_canonical")
        for column in _COLUMNS:
            if env.get(column) != getattr(row, column):
                raise _Bad("verify.column", column=column)
        if env.get("prev") != row.prev_hash:
            raise _Bad("verify.column", column="prev_hash")
        if subject_of(env) != row.subject:
            raise _Bad("verify.column", column="subject")
        if sha256_hex(row.payload) != row.hash:
            raise _Bad("verify.hash")
        chain = self.chains.setdefault(row.origin, _Chain())
        if row.origin in self.sparse:
            if row.seq <= chain.seq:
                raise _Bad("verify.gap", expected=chain.seq + 1, found=row.seq)
        elif row.seq != chain.seq + 1:
            raise _Bad("verify.gap", expected=chain.seq + 1, found=row.seq)
        elif chain.trusted and row.prev_hash != chain.prev:
            raise _Bad("verify.link")
        if row.alg != ALG_ED25519:
            raise _Bad("verify.algorithm", alg=row.alg)
        self._check_signer(env, row)
        self._learn(env)
        chain.seq, chain.prev, chain.trusted = row.seq, row.hash, True
        self.checked += 1

    def pass_over(self, row: Event) -> None:
        """Carry on past a bad event, from what is stored, so the next are judged on their own."""
        chain = self.chains.setdefault(row.origin, _Chain())
        chain.seq, chain.prev, chain.trusted = row.seq, row.hash, False
        # A damaged registration that still reads keeps its operator's later events from
        # all being named for an unknown key; the registration itself is named already.
        with suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError):
            self._learn(decode(row.payload))

    def _check_signer(self, env: dict[str, Any], row: Event) -> None:
        if env["type"] == "office.opened" and row.seq == 1:
            admin = env["body"]["admin"]
            public = bytes.fromhex(admin["public_key"])
            if key_id(public) != row.key_id or admin["username"] != row.actor:
                raise _Bad("verify.genesis")
        else:
            # A key revoked before this event still proves who signed it; the projection
            # holds the event for review instead of applying it.
            known = self.keys.get(row.key_id)
            if known is None:
                raise _Bad("verify.unknown_key", key_id=row.key_id)
            if known.username != row.actor or known.office != row.origin:
                raise _Bad("verify.wrong_actor", actor=row.actor)
            if env["type"] in KEY_ADMIN_TYPES and known.role != "admin":
                raise _Bad("verify.not_admin", actor=row.actor)
            public = known.public_key
        if not verify_signature(public, row.signature, row.payload):
            raise _Bad("verify.signature")

    def _learn(self, env: dict[str, Any]) -> None:
        body = env["body"]
        if env["type"] == "office.opened":
            self._register(body["admin"], env["origin"])
        elif env["type"] == "operator.registered":
            self._register(body, env["origin"])

    def _register(self, operator: dict[str, Any], office: str) -> None:
        public = bytes.fromhex(operator["public_key"])
        self.keys[key_id(public)] = _Key(operator["username"], operator["role"], public, office)


def verify_log(session: Session, *, batch: int = 2000) -> VerifyReport:
    """Verify every stored event, origin by origin in sequence order; report every bad one."""
    offices = list(session.exec(select(Office)))
    complete = {o.code for o in offices if o.local or o.enrolled}
    verifier = Verifier(frozenset(o.code for o in offices if o.code not in complete))
    # The key registrations of every origin must be known before its operators' events, so
    # walk in storage order (append order); sequence and links are checked per origin.
    rows = session.exec(select(Event).order_by(col(Event.id)).execution_options(yield_per=batch))
    problems: list[Problem] = []
    for row in rows:
        try:
            verifier.check(row)
        except _Bad as bad:
            problems.append(Problem(row.origin, row.seq, row.id, bad.reason, bad.params))
            verifier.pass_over(row)
    problems.extend(_check_heads(session, verifier))
    return VerifyReport(verifier.checked, tuple(problems))


def _check_heads(session: Session, verifier: Verifier) -> list[Problem]:
    # The recorded head of each chain must be its last event: this catches a newest event
    # deleted on its own. Deleting it together with its head row is caught upstream only,
    # by the receipts of the sync protocol.
    heads = {head.origin: head for head in session.exec(select(ChainHead))}
    problems = []
    for origin in sorted(set(heads) | set(verifier.chains)):
        head, chain = heads.get(origin), verifier.chains.get(origin, _Chain())
        # A bad newest event is named already; its stored hash proves nothing about the head.
        if head is None or head.seq != chain.seq or (chain.trusted and head.hash != chain.prev):
            expected = head.seq if head is not None else 0
            params = {"expected": expected, "found": chain.seq}
            problems.append(Problem(origin, chain.seq, None, "verify.head", params))
    return problems
