"""The office key: the Ed25519 key an office signs its sync batches and receipts with.

Operators' keys are sealed with their passwords; the office key is not, because the sync
worker runs unattended (like an SSH host key). It lives beside them, readable by the owner only.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from workstation import keystore
from workstation.crypto import Signer
from workstation.errors import ConfigError, Conflict


def office_key_file(key_dir: Path, code: str) -> Path:
    """Where the office key of office ``code`` lives."""
    return key_dir / "office" / f"{code}.json"


def create(key_dir: Path, code: str, signer: Signer | None = None) -> Signer:
    """A new office key (``signer``, or a fresh one), written once and never replaced."""
    path = office_key_file(key_dir, code)
    if path.exists():
        raise Conflict("error.office_key.exists", path=str(path))
    signer = signer or Signer.generate()
    raw = signer.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    keystore.write_private(
        path,
        {
            "office": code,
            "key_id": signer.key_id,
            "public_key": signer.public_key.hex(),
            "private_key": base64.b64encode(raw).decode("ascii"),
        },
    )
    return signer


def load(key_dir: Path, code: str) -> Signer:
    """The office key of ``code``; a missing or broken file says where it was looked for."""
    path = office_key_file(key_dir, code)
    try:
        record = json.loads(path.read_text("utf-8"))
        raw = base64.b64decode(record["private_key"], validate=True)
        signer = Signer(Ed25519PrivateKey.from_private_bytes(raw))
    except FileNotFoundError:
        raise ConfigError("error.office_key.missing", path=str(path)) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError("error.office_key.broken", path=str(path)) from None
    if record.get("office") != code or record.get("key_id") != signer.key_id:
        raise ConfigError("error.office_key.broken", path=str(path))
    return signer
