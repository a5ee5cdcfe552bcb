"""A document as it was saved (and printed): its text at the screen's width, its QR seal."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from screens.keys import localise_bindings
from workstation.documents import Issued
from workstation.documents.columns import qr_lines
from workstation.documents.text import WIDTH, body_text


class ReceiptScreen(ModalScreen[None]):
    """受理回执: the receipt text, its QR code and what happened to the file."""

    DEFAULT_CSS = """
    ReceiptScreen {
        align: center middle;

        #receipt {
            width: 88;
            max-width: 100%;
            height: 90%;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #receipt-qr {
            width: auto;
            color: black;
            background: white;
            padding: 1 2;
            margin: 1 0;
        }
        #receipt-note {
            color: $success;
        }
    }
    """
    """A framed window the printer's width, centred over the intake screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "ui.intake.receipt.close", id="close-receipt"),
        Binding("enter", "dismiss", "ui.intake.receipt.close", id="close-receipt-enter"),
    ]
    """Esc or Enter closes the receipt; the next applicant's blank form is behind it."""

    def __init__(self, issued: Issued, note: str, language: str) -> None:
        super().__init__()
        self.issued = issued
        """The document shown."""
        self.note = note
        """What happened to the file: saved where, printed or not."""
        self.language = language
        localise_bindings(self, language)

    def compose(self) -> ComposeResult:
        """The receipt text, its QR code and what happened to the file."""
        with VerticalScroll(id="receipt"):
            yield Static("", id="receipt-text")
            if self.issued.seal is not None:
                qr = "\n".join(qr_lines(self.issued.seal.text()))
                yield Static(Text(qr), id="receipt-qr")
            yield Static(Text(self.note), id="receipt-note")
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        """The printer's 80 columns, or fewer on a narrow terminal (border and scrollbar)."""
        width = max(40, min(WIDTH, event.size.width - 8))
        text = body_text(self.issued.document, width)
        self.query_one("#receipt-text", Static).update(Text(text))

    async def action_dismiss(self, result: None = None) -> None:
        """Close the receipt."""
        self.dismiss(result)
