"""The layers hold: domain code never loads textual, whatever imports it."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "models",
    "sync",
    "workstation.services.intake",
    "workstation.services.tasks",
    "workstation.services.cases",
    "workstation.services.supervision",
    "workstation.verify",
    "workstation.rebuild",
    "workstation.demo",
    "workstation.cli",
]


def test_core_does_not_load_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in CORE)
        + "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_does_no_work() -> None:
    """Importing builds no settings, engine or files (work happens when a command runs)."""
    code = (
        "import workstation.cli, workstation.settings, workstation.db, sqlalchemy\n"
        "import gc\n"
        "engines = [o for o in gc.get_objects() if isinstance(o, sqlalchemy.Engine)]\n"
        "print(len(engines))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
