"""Operators' private keys on disk: one JSON file each, sealed with the operator's password."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from workstation.errors import AuthenticationFailed


def key_file(key_dir: Path, username: str) -> Path:
    """Where ``username``'s sealed key lives."""
    return key_dir / f"{username}.key.json"


def save(key_dir: Path, username: str, record: dict[str, Any]) -> Path:
    """Write ``record`` atomically, readable by the owner only."""
    return write_private(key_file(key_dir, username), record)


def write_private(path: Path, record: dict[str, Any]) -> Path:
    """Write ``record`` as JSON to ``path`` atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)
    return path


def load(key_dir: Path, username: str) -> dict[str, Any]:
    """The sealed record of ``username``; a missing file is a failed login, not a crash."""
    try:
        value = json.loads(key_file(key_dir, username).read_text("utf-8"))
    except (OSError, ValueError):
        raise AuthenticationFailed() from None
    if not isinstance(value, dict):
        raise AuthenticationFailed()
    return value
