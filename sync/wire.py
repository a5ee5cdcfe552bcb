"""What travels between levels: batches of signed events and the receipts that answer them.

A stored event is wholly described by its payload (the canonical envelope) and its operator's
signature; every other column is derived from the payload, so only those two travel. A batch
adds the sending office and that office's signature over the whole; on the wire it is
canonical JSON, compressed. Decoding checks the form only; ``sync.receive`` checks the meaning.

Version 2 carries each payload as its JSON text and compresses the batch with zstd (level 3):
a 500-event batch is ~450 KB of JSON, far past deflate's 32 KiB window, and base64 hid the
envelopes' repeated keys from any compressor (282 → ~200 bytes an event, bench/RESULTS.md).
Version 1 (payloads in base64, deflated) is still read, from an older peer or bundle.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass
from typing import Any

import zstandard

from workstation.crypto import Signer, canonical, verify_signature
from workstation.errors import SyncRefused

WIRE_VERSION = 2
"""Changes whenever the batch or receipt layout does; a peer refuses a version it cannot read."""
READABLE_VERSIONS = (1, 2)
"""The batch layouts still read (and their signatures checked) as they were signed."""
ZSTD_LEVEL = 3
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
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
    version: int = WIRE_VERSION
    """The layout the batch was signed in (an older peer's or bundle's stays as it came)."""

    @staticmethod
    def _body(
        sender: str,
        events: tuple[WireEvent, ...],
        after: dict[str, int],
        upto: int,
        version: int = WIRE_VERSION,
    ) -> dict[str, Any]:
        """What the sender's office key signs, as a JSON object (the wire form adds the key)."""
        payload = _b64 if version == 1 else _text
        return {
            "v": version,
            "sender": sender,
            "after": after,
            "upto": upto,
            "events": [{"p": payload(e.payload), "s": _b64(e.signature)} for e in events],
        }

    @classmethod
    def signed_part(
        cls,
        sender: str,
        events: tuple[WireEvent, ...],
        after: dict[str, int],
        upto: int,
        version: int = WIRE_VERSION,
    ) -> bytes:
        """The bytes the sender's office key signs."""
        return canonical(cls._body(sender, events, after, upto, version))

    @classmethod
    def sign(
        cls,
        sender: str,
        events: list[WireEvent],
        office_key: Signer,
        after: dict[str, int] | None = None,
        upto: int = 0,
        version: int = WIRE_VERSION,
    ) -> Batch:
        """A batch of ``events`` signed by the sending office (in an older layout for an
        older peer)."""
        frozen, needs = tuple(events), dict(after or {})
        signature = office_key.sign(cls.signed_part(sender, frozen, needs, upto, version))
        return cls(sender, frozen, office_key.key_id, signature, needs, upto, version)

    def verifies(self, public_key: bytes) -> bool:
        """True when the sender's office key signed exactly this batch."""
        part = self.signed_part(self.sender, self.events, self.after, self.upto, self.version)
        return verify_signature(public_key, self.signature, part)

    def encode(self) -> bytes:
        """The batch on the wire: canonical JSON, compressed as its version says."""
        document = self._body(self.sender, self.events, self.after, self.upto, self.version)
        document |= {"key_id": self.key_id, "sig": _b64(self.signature)}
        if self.version == 1:
            return zlib.compress(canonical(document), 6)
        return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(canonical(document))

    @classmethod
    def decode(cls, data: bytes) -> Batch:
        """A batch from the wire; anything malformed is refused with where it broke."""
        document = _inflate(data)
        version = document["v"]
        events = document.get("events")
        if not isinstance(events, list):
            raise SyncRefused("error.sync.malformed", where="events")
        payload = _unb64 if version == 1 else _untext
        wire: list[WireEvent] = []
        for index, item in enumerate(events):
            if not isinstance(item, dict):
                raise SyncRefused("error.sync.malformed", where=f"events[{index}]")
            wire.append(
                WireEvent(
                    payload(item.get("p"), f"events[{index}].p"),
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
        signature = _unb64(document.get("sig"), "sig")
        return cls(sender, tuple(wire), key_id, signature, after, upto, version)


@dataclass(frozen=True)
class Receipt:
    """The receiver's signed word: it stored each origin up to (seq, hash)."""

    receiver: str
    sender: str
    heads: dict[str, tuple[int, str]]
    key_id: str
    signature: bytes
    version: int = WIRE_VERSION
    """The layout of the batch it answers: an older sender checks it as it knows how."""

    @staticmethod
    def signed_part(
        receiver: str, sender: str, heads: dict[str, tuple[int, str]], version: int = WIRE_VERSION
    ) -> bytes:
        """The bytes the receiver's office key signs."""
        return canonical(
            {
                "v": version,
                "receipt": receiver,
                "sender": sender,
                "heads": {origin: [seq, digest] for origin, (seq, digest) in heads.items()},
            }
        )

    @classmethod
    def sign(
        cls,
        receiver: str,
        sender: str,
        heads: dict[str, tuple[int, str]],
        office_key: Signer,
        version: int = WIRE_VERSION,
    ) -> Receipt:
        """A receipt for ``heads``, signed by the receiving office."""
        signature = office_key.sign(cls.signed_part(receiver, sender, heads, version))
        return cls(receiver, sender, dict(heads), office_key.key_id, signature, version)

    def verifies(self, public_key: bytes) -> bool:
        """True when the receiver's office key signed exactly this receipt."""
        part = self.signed_part(self.receiver, self.sender, self.heads, self.version)
        return verify_signature(public_key, self.signature, part)

    def to_json(self) -> dict[str, Any]:
        """The receipt as a JSON object."""
        return {
            "v": self.version,
            "receiver": self.receiver,
            "sender": self.sender,
            "heads": {origin: [seq, digest] for origin, (seq, digest) in self.heads.items()},
            "key_id": self.key_id,
            "sig": _b64(self.signature),
        }

    @classmethod
    def from_json(cls, value: Any) -> Receipt:
        """A receipt from a JSON object (one without a version is version 1's); anything
        malformed is refused."""
        try:
            heads = {
                str(origin): (int(seq), str(digest))
                for origin, (seq, digest) in dict(value["heads"]).items()
            }
            version = value.get("v", 1)
            if not readable(version):
                raise SyncRefused("error.sync.version", version=str(version))
            return cls(
                str(value["receiver"]),
                str(value["sender"]),
                heads,
                str(value["key_id"]),
                _unb64(value["sig"], "sig"),
                version,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
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


def readable(version: object) -> bool:
    """True for a batch layout this office reads (an int: JSON's true is not version 1)."""
    return type(version) is int and version in READABLE_VERSIONS


def _text(data: bytes) -> str:
    # A payload is canonical JSON, UTF-8 by construction: it travels as the text it is.
    return data.decode("utf-8")


def _untext(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise SyncRefused("error.sync.malformed", where=where)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which no payload written here holds
        raise SyncRefused("error.sync.malformed", where=where) from None


def unpacked(data: bytes) -> bytes:
    """The canonical document of an encoded batch (zstd, or an older peer's deflate)."""
    return _unzstd(data) if data.startswith(_ZSTD_MAGIC) else _undeflate(data)


def _inflate(data: bytes) -> dict[str, Any]:
    packed = data.startswith(_ZSTD_MAGIC)
    raw = _unzstd(data) if packed else _undeflate(data)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SyncRefused("error.sync.malformed", where="zstd" if packed else "deflate") from None
    if not isinstance(document, dict):
        raise SyncRefused("error.sync.malformed", where="document")
    if not readable(document.get("v")):
        raise SyncRefused("error.sync.version", version=str(document.get("v")))
    return document


def _undeflate(data: bytes) -> bytes:
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(data, MAX_WIRE_BYTES)
    except zlib.error:
        raise SyncRefused("error.sync.malformed", where="deflate") from None
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise SyncRefused("error.sync.malformed", where="deflate")
    return raw


def _unzstd(data: bytes) -> bytes:
    """One whole zstd frame that says its size, at most MAX_WIRE_BYTES (a bomb is refused
    before anything is unpacked), and nothing after it."""
    try:
        size = zstandard.frame_content_size(data)
        if not 0 <= size <= MAX_WIRE_BYTES:
            raise SyncRefused("error.sync.malformed", where="zstd")
        inflater = zstandard.ZstdDecompressor().decompressobj()
        raw = inflater.decompress(data)
    except zstandard.ZstdError:
        raise SyncRefused("error.sync.malformed", where="zstd") from None
    if not inflater.eof or inflater.unused_data or len(raw) != size:
        raise SyncRefused("error.sync.malformed", where="zstd")
    return raw
