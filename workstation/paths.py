"""Where the workstation keeps its files: platform dirs, overridable for tests and kiosks."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_dir, user_data_dir

APP = "onewindow"


def config_dir() -> Path:
    """Directory of ``config.toml`` (``ONEWINDOW_CONFIG_DIR`` overrides)."""
    return Path(os.environ.get("ONEWINDOW_CONFIG_DIR") or user_config_dir(APP))


def data_dir() -> Path:
    """Directory of the database, keys and documents (``ONEWINDOW_DATA_DIR`` overrides)."""
    return Path(os.environ.get("ONEWINDOW_DATA_DIR") or user_data_dir(APP))


def config_file() -> Path:
    """The TOML file whose values override the defaults (environment overrides it)."""
    return config_dir() / "config.toml"
