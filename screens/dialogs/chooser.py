"""Pick one of several items (a task awaiting 补正, an owed material) in a small dialog."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from screens.dialogs.small import SmallDialog


class ChoiceDialog(SmallDialog):
    """Pick one of several (code, label) choices; the result is the chosen code."""

    DEFAULT_CSS = """
    ChoiceDialog {
        OptionList {
            height: auto;
            max-height: 12;
        }
    }
    """
    """The list grows with its choices, up to twelve lines."""

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__(title)
        self.choices = choices

    def fields(self) -> ComposeResult:
        """The choices, one per line."""
        yield OptionList(*(Option(label, id=code) for code, label in self.choices))

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
