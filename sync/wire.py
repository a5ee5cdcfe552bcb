"""What travels between levels: batches of signed events and the receipts that answer them.

A stored event is wholly described by its payload (the canonical envelope) and its operator's
signature; every other column is derived from the payload, so only those two travel. A batch
adds the sending office and that office's signature over the whole; on the wire it is
canonical JSON, deflated. Decoding checks the form only; ``sync.receive`` checks the meaning.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

from workstation.crypto import Signer, canonical, verify_signature
from workstation.errors import SyncRefused

WIRE_VERSION = 1
"""Changes whenever the batch or receipt layout does; a peer refuses another version."""
MAX_WIRE_BYTES = 64 * 1024 * 1024
"""A batch inflates to at most this many bytes (a zip bomb is refused, not unpacked)."""


@dataclass(frozen=True)
class WireEvent:
    """One signed event as it travels."""

    payload: bytes
    signature: bytes


@dataclass(frozen=True)
class Batch:
    """Events of one or more origins, each origin's in sequence order, signed by the sender."""

    sender: str
    events: tuple[WireEvent, ...]
    key_id: str
    """The sender's office key."""
    signature: bytes
    after: dict[str, int]
    """What the batch presupposes: per origin, the sequence the receiver must already hold
    (a bundle carried by hand may arrive out of order; it is refused, never left with a gap)."""
    upto: int = 0
    """In a batch pulled from above: the sender's position after it (where the next starts)."""

    @staticmethod
    def _body(
        sender: str, events: tuple[WireEvent, ...], after: dict[str, int], upto: int
    ) -> dict[str, Any]:
        """What the sender's office key signs, as a JSON object (the wire form adds the key)."""
        return {
            "v": WIRE_VERSION,
            "sender": sender,
            "after": after,
            "upto": upto,
            "events": [{"p": _b64(e.payload), "s": _b64(e.signature)} for e in events],
        }

    @classmethod
    def signed_part(
        cls, sender: str, events: tuple[WireEvent, ...], after: dict[str, int], upto: int
    ) -> bytes:
        """The bytes the sender's office key signs."""
        return canonical(cls._body(sender, events, after, upto))

    @classmethod
    def sign(
        cls,
        sender: str,
        events: list[WireEvent],
        office_key: Signer,
        after: dict[str, int] | None = None,
        upto: int = 0,
    ) -> Batch:
        """A batch of ``events`` signed by the sending office."""
        frozen, needs = tuple(events), dict(after or {})
        signature = office_key.sign(cls.signed_part(sender, frozen, needs, upto))
        return cls(sender, frozen, office_key.key_id, signature, needs, upto)

    def verifies(self, public_key: bytes) -> bool:
        """True when the sender's office key signed exactly this batch."""
        part = self.signed_part(self.sender, self.events, self.after, self.upto)
        return verify_signature(public_key, self.signature, part)

    def encode(self) -> bytes:
        """The batch on the wire: canonical JSON, deflated."""
        document = self._body(self.sender, self.events, self.after, self.upto)
        document |= {"key_id": self.key_id, "sig": _b64(self.signature)}
        return zlib.compress(canonical(document), 6)

    @classmethod
    def decode(cls, data: bytes) -> Batch:
        """A batch from the wire; anything malformed is refused with where it broke."""
        document = _inflate(data)
        events = document.get("events")
        if not isinstance(events, list):
            raise SyncRefused("error.sync.malformed", where="events")
        wire: list[WireEvent] = []
        for index, item in enumerate(events):
            if not isinstance(item, dict):
                raise SyncRefused("error.sync.malformed", where=f"events[{index}]")
            wire.append(
                WireEvent(
                    _unb64(item.get("p"), f"events[{index}].p"),
                    _unb64(item.get("s"), f"events[{index}].s"),
                )
            )
        sender, key_id = document.get("sender"), document.get("key_id")
        if not isinstance(sender, str) or not isinstance(key_id, str):
            raise SyncRefused("error.sync.malformed", where="sender")
        after = document.get("after")
        if not isinstance(after, dict) or not all(
            isinstance(k, str) and type(v) is int for k, v in after.items()
        ):
            raise SyncRefused("error.sync.malformed", where="after")
        upto = document.get("upto", 0)
        if type(upto) is not int or upto < 0:
            raise SyncRefused("error.sync.malformed", where="upto")
        return cls(sender, tuple(wire), key_id, _unb64(document.get("sig"), "sig"), after, upto)


@dataclass(frozen=True)
class Receipt:
    """The receiver's signed word: it stored each origin up to (seq, hash)."""

    receiver: str
    sender: str
    heads: dict[str, tuple[int, str]]
    key_id: str
    signature: bytes

    @staticmethod
    def signed_part(receiver: str, sender: str, heads: dict[str, tuple[int, str]]) -> bytes:
        """The bytes the receiver's office key signs."""
        return canonical(
            {
                "v": WIRE_VERSION,
                "receipt": receiver,
                "sender": sender,
                "heads": {origin: [seq, digest] for origin, (seq, digest) in heads.items()},
            }
        )

    @classmethod
    def sign(
        cls, receiver: str, sender: str, heads: dict[str, tuple[int, str]], office_key: Signer
    ) -> Receipt:
        """A receipt for ``heads``, signed by the receiving office."""
        signature = office_key.sign(cls.signed_part(receiver, sender, heads))
        return cls(receiver, sender, dict(heads), office_key.key_id, signature)

    def verifies(self, public_key: bytes) -> bool:
        """True when the receiver's office key signed exactly this receipt."""
        part = self.signed_part(self.receiver, self.sender, self.heads)
        return verify_signature(public_key, self.signature, part)

    def to_json(self) -> dict[str, Any]:
        """The receipt as a JSON object."""
        return {
            "receiver": self.receiver,
            "sender": self.sender,
            "heads": {origin: [seq, digest] for origin, (seq, digest) in self.heads.items()},
            "key_id": self.key_id,
            "sig": _b64(self.signature),
        }

    @classmethod
    def from_json(cls, value: Any) -> Receipt:
        """A receipt from a JSON object; anything malformed is refused."""
        try:
            heads = {
                str(origin): (int(seq), str(digest))
                for origin, (seq, digest) in dict(value["heads"]).items()
            }
            return cls(
                str(value["receiver"]),
                str(value["sender"]),
                heads,
                str(value["key_id"]),
                _unb64(value["sig"], "sig"),
            )
        except (KeyError, TypeError, ValueError):
            raise SyncRefused("error.sync.malformed", where="receipt") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise SyncRefused("error.sync.malformed", where=where)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise SyncRefused("error.sync.malformed", where=where) from None


def _inflate(data: bytes) -> dict[str, Any]:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_WIRE_BYTES)
        if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
            raise SyncRefused("error.sync.malformed", where="deflate")
        document = json.loads(raw.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, ValueError):
        raise SyncRefused("error.sync.malformed", where="deflate") from None
    if not isinstance(document, dict):
        raise SyncRefused("error.sync.malformed", where="document")
    if document.get("v") != WIRE_VERSION:
        raise SyncRefused("error.sync.version", version=str(document.get("v")))
    return document
