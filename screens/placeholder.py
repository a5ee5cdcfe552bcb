"""A screen whose module is not written yet; says so instead of failing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from screens.base import WorkScreen


class PendingScreen(WorkScreen):
    """Stands in for a screen that arrives later in this issue."""

    def __init__(self, name: str) -> None:
        self.screen_name = name
        super().__init__()

    def body(self) -> ComposeResult:
        """One line saying what is coming."""
        yield Static(self.t("ui.pending", screen=self.t(f"nav.{self.screen_name}")))
