"""Canonical bytes, signatures, password hashes and sealed keys."""

from __future__ import annotations

import json
import subprocess
import sys

from workstation import crypto
from workstation.crypto import Signer


def test_canonical_json_is_sorted_compact_utf8() -> None:
    data = {"b": 1, "a": {"z": "开办旅馆", "y": [1, 2]}}
    assert crypto.canonical(data) == '{"a":{"y":[1,2],"z":"开办旅馆"},"b":1}'.encode()
    assert crypto.canonical(json.loads(crypto.canonical(data))) == crypto.canonical(data)


def test_signatures_verify_only_the_signed_bytes() -> None:
    signer = Signer.generate()
    message = crypto.canonical({"type": "task.approved"})
    signature = signer.sign(message)
    assert crypto.verify_signature(signer.public_key, signature, message)
    assert not crypto.verify_signature(signer.public_key, signature, message + b" ")
    assert not crypto.verify_signature(Signer.generate().public_key, signature, message)
    assert len(signer.key_id) == 16


def test_production_scrypt_cost_is_not_cheap() -> None:
    """The suite lowers the cost for speed; a fresh interpreter has the real one."""
    code = "from workstation import crypto; print(crypto.SCRYPT_N)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 2**15


def test_password_hash_and_sealed_key() -> None:
    stored = crypto.hash_password("correct horse")
    assert stored["kdf"] == "scrypt" and stored["n"] == crypto.SCRYPT_N
    assert crypto.check_password("correct horse", stored)
    assert not crypto.check_password("correct horsE", stored)
    signer = Signer.generate()
    sealed = crypto.seal_private_key(signer.private_key, "correct horse")
    assert sealed["cipher"] == "aes-256-gcm" and sealed["kdf"]["name"] == "scrypt"
    raw = signer.private_key.private_bytes_raw()
    assert raw.hex() not in json.dumps(sealed)
    opened = crypto.open_private_key(sealed, "correct horse")
    assert opened is not None and opened.private_bytes_raw() == raw
    assert crypto.open_private_key(sealed, "wrong") is None
