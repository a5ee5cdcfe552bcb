"""A file path (a bundle on a USB stick), in a small dialog, with a sensible default."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label

from screens.dialogs.small import SmallDialog


class PathDialog(SmallDialog):
    """One line for the file; an empty one is refused beside the field."""

    def __init__(self, title: str, default: Path | None = None) -> None:
        super().__init__(title)
        self.default = str(default) if default is not None else ""

    def fields(self) -> ComposeResult:
        """One line for the path."""
        yield Label(self.t("field.file"))
        yield Input(self.default, id="path-input", max_length=1000)

    @on(Input.Submitted, "#path-input")
    def _done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.fail(self.t("error.field.required", field="field.file"))
            return
        self.dismiss(Path(event.value.strip()).expanduser())
