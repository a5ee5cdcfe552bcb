"""The smoke run in a real terminal (tmux), as kept in scripts/tui_smoke.sh."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "tui_smoke.sh"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_a_clerk_accepts_one_application_in_a_real_terminal() -> None:
    onewindow = Path(sys.executable).parent / "onewindow"
    result = subprocess.run(
        ["bash", str(SCRIPT), str(onewindow)], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke: ok" in result.stdout
