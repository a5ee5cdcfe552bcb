"""The frame of the case screen's small dialogs: title, fields, error line, hint."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.keys import localise_bindings
from workstation.i18n import translate


class SmallDialog(ModalScreen[Any]):
    """A small dialog over a work screen: Enter confirms, Esc cancels."""

    DEFAULT_CSS = """
    SmallDialog {
        align: center middle;

        .small-dialog {
            width: 64;
            max-width: 100%;
            height: auto;
            padding: 1 2;
            border: round $primary;
            background: $surface;
        }
        .small-dialog-title {
            text-style: bold;
            margin-bottom: 1;
        }
        .small-dialog-error {
            height: auto;
            color: $error;
        }
        .small-dialog-hint {
            color: $text-muted;
        }
    }
    """
    """Centred, one box; every rule is nested under the dialog class."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "ui.case.cancel", id="cancel")
    ]
    """Esc closes the dialog without doing anything."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title
        localise_bindings(self, self.language)

    @property
    def language(self) -> str:
        """The operator's language."""
        from screens.app import WorkstationApp

        return self.app.language if isinstance(self.app, WorkstationApp) else "zh_CN"

    def t(self, key: str, **params: Any) -> str:
        """A UI string in the operator's language."""
        return translate(key, self.language, **params)

    def compose(self) -> ComposeResult:
        """Title, the dialog's own fields, the error line, the hint."""
        with Vertical(classes="small-dialog"):
            yield Static(self.title_text, classes="small-dialog-title")
            yield from self.fields()
            yield Static("", classes="small-dialog-error")
            yield Static(self.t("ui.case.confirm_hint"), classes="small-dialog-hint")

    def fields(self) -> ComposeResult:
        """The dialog's widgets."""
        yield from ()

    def on_mount(self) -> None:
        """The operator's terminal preferences (cursor blink) apply here too."""
        from screens.app import WorkstationApp

        if isinstance(self.app, WorkstationApp):
            self.app.apply_preferences(self)

    def fail(self, message: str) -> None:
        """Show ``message`` under the fields."""
        self.query_one(".small-dialog-error", Static).update(message)

    def action_cancel(self) -> None:
        """Close without a result."""
        self.dismiss(None)
