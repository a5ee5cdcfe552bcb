"""The bar at the top of every screen: office, operator, role, connection state."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    """Office · operator · role · online/offline and events waiting to sync."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $primary;
        color: $text;
        padding: 0 1;
    }
    """

    office: reactive[str] = reactive("")
    operator: reactive[str] = reactive("")
    connection: reactive[str] = reactive("")
    """Already translated, e.g. "离线 · 待同步 0"; the sync issue feeds live values."""

    def render(self) -> str:
        """One line; wide characters are measured by Rich, so Chinese aligns."""
        parts = [p for p in (self.office, self.operator, self.connection) if p]
        return "  │  ".join(parts)
