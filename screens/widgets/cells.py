"""Table cells of the supervisor's figures: counts, dates, days late; refilling a table."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

if TYPE_CHECKING:
    from models import Task

NONE = "—"
"""What an empty cell shows."""


def count_cell(value: int, style: str = "") -> Text:
    """A figure, coloured only when it is not zero."""
    return Text(str(value), style=style if value else "")


def due_cell(task: Task, today: date) -> Text:
    """The task's due date, red when it has passed (paused tasks are not late)."""
    if task.due_date is None:
        return Text(NONE)
    late = task.state == "open" and task.due_date < today
    return Text(f"{task.due_date:%m-%d}", style="bold red" if late else "")


def day_cell(moment: date | None, now: datetime) -> str:
    """The month and day of ``moment`` (a time is shown in the office's time zone)."""
    if isinstance(moment, datetime):
        moment = moment.astimezone(now.tzinfo)
    return f"{moment:%m-%d}" if moment else NONE


def late_cell(due: date | None, today: date) -> Text:
    """Calendar days past ``due``."""
    return Text(str((today - due).days) if due else NONE, style="bold red")


def refill(table: DataTable[str | Text], rows: list[tuple[str, list[str | Text]]]) -> None:
    """Replace the rows of ``table``, keeping the cursor on the same key if it is still there."""
    kept = None
    if table.row_count:
        kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    for index, column in enumerate(table.ordered_columns):
        if column.auto_width:
            # Measured now rather than when the table next idles (an automatic width only
            # grows there, and a frame drawn before it would show the old widths).
            widths = (cell_len(str(row[index])) for _, row in rows)
            column.content_width = max([column.label.cell_len, *widths])
    if kept is not None and kept in table.rows:
        table.move_cursor(row=table.get_row_index(kept))
