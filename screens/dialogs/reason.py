"""A required reason (withdrawing a case), in a small dialog."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Label

from screens.dialogs.small import SmallDialog


class ReasonDialog(SmallDialog):
    """One line for the reason; an empty one is refused beside the field."""

    def fields(self) -> ComposeResult:
        """One line for the reason."""
        yield Label(self.t("field.reason"))
        yield Input(id="case-reason", max_length=500)

    @on(Input.Submitted, "#case-reason")
    def _done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.fail(self.t("error.field.required", field="field.reason"))
            return
        self.dismiss(event.value)
