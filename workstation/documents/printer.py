"""Sending a saved document to a receipt or laser printer through ``lp`` (CUPS)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from workstation.errors import ConfigError


def send_to_printer(path: Path, printer: str) -> None:
    """Send a saved document to the ``lp`` destination ``printer``; ConfigError if that fails."""
    # No shell; an absolute path can never be taken for an option of lp.
    command = ["lp", "-d", printer, str(path.resolve())]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        reason = exc.stderr.decode(errors="replace").strip() or f"lp exit {exc.returncode}"
        raise ConfigError(setting="ONEWINDOW_PRINTER", reason=reason) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(setting="ONEWINDOW_PRINTER", reason=str(exc)) from None
