"""The bar at the top of every screen: office, operator, role, connection state."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

SEPARATOR = "  │  "
"""Between the office, the operator and the connection state."""


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
        """One line; on a narrow terminal the office name gives way, never the connection."""
        parts = [p for p in (self.office, self.operator, self.connection) if p]
        line = SEPARATOR.join(parts)
        room = self.content_region.width
        if not room or cell_len(line) <= room or not self.office:
            return line
        # Cut the office name (Rich counts a Chinese character as two cells).
        rest = SEPARATOR.join(p for p in (self.operator, self.connection) if p)
        keep = room - cell_len(rest) - cell_len(SEPARATOR)
        if keep < 4:
            return rest
        office = Text(self.office)
        office.truncate(keep, overflow="ellipsis")
        return office.plain + SEPARATOR + rest
