"""Canonical bytes, Ed25519 signatures, scrypt password hashes and encrypted private keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = "ed25519"
"""The only signature algorithm today; the field leaves room for SM2/SM3."""

SCRYPT_N = 2**15
"""scrypt cost: 32 MiB and tens of milliseconds per guess (OWASP's floor is 2**15 … 2**17)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
"""Made once: ``json.dumps`` with options builds a new encoder on every call (every event
signed, verified, received or replayed goes through here)."""


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, no spaces; the bytes that are signed and hashed."""
    return _CANONICAL.encode(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data``, lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def key_id(public_key: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return sha256_hex(public_key)[:16]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of ``private_key``."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def hash_password(password: str) -> dict[str, Any]:
    """A scrypt hash of ``password`` with its parameters, ready to store."""
    salt = os.urandom(16)
    return {
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": 8,
        "p": 1,
        "salt": _b64(salt),
        "hash": _b64(_scrypt(password, salt, SCRYPT_N, 8, 1)),
    }


def check_password(password: str, stored: dict[str, Any]) -> bool:
    """True when ``password`` matches a hash made by ``hash_password`` (constant time)."""
    derived = _scrypt(password, _unb64(stored["salt"]), stored["n"], stored["r"], stored["p"])
    return hmac.compare_digest(derived, _unb64(stored["hash"]))


def seal_private_key(private_key: Ed25519PrivateKey, password: str) -> dict[str, Any]:
    """The private key encrypted with AES-256-GCM under a scrypt key of ``password``."""
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = _scrypt(password, salt, SCRYPT_N, 8, 1)
    raw = private_key.private_bytes_raw()
    return {
        "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": 8, "p": 1, "salt": _b64(salt)},
        "cipher": "aes-256-gcm",
        "nonce": _b64(nonce),
        "ciphertext": _b64(AESGCM(kek).encrypt(nonce, raw, b"onewindow-operator-key")),
    }


def open_private_key(sealed: dict[str, Any], password: str) -> Ed25519PrivateKey | None:
    """The private key sealed by ``seal_private_key``, or None if the password is wrong."""
    kdf = sealed["kdf"]
    kek = _scrypt(password, _unb64(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
    try:
        raw = AESGCM(kek).decrypt(
            _unb64(sealed["nonce"]), _unb64(sealed["ciphertext"]), b"onewindow-operator-key"
        )
    except InvalidTag:
        return None
    return Ed25519PrivateKey.from_private_bytes(raw)


@dataclass(frozen=True)
class Signer:
    """An unlocked signing key with its public half and key id."""

    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        """Raw public key."""
        return public_bytes(self.private_key)

    @property
    def key_id(self) -> str:
        """Short name of the public key."""
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Ed25519 signature of ``message``."""
        return self.private_key.sign(message)

    @classmethod
    def generate(cls) -> Signer:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate())
