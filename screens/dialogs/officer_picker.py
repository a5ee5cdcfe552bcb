"""改派: pick the officer of a department to hand a task to, as a modal."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from screens.keys import localise_bindings
from workstation.i18n import translate

if TYPE_CHECKING:
    from models import Task


class OfficerPicker(ModalScreen[str | None]):
    """Pick the officer of a department to hand a task to; Esc cancels."""

    DEFAULT_CSS = """
    OfficerPicker {
        align: center middle;

        & > Vertical {
            width: 60;
            max-width: 90%;
            height: auto;
            max-height: 80%;
            padding: 1 2;
            border: round $primary;
            background: $surface;
        }
        #pick-list {
            height: auto;
            max-height: 12;
        }
        #pick-hint {
            color: $text-muted;
            margin-top: 1;
        }
    }
    """
    """A bordered box in the middle of the screen; every rule is scoped to the picker."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "ui.dashboard.pick.cancel", id="pick-cancel"),
    ]
    """Enter picks (the option list's own key), Esc goes back."""

    def __init__(self, task: Task, officers: list[tuple[str, str]], language: str) -> None:
        super().__init__()
        self.task_id = task.id
        """The task being handed over."""
        self.holder = task.claimed_by
        """Who holds the task's claim now (marked in the list), if anyone."""
        self.officers = sorted(officers)
        """(username, name) of the department's officers, by username."""
        self.language = language
        """The operator's language, for the picker's own text."""
        localise_bindings(self, language)

    def compose(self) -> ComposeResult:
        """The question, the officers, a hint."""
        t = self._t
        with Vertical():
            yield Static(t("ui.dashboard.pick.title", task=self.task_id), id="pick-title")
            yield OptionList(
                *(
                    Option(
                        f"{username}  {name}"
                        + (t("ui.dashboard.pick.current") if username == self.holder else ""),
                        id=username,
                    )
                    for username, name in self.officers
                ),
                id="pick-list",
            )
            yield Static(t("ui.dashboard.pick.hint"), id="pick-hint")
        yield Footer()

    def _t(self, key: str, **params: object) -> str:
        return translate(key, self.language, **params)

    def on_mount(self) -> None:
        """Focus the list with the first officer highlighted."""
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#pick-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without handing anything over."""
        self.dismiss(None)
