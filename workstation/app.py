"""The app factory: the one way the CLI and the tests build the workstation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from workstation.db import make_engine, upgrade
from workstation.settings import Settings
from workstation.workbench import Workbench

if TYPE_CHECKING:
    from screens.app import WorkstationApp


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
) -> WorkstationApp:
    """The Textual workstation on ``settings``' database (or ``engine``), with ``clock``."""
    from screens.app import WorkstationApp

    if engine is None:
        engine = make_engine(settings.database_url)
        upgrade(engine)
    return WorkstationApp(Workbench(settings, engine, clock))
