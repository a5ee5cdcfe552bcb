"""An operator's private signing key is on disk only sealed with the operator's password.

A byte scan of everything a hall wrote (its database, WAL, key directory) finds no
operator's private key: not raw, not in hex, not in base64. A control file shows the scan
finds a key written in clear.
"""

from __future__ import annotations

import base64
from pathlib import Path

from tests.conftest import Hall


def forms(raw: bytes) -> list[bytes]:
    """The ways a 32-byte key could be written down."""
    return [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


def files_holding(root: Path, secrets: list[bytes]) -> list[str]:
    """The files under ``root`` that hold any of ``secrets``."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and any(secret in path.read_bytes() for secret in secrets)
    )


def test_no_operator_key_is_on_disk_in_clear(sqlite_hall: Hall, tmp_path: Path) -> None:
    hall = sqlite_hall
    operators = [hall.admin, hall.clerk, hall.supervisor, hall.auditor, *hall.officers.values()]
    raws = [actor.signer.private_key.private_bytes_raw() for actor in operators]
    assert len(set(raws)) == len(operators) > 10
    secrets = [form for raw in raws for form in forms(raw)]
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.suffix == ".db" for path in written) and len(written) > len(operators)
    assert files_holding(tmp_path, secrets) == []

    control = tmp_path / "control.txt"
    control.write_bytes(b"key: " + forms(raws[1])[3] + b"\n")
    assert files_holding(tmp_path, secrets) == ["control.txt"]
