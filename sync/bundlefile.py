"""The bytes of a bundle file: one framed record per event, so damage is refused by place.

Layout of version 2::

    ONEWINDOW-BUNDLE 2\\n
    the header        canonical JSON: v, sender, after, upto, key_id, sig, count
    record 1 … count  one per event: number (u32) | signature length (u16) | signature | payload

and every one of them framed as ``length (u32) | body | CRC-32 of length and body (u32)``,
big-endian. A CRC-32 catches every burst of up to 32 bits, so any one damaged byte is caught
in the record that holds it; the number catches a record moved or repeated; each origin's
sequence and hash links catch one renumbered with its checksum fixed; the office signature
over the batch (checked on import) catches any other rewrite. Where reading stops, the
refusal names the record (counted from 1, as the events of the batch) and its byte offset.

Version 1 (the whole batch deflated, as on the wire) is still read; a flip there breaks the
one compressed block, so only the byte offset where inflating failed can be named.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from typing import Any

from sync.wire import MAX_WIRE_BYTES, Batch, WireEvent, readable
from workstation.crypto import canonical, sha256_hex
from workstation.errors import SyncRefused

MAGIC = b"ONEWINDOW-BUNDLE 2\n"
"""The first bytes of a bundle written now: what it is and the layout's version."""
MAGIC_V1 = b"ONEWINDOW-BUNDLE 1\n"
"""The first bytes of an older bundle: the batch deflated as one block."""
MAX_RECORD_BYTES = 16 * 1024 * 1024
"""No event comes near this; a longer length field is damage, not an event."""

_U32 = struct.Struct(">I")
_EVENT = struct.Struct(">IH")
_FRAMING = 2 * _U32.size
_INFLATE_STEP = 256


def encode(batch: Batch) -> bytes:
    """The bundle file of ``batch`` (version 2)."""
    header = {
        "v": batch.version,
        "sender": batch.sender,
        "after": batch.after,
        "upto": batch.upto,
        "key_id": batch.key_id,
        "sig": base64.b64encode(batch.signature).decode("ascii"),
        "count": len(batch.events),
    }
    parts = [MAGIC, frame(canonical(header))]
    for number, event in enumerate(batch.events, 1):
        body = _EVENT.pack(number, len(event.signature)) + event.signature + event.payload
        parts.append(frame(body))
    return b"".join(parts)


def decode(data: bytes, path: str) -> Batch:
    """The batch in a bundle file's bytes; damage is refused naming the record and offset."""
    if data.startswith(MAGIC_V1):
        return _decode_v1(data)
    if not data.startswith(MAGIC):
        wrong = next(
            (i for i, (a, b) in enumerate(zip(data, MAGIC, strict=False)) if a != b),
            min(len(data), len(MAGIC)),
        )
        raise SyncRefused("error.sync.not_bundle_at", path=path, offset=wrong)
    header, pos = _header(data)
    count: int = header["count"]
    events: list[WireEvent] = []
    last: dict[str, tuple[int, str]] = {}
    for number in range(1, count + 1):
        try:
            body, end = _record(data, pos)
        except _Damage as damage:
            raise _refused(number, count, pos, damage.reason) from None
        event = _event(body, number, count, pos)
        _check_order(event, number, count, pos, last)
        events.append(event)
        pos = end
    if pos != len(data):
        raise SyncRefused("error.sync.trailing", offset=pos, extra=len(data) - pos)
    sig = base64.b64decode(header["sig"])
    return Batch(
        header["sender"], tuple(events), header["key_id"], sig, header["after"], header["upto"],
        header["v"],
    )  # fmt: skip


def spans(data: bytes) -> list[tuple[int, int]]:
    """Where each record of a sound version-2 bundle lies: (offset, length with framing)."""
    found, pos = [], len(MAGIC)
    while pos < len(data):
        (length,) = _U32.unpack_from(data, pos)
        found.append((pos, length + _FRAMING))
        pos += length + _FRAMING
    return found


def frame(body: bytes) -> bytes:
    """``body`` framed as a record (for a deliberate rewrite that fixes the checksums)."""
    length = _U32.pack(len(body))
    return length + body + _U32.pack(zlib.crc32(length + body))


class _Damage(SyncRefused):
    """The frame at ``offset`` is damaged; raised as is, it is the header's."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__("error.sync.header", offset=offset, reason=reason)
        self.reason = reason


def _record(data: bytes, pos: int) -> tuple[bytes, int]:
    """The body of the record at ``pos`` and where the next begins, its frame checked."""
    if pos >= len(data):
        raise _Damage("error.sync.why.cut", pos)
    if len(data) - pos < _FRAMING:
        raise _Damage("error.sync.why.overrun", pos)
    (length,) = _U32.unpack_from(data, pos)
    if length > MAX_RECORD_BYTES:
        raise _Damage("error.sync.why.length", pos)
    end = pos + _U32.size + length
    if end + _U32.size > len(data):
        raise _Damage("error.sync.why.overrun", pos)
    (crc,) = _U32.unpack_from(data, end)
    if zlib.crc32(data[pos:end]) != crc:
        raise _Damage("error.sync.why.checksum", pos)
    return data[pos + _U32.size : end], end + _U32.size


def _refused(number: int, count: int, offset: int, reason: str) -> SyncRefused:
    return SyncRefused(
        "error.sync.record", record=number, count=count, offset=offset, reason=reason
    )


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    offset = len(MAGIC)
    body, end = _record(data, offset)
    try:
        header = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Damage("error.sync.why.unreadable", offset) from None
    if not isinstance(header, dict):
        raise _Damage("error.sync.why.unreadable", offset)
    if not readable(header.get("v")):
        raise SyncRefused("error.sync.version", version=str(header.get("v")))
    kinds = {"sender": str, "key_id": str, "sig": str, "after": dict, "upto": int, "count": int}
    if any(type(header.get(name)) is not kind for name, kind in kinds.items()):
        raise _Damage("error.sync.why.unreadable", offset)
    # The count is not held to the file's size: a cut file must be named where it ends.
    if header["upto"] < 0 or not 0 <= header["count"] <= MAX_WIRE_BYTES // _FRAMING:
        raise _Damage("error.sync.why.unreadable", offset)
    if not all(isinstance(k, str) and type(v) is int for k, v in header["after"].items()):
        raise _Damage("error.sync.why.unreadable", offset)
    try:
        base64.b64decode(header["sig"], validate=True)
    except binascii.Error:
        raise _Damage("error.sync.why.unreadable", offset) from None
    return header, end


def _event(body: bytes, number: int, count: int, offset: int) -> WireEvent:
    if len(body) < _EVENT.size:
        raise _refused(number, count, offset, "error.sync.why.unreadable")
    found, signature_length = _EVENT.unpack_from(body)
    if found != number:
        raise SyncRefused(
            "error.sync.record_moved", record=number, count=count, offset=offset, found=found
        )
    start = _EVENT.size + signature_length
    if start > len(body):
        raise _refused(number, count, offset, "error.sync.why.unreadable")
    return WireEvent(body[start:], body[_EVENT.size : start])


def _check_order(
    event: WireEvent, number: int, count: int, offset: int, last: dict[str, tuple[int, str]]
) -> None:
    """Each origin's events in sequence order, linked where consecutive (a batch from above
    carries only what concerns the office below, so its sequences may skip)."""
    try:
        envelope = json.loads(event.payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _refused(number, count, offset, "error.sync.why.unreadable") from None
    origin = envelope.get("origin") if isinstance(envelope, dict) else None
    seq, prev = (envelope.get("seq"), envelope.get("prev")) if origin else (None, None)
    if not isinstance(origin, str) or type(seq) is not int or not isinstance(prev, str):
        raise _refused(number, count, offset, "error.sync.why.unreadable")
    before = last.get(origin)
    if before is not None and (seq <= before[0] or (seq == before[0] + 1 and prev != before[1])):
        raise SyncRefused(
            "error.sync.record_chain",
            record=number,
            count=count,
            offset=offset,
            origin=origin,
            seq=seq,
        )
    last[origin] = (seq, sha256_hex(event.payload))


def _decode_v1(data: bytes) -> Batch:
    """An older bundle; if its one compressed block is damaged, the offset where it broke."""
    try:
        return Batch.decode(data[len(MAGIC_V1) :])
    except SyncRefused as refused:
        if refused.params.get("where") != "deflate":
            raise
        offset = len(MAGIC_V1) + _inflate_failure(data[len(MAGIC_V1) :])
        raise SyncRefused("error.sync.damaged_at", offset=offset) from None


def _inflate_failure(blob: bytes) -> int:
    """How far into ``blob`` inflating gets before it fails (the damage is at or before)."""
    inflater, pos = zlib.decompressobj(), 0
    try:
        while pos < len(blob) and not inflater.eof:
            inflater.decompress(blob[pos : pos + _INFLATE_STEP], MAX_WIRE_BYTES)
            pos = min(pos + _INFLATE_STEP, len(blob))
    except zlib.error:
        return min(pos + _INFLATE_STEP, len(blob))
    # Inflated to the end: the block stops short, or bytes follow it.
    return len(blob) - len(inflater.unused_data)
