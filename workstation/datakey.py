"""The office's data key: ID and phone numbers sealed at rest, found again by keyed hash.

An ID number is stored (in the log, the projections, bundles and backups) only as three
values: its *reference*, an HMAC-SHA256 under the office's lookup key, so an exact lookup
still works without the number; its *seal*, AES-256-GCM under the office's data key, so a
reason-logged reveal can show it; and its mask (``1101**********1234``) for every screen.
The phone number likewise. The two keys are derived (HKDF) from one 32-byte secret kept
beside the office key, readable by the owner only, so a copied database file or bundle
shows no number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from workstation.errors import ConfigError, InvalidInput

SEALED = "s1"
"""Prefix of a sealed value: ``s1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``."""
LEGACY = "legacy:"
"""Reference prefix of rows projected from events signed before numbers were sealed."""
REFERENCE = "h1"
"""Prefix of a reference: ``h1.<key id>.<base64url(HMAC-SHA256)>``."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class DataKey:
    """One office's data key: seals, opens and references personal numbers."""

    office: str
    secret: bytes = field(repr=False)
    key_id: str = field(init=False)
    """A short public name of this key, carried in every seal and reference."""
    _seal: AESGCM = field(init=False, repr=False)
    _lookup: bytes = field(init=False, repr=False)
    _nonce: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        def derive(purpose: bytes) -> bytes:
            info = b"onewindow/" + purpose
            return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(self.secret)

        object.__setattr__(self, "key_id", hashlib.sha256(derive(b"id")).hexdigest()[:8])
        object.__setattr__(self, "_seal", AESGCM(derive(b"seal")))
        object.__setattr__(self, "_lookup", derive(b"lookup"))
        object.__setattr__(self, "_nonce", derive(b"nonce"))

    def seal(self, value: str, *, kind: str) -> str:
        """``value`` encrypted; ``kind`` (``id`` or ``phone``) is bound in, so seals don't swap."""
        if not value:
            return ""
        # A synthetic nonce (a keyed hash of what is sealed, as in SIV): the same number seals
        # the same way, which tells no more than its reference already does, and replaying a
        # demo seed gives the same log; two different numbers never share a nonce.
        mac = hmac.new(self._nonce, f"{kind}\0{value}".encode(), hashlib.sha256)
        nonce = mac.digest()[:12]
        sealed = self._seal.encrypt(nonce, value.encode(), kind.encode())
        return f"{SEALED}.{self.key_id}.{_b64(nonce + sealed)}"

    def open(self, sealed: str, *, kind: str) -> str:
        """The value inside ``sealed``; refused if another key or kind sealed it, or if damaged."""
        if not sealed:
            return ""
        prefix, key_id, body = [*sealed.split("."), "", ""][:3]
        if prefix != SEALED or key_id != self.key_id:
            raise InvalidInput("error.datakey.other_key", key=key_id or "?")
        try:
            raw = _unb64(body)
            value = self._seal.decrypt(raw[:12], raw[12:], kind.encode())
        except (InvalidTag, ValueError):
            raise InvalidInput("error.datakey.damaged") from None
        return value.decode()

    def reference(self, value: str, *, kind: str) -> str:
        """The keyed hash an exact lookup of ``value`` finds the stored row by."""
        if not value:
            return ""
        mac = hmac.new(self._lookup, f"{kind}\0{value}".encode(), hashlib.sha256)
        return f"{REFERENCE}.{self.key_id}.{_b64(mac.digest())}"


def data_key_file(key_dir: Path, code: str) -> Path:
    """Where the data key of office ``code`` lives (beside its office key)."""
    return key_dir / "office" / f"{code}.data.json"


def load_or_create(key_dir: Path, code: str, *, secret: bytes | None = None) -> DataKey:
    """The office's data key, made on first use (from ``secret``, for a reproducible demo);
    two processes starting at once agree on one."""
    path = data_key_file(key_dir, code)
    if not path.exists():
        _create(path, code, secret or secrets.token_bytes(32))
    try:
        record = json.loads(path.read_text("utf-8"))
        secret = base64.b64decode(record["secret"], validate=True)
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError("error.datakey.broken", path=str(path)) from None
    if record.get("office") != code or len(secret) != 32:
        raise ConfigError("error.datakey.broken", path=str(path))
    return DataKey(code, secret)


def _create(path: Path, code: str, secret: bytes) -> None:
    # Written whole to a private temporary name, then linked into place: link() fails if
    # another process got there first, and then its key (already in use) is the one kept.
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    record = {"office": code, "secret": base64.b64encode(secret).decode()}
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
            handle.flush()
            os.fsync(handle.fileno())
        with suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
