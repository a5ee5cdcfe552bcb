"""One page of tasks as a table drawn line by line: a key press repaints in milliseconds.

Textual's DataTable renders every visible cell through Rich on each frame (about 80 ms for
a page of six columns here); this table lays out each row once, as one strip, when the page
arrives, and a frame only copies the visible strips and colours the cursor row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

Cell = str | Text
"""What a cell holds: plain text, or text with its own colours (the light)."""
GAP = 2
"""Blank cells between two columns (one, where the terminal is too narrow for two)."""
LAST_MIN_WIDTH = 8
"""The last column (the longest, the task's name) is never cut shorter than this."""


class TaskTable(Widget, can_focus=True):
    """A header line and rows; the last column takes the width that is left and is cut."""

    DEFAULT_CSS = """
    TaskTable {
        height: 1fr;
        padding: 0 1;
    }
    TaskTable > .task-table--header {
        text-style: bold;
        color: $text-accent;
        background: $panel;
    }
    TaskTable > .task-table--even {
        background: $surface-lighten-1 20%;
    }
    TaskTable > .task-table--cursor {
        background: $block-cursor-blurred-background;
    }
    TaskTable:focus > .task-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "task-table--header",
        "task-table--even",
        "task-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("home", "cursor_to(0)", show=False),
        Binding("end", "cursor_to(-1)", show=False),
        Binding("enter", "choose", show=False),
    ]
    """Arrows move the cursor within the page; Enter chooses the row under it."""

    cursor_row: reactive[int] = reactive(0)
    """The row under the cursor, counting from 0 (the header is not a row)."""

    class Chosen(Message):
        """Enter (or a click) on a row."""

        def __init__(self, table: TaskTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key
            """The chosen row's key (the task id)."""

        @property
        def control(self) -> TaskTable:
            """The table the row belongs to (for ``@on`` selectors)."""
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: list[str] = []
        self._keys: list[str] = []
        self._cells: list[Sequence[Cell]] = []
        self._header = Strip([])
        self._strips: list[Strip] = []
        self._top = 0
        """The first row on screen: the window follows the cursor."""

    # ── what the screen uses ───────────────────────────────────────────────────────────
    def show(self, labels: Sequence[str], rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Show a new page: ``rows`` are (key, cells) in the order of ``labels``."""
        self._labels = list(labels)
        self._keys = [key for key, _ in rows]
        self._cells = [cells for _, cells in rows]
        self._layout()
        self.cursor_row = min(self.cursor_row, max(self.row_count - 1, 0))
        self._follow()
        self.refresh()

    def clear(self) -> None:
        """No rows (the header stays)."""
        self.show(self._labels, [])

    @property
    def row_count(self) -> int:
        """Rows on this page."""
        return len(self._keys)

    def get_row_at(self, row: int) -> list[Cell]:
        """The cells of one row, as given (before cutting)."""
        return list(self._cells[row])

    def get_row_index(self, key: str) -> int:
        """The row of ``key``."""
        return self._keys.index(key)

    @property
    def cursor_key(self) -> str | None:
        """The key of the row under the cursor, if there is a row."""
        return self._keys[self.cursor_row] if self._keys else None

    def move_cursor(self, *, row: int) -> None:
        """Put the cursor on ``row`` (kept within the page)."""
        self.cursor_row = max(0, min(row, self.row_count - 1)) if self._keys else 0

    # ── layout ─────────────────────────────────────────────────────────────────────────
    def _layout(self) -> None:
        """Column widths from the cells, then one strip per row."""
        room = self.content_region.width or self.size.width
        widths = [
            max([cell_len(label), *(cell_len(_plain(cells[i])) for cells in self._cells)])
            for i, label in enumerate(self._labels[:-1])
        ]
        gap = GAP if room - sum(widths) - GAP * len(widths) >= LAST_MIN_WIDTH else 1
        if self._labels:
            widths.append(max(room - sum(widths) - gap * len(widths), LAST_MIN_WIDTH))
        labels = [Text(label) for label in self._labels]
        self._header = self._strip(labels, widths, room, gap)
        self._strips = [self._strip(cells, widths, room, gap) for cells in self._cells]

    def _strip(self, cells: Sequence[Cell], widths: list[int], room: int, gap: int) -> Strip:
        line = Text(no_wrap=True, end="")
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            text = cell.copy() if isinstance(cell, Text) else Text(cell)
            text.truncate(width, overflow="ellipsis")
            if text.plain.endswith(" …"):
                # A wide character did not fit before the ellipsis: no gap in front of it.
                text.right_crop(2)
                text.append("…")
            text.pad_right(width - cell_len(text.plain))
            line.append_text(text)
            if index < len(widths) - 1:
                line.append(" " * gap)
        segments = [s for s in line.render(self.app.console) if s.text != "\n"]
        return Strip(segments).adjust_cell_length(max(room, 1))

    def on_resize(self) -> None:
        """A new width cuts the last column again."""
        self._layout()
        self._follow()

    # ── drawing ────────────────────────────────────────────────────────────────────────
    def render_line(self, y: int) -> Strip:
        """Line 0 is the header; the others are rows from the top of the window."""
        width = self.content_region.width or self.size.width
        if y == 0:
            return self._header.apply_style(self.get_component_rich_style("task-table--header"))
        row = self._top + y - 1
        if row >= len(self._strips):
            return Strip.blank(width)
        strip = self._strips[row]
        if row == self.cursor_row:
            return strip.apply_style(self.get_component_rich_style("task-table--cursor"))
        if row % 2:
            return strip.apply_style(self.get_component_rich_style("task-table--even"))
        return strip.apply_style(Style())

    def _follow(self) -> None:
        """Scroll the window so that the cursor row is on screen."""
        visible = max(self.content_region.height - 1, 1)
        if self.cursor_row < self._top:
            self._top = self.cursor_row
        elif self.cursor_row >= self._top + visible:
            self._top = self.cursor_row - visible + 1
        self._top = max(0, min(self._top, max(self.row_count - visible, 0)))

    def watch_cursor_row(self) -> None:
        """The cursor moved: keep it on screen and repaint."""
        self._follow()
        self.refresh()

    # ── keys and mouse ─────────────────────────────────────────────────────────────────
    def action_cursor(self, step: int) -> None:
        """One row up or down."""
        self.move_cursor(row=self.cursor_row + step)

    def action_cursor_to(self, row: int) -> None:
        """The first (0) or last (-1) row of the page."""
        self.move_cursor(row=self.row_count - 1 if row < 0 else row)

    def action_choose(self) -> None:
        """Enter: the row under the cursor is chosen."""
        if self.cursor_key is not None:
            self.post_message(self.Chosen(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a row; a second click on it chooses it."""
        row = self._top + event.y - 1
        if event.y < 1 or row >= self.row_count:
            return
        if row == self.cursor_row and event.chain > 1:
            self.action_choose()
        self.move_cursor(row=row)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel moves the cursor."""
        event.stop()
        self.action_cursor(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel moves the cursor."""
        event.stop()
        self.action_cursor(-1)


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell
