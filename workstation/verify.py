"""Check the whole signed log: hashes, links, sequence, keys, signatures, stored columns.

Every bad event is reported, not only the first: an auditor with a damaged file needs the
whole list. After a bad event its chain carries on from what is stored, without holding the
next event to the link it cannot check, so one damaged event does not name its neighbours.

With ``workers`` above one, the signatures (nearly all of the work) are checked in worker
processes, chunk by chunk, while the walk in order carries on in the caller; the report is
the same, problem for problem and in the same order, as with one.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table
from sqlmodel import Session, select

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
    loaded: Ed25519PublicKey | None = None

    def holds(self, signature: bytes, payload: bytes) -> bool:
        """True when this key signed ``payload``; the key is loaded once, not per event."""
        try:
            if self.loaded is None:
                self.loaded = Ed25519PublicKey.from_public_bytes(self.public_key)
            self.loaded.verify(signature, payload)
        except (InvalidSignature, ValueError):
            return False
        return True


class Stored(Protocol):
    """The stored columns of one event (an ``Event``, or a row of its table)."""

    id: int | None
    origin: str
    seq: int
    prev_hash: str
    hash: str
    type: str
    ts: str
    actor: str
    subject: str | None
    key_id: str
    alg: str
    payload: bytes
    signature: bytes


@dataclass
class _Pending:
    """An event that passed every check but its signature, which a worker checks later."""

    index: int
    """Its place in the walk (problems are reported in this order)."""
    origin: str
    seq: int
    row_id: int | None
    public_key: bytes
    signature: bytes
    payload: bytes

    def holds(self) -> bool:
        """Check the signature here and now (the walk cannot go on without knowing)."""
        return verify_signature(self.public_key, self.signature, self.payload)


@dataclass
class _Chain:
    seq: int = 0
    prev: str = GENESIS_PREV
    trusted: bool = True
    """False after a bad event: its stored hash is not a link the next one can be held to."""
    pending: _Pending | None = None
    """The newest event, while its signature is still out: its trust rests on it."""


class _Bad(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        self.reason, self.params = reason, params


_COLUMNS = ("origin", "seq", "type", "ts", "actor", "key_id", "alg", "prev_hash")
"""The stored columns a signed envelope repeats (``prev_hash`` is its ``prev``), in the order
they are checked."""


class Verifier:
    """Walks events in order, keeping the keys registered so far and each origin's head."""

    def __init__(self, sparse: frozenset[str] = frozenset(), *, defer: bool = False) -> None:
        self.keys: dict[str, _Key] = {}
        self.chains: dict[str, _Chain] = {}
        self.sparse = sparse
        """Origins of the levels above: only what concerns this office is pulled down, so
        their sequence rises with gaps and links cannot be followed."""
        self.defer = defer
        """Leave signatures to the caller (``check`` returns them) instead of checking them."""
        self.checked = 0

    def check(self, row: Stored, index: int = 0) -> _Pending | None:
        """Verify one stored event; raises _Bad with the reason.

        Deferring, the event's signature is returned unchecked: it counts as verified until
        the caller learns otherwise (and then calls ``signature_failed``).
        """
        try:
            env = decode(row.payload)
        except (ValueError, UnicodeDecodeError):
            raise _Bad("verify.unreadable") from None
        if canonical(env) != row.payload:
            raise _Bad("verify.not_canonical")
        # One comparison of two tuples for the usual case; the first column that differs named.
        get = env.get
        signed = (
            get("origin"), get("seq"), get("type"), get("ts"),
            get("actor"), get("key_id"), get("alg"), get("prev"),
        )  # fmt: skip
        stored = (
            row.origin, row.seq, row.type, row.ts,
            row.actor, row.key_id, row.alg, row.prev_hash,
        )  # fmt: skip
        if signed != stored:
            differs = (c for c, a, b in zip(_COLUMNS, signed, stored, strict=True) if a != b)
            raise _Bad("verify.column", column=next(differs, "prev_hash"))
        if subject_of(env) != row.subject:
            raise _Bad("verify.column", column="subject")
        if sha256_hex(row.payload) != row.hash:
            raise _Bad("verify.hash")
        chain = self.chains.get(row.origin)
        if chain is None:  # not setdefault: that would build a chain for every event
            chain = self.chains[row.origin] = _Chain()
        if row.origin in self.sparse:
            if row.seq <= chain.seq:
                raise _Bad("verify.gap", expected=chain.seq + 1, found=row.seq)
        elif row.seq != chain.seq + 1:
            raise _Bad("verify.gap", expected=chain.seq + 1, found=row.seq)
        elif chain.trusted and row.prev_hash != chain.prev and self._still_trusted(chain):
            raise _Bad("verify.link")
        if row.alg != ALG_ED25519:
            raise _Bad("verify.algorithm", alg=row.alg)
        public = self._check_signer(env, row)
        pending = None
        if self.defer:
            pending = _Pending(
                index, row.origin, row.seq, row.id, public, row.signature, row.payload
            )
        try:
            self._learn(env)
        except Exception:
            # With one worker a bad signature is named before its body is learnt from.
            if pending is not None and not pending.holds():
                raise _Bad("verify.signature") from None
            raise
        chain.seq, chain.prev, chain.trusted, chain.pending = row.seq, row.hash, True, pending
        self.checked += 1
        return pending

    def signature_failed(self, pending: _Pending) -> None:
        """A deferred signature did not verify: the event is bad after all."""
        self.checked -= 1
        chain = self.chains[pending.origin]
        if chain.pending is pending:
            chain.trusted, chain.pending = False, None

    def _still_trusted(self, chain: _Chain) -> bool:
        # A broken link after an event whose signature is out: with one worker that event
        # would be known bad already, and then its link proves nothing. Settle it now.
        if chain.pending is None or chain.pending.holds():
            return True
        chain.trusted = False
        return False

    def pass_over(self, row: Stored) -> None:
        """Carry on past a bad event, from what is stored, so the next are judged on their own."""
        chain = self.chains.setdefault(row.origin, _Chain())
        chain.seq, chain.prev, chain.trusted, chain.pending = row.seq, row.hash, False, None
        # A damaged registration that still reads keeps its operator's later events from
        # all being named for an unknown key; the registration itself is named already.
        with suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError):
            self._learn(decode(row.payload))

    def _check_signer(self, env: dict[str, Any], row: Stored) -> bytes:
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
            if not self.defer and not known.holds(row.signature, row.payload):
                raise _Bad("verify.signature")
            return known.public_key
        if not self.defer and not verify_signature(public, row.signature, row.payload):
            raise _Bad("verify.signature")
        return public

    def _learn(self, env: dict[str, Any]) -> None:
        body = env["body"]
        if env["type"] == "office.opened":
            self._register(body["admin"], env["origin"])
        elif env["type"] == "operator.registered":
            self._register(body, env["origin"])

    def _register(self, operator: dict[str, Any], office: str) -> None:
        public = bytes.fromhex(operator["public_key"])
        self.keys[key_id(public)] = _Key(operator["username"], operator["role"], public, office)


def verify_log(
    session: Session, *, batch: int = 2000, workers: int = 1, chunk: int = 500
) -> VerifyReport:
    """Verify every stored event, origin by origin in sequence order; report every bad one.

    ``workers`` above one checks signatures in that many processes, ``chunk`` at a time.
    """
    offices = list(session.exec(select(Office)))
    complete = {o.code for o in offices if o.local or o.enrolled}
    sparse = frozenset(o.code for o in offices if o.code not in complete)
    verifier = Verifier(sparse, defer=workers > 1)
    # The key registrations of every origin must be known before its operators' events, so
    # walk in storage order (append order); sequence and links are checked per origin.
    # Plain rows, not ORM objects: building those cost more than the checks themselves.
    table: Table = Event.__table__  # type: ignore[attr-defined]
    rows = session.execute(table.select().order_by(table.c.id).execution_options(yield_per=batch))
    problems: list[tuple[int, Problem]] = []
    with _Signatures(verifier, workers, chunk) as signatures:
        for index, row in enumerate(row for page in rows.partitions() for row in page):
            try:
                pending = verifier.check(row, index)
            except _Bad as bad:
                problem = Problem(row.origin, row.seq, row.id, bad.reason, bad.params)
                problems.append((index, problem))
                verifier.pass_over(row)
            else:
                if pending is not None:
                    signatures.add(pending)
    problems += signatures.failed
    problems.sort(key=lambda found: found[0])  # each event is named once at most
    ordered = [problem for _, problem in problems]
    ordered.extend(_check_heads(session, verifier))
    return VerifyReport(verifier.checked, tuple(ordered))


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _bad_signatures(triples: list[tuple[bytes, bytes, bytes]]) -> list[int]:
    """Positions in ``triples`` (public key, signature, payload) that do not verify."""
    keys: dict[bytes, _Key] = {}  # a chunk holds a few operators' keys: load each once
    bad = []
    for i, (public, signature, payload) in enumerate(triples):
        key = keys.get(public)
        if key is None:
            key = keys[public] = _Key("", "", public, "")
        if not key.holds(signature, payload):
            bad.append(i)
    return bad


class _Signatures:
    """Deferred signatures, sent to worker processes a chunk at a time; the failures kept.

    The pool starts with the first full chunk, so a short log never pays for it; the last
    chunk, never full, is checked in the caller while the workers finish theirs.
    """

    def __init__(self, verifier: Verifier, workers: int, chunk: int) -> None:
        self.verifier, self.workers, self.size = verifier, workers, max(chunk, 1)
        self.failed: list[tuple[int, Problem]] = []
        self.chunk: list[_Pending] = []
        self.flying: deque[tuple[list[_Pending], Future[list[int]]]] = deque()
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> _Signatures:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._finish()
        finally:
            if self.pool is not None:
                self.pool.shutdown(cancel_futures=True)

    def add(self, pending: _Pending) -> None:
        """One more signature to check."""
        self.chunk.append(pending)
        if len(self.chunk) >= self.size:
            self._send()

    def _send(self) -> None:
        if self.pool is None:
            # fork: a worker needs nothing of the caller's but this module, already loaded.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)
        triples = [(p.public_key, p.signature, p.payload) for p in self.chunk]
        self.flying.append((self.chunk, self.pool.submit(_bad_signatures, triples)))
        self.chunk = []
        # A bounded queue keeps memory flat on a long log and the workers always fed.
        while len(self.flying) > 2 * self.workers:
            self._collect()

    def _collect(self) -> None:
        sent, future = self.flying.popleft()
        self._fail([sent[i] for i in future.result()])

    def _finish(self) -> None:
        self._fail([p for p in self.chunk if not p.holds()])
        self.chunk = []
        while self.flying:
            self._collect()

    def _fail(self, bad: list[_Pending]) -> None:
        for pending in bad:
            self.verifier.signature_failed(pending)
            problem = Problem(pending.origin, pending.seq, pending.row_id, "verify.signature")
            self.failed.append((pending.index, problem))


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
