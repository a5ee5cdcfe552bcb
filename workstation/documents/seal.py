"""The seal of a document: its hash and the issuing office's signature, as one QR text.

The seal is ``OW1:<tracking no>:<kind>:<office>:<hash>:<signature>`` in QR alphanumeric
characters (hash and signature in base32), signed by the office key over the tracking number,
the kind and the hash of the document's text. Checking needs only the office keys the
workstation already holds, no network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from sqlmodel import Session

from models import Office
from workstation.crypto import Signer, verify_signature
from workstation.errors import DocumentRefused

VERSION = "OW1"
KIND_CODES = {
    "acceptance": "ACC",
    "owed": "OWE",
    "supplement": "SUP",
    "refusal": "REF",
    "delivery": "DEL",
}
"""Short codes of the document kinds, as the seal carries them."""
_KINDS = {code: kind for kind, code in KIND_CODES.items()}


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def digest(body: str) -> bytes:
    """The hash of a document's text (lines without trailing spaces, newline-terminated)."""
    normal = "\n".join(line.rstrip() for line in body.strip("\n").split("\n")) + "\n"
    return hashlib.sha256(normal.encode("utf-8")).digest()


@dataclass(frozen=True)
class Seal:
    """What the QR code of a document says."""

    tracking_no: str
    kind: str
    office: str
    digest: bytes
    signature: bytes

    def signed_part(self) -> bytes:
        """The bytes the office key signs."""
        return f"{VERSION}|{self.tracking_no}|{KIND_CODES[self.kind]}|".encode() + self.digest

    def text(self) -> str:
        """The seal as the QR code and the printed line carry it."""
        parts = (VERSION, self.tracking_no, KIND_CODES[self.kind], self.office)
        return ":".join((*parts, _b32(self.digest), _b32(self.signature)))

    @classmethod
    def parse(cls, text: str) -> Seal:
        """The seal in a QR text; anything else is refused with the reason."""
        parts = "".join(text.split()).upper().split(":")
        try:
            version, tracking_no, kind, office, hashed, signature = parts
            if version != VERSION or kind not in _KINDS:
                raise ValueError(version)
            return cls(tracking_no, _KINDS[kind], office, _unb32(hashed), _unb32(signature))
        except (ValueError, binascii.Error):
            raise DocumentRefused("error.doc.malformed") from None


def seal(body: str, *, tracking_no: str, kind: str, office: str, key: Signer) -> Seal:
    """Seal a document's text with the office key."""
    unsigned = Seal(tracking_no, kind, office, digest(body), b"")
    return Seal(tracking_no, kind, office, unsigned.digest, key.sign(unsigned.signed_part()))


def check(session: Session, found: Seal, body: str | None = None) -> Office:
    """The office that issued the document; DocumentRefused with the reason if it is not
    genuine, or (given its text) not unchanged or not the case the seal names."""
    office = session.get(Office, found.office)
    if office is None or not office.public_key:
        raise DocumentRefused("error.doc.unknown_office", office=found.office)
    if not verify_signature(bytes.fromhex(office.public_key), found.signature, found.signed_part()):
        raise DocumentRefused("error.doc.signature", office=found.office)
    if body is not None:
        if found.tracking_no not in body:
            raise DocumentRefused("error.doc.other_case", tracking_no=found.tracking_no)
        if digest(body) != found.digest:
            raise DocumentRefused("error.doc.changed", tracking_no=found.tracking_no)
    return office
