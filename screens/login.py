"""登录: operator and password, offline; on a demo office, the demo operators are listed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Static

from screens.keys import localise_bindings
from screens.widgets.status import StatusBar
from workstation.errors import WorkstationError

if TYPE_CHECKING:
    from screens.app import WorkstationApp


class LoginScreen(Screen[None]):
    """The first screen: who is at the keyboard."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS = [Binding("escape", "clear", "ui.login.clear", id="clear")]
    """Esc clears the form (there is nothing to go back to)."""

    def __init__(self, note: str = "") -> None:
        super().__init__()
        self.note = note
        """Why the login screen is back (an idle workstation locked itself), if it says."""
        localise_bindings(self, self.workstation.language)

    @property
    def workstation(self) -> WorkstationApp:
        """The app, typed."""
        from screens.app import WorkstationApp

        assert isinstance(self.app, WorkstationApp)
        return self.app

    def compose(self) -> ComposeResult:
        """Title, the two fields, the error line and (demo only) the operators to try."""
        t = self.workstation.t
        yield StatusBar(id="status")
        with Vertical(id="login-form"):
            yield Static(t("ui.login.title"), id="login-title")
            yield Label(t("ui.login.operator"))
            yield Input(id="operator", placeholder=t("ui.login.operator_hint"))
            yield Label(t("ui.login.password"))
            yield Input(id="password", password=True)
            yield Static(self.note, id="login-error")
        demo = self.workstation.bench.demo_operators()
        if demo:
            yield Static(t("ui.login.demo", password="demo1234"), id="demo-title")
            table: DataTable[str] = DataTable(id="demo-operators", cursor_type="row")
            table.add_columns(t("ui.login.operator"), t("ui.login.name"), t("ui.login.role"))
            for username, name, role in demo:
                table.add_row(username, name, t(f"role.{role}"), key=username)
            yield table
        yield Footer()

    def on_mount(self) -> None:
        """Status bar without an operator; focus the operator field."""
        self.workstation.refresh_status(self.query_one(StatusBar))
        self.query_one("#operator", Input).focus()

    def on_screen_resume(self) -> None:
        """Terminal preferences (cursor blink) apply here too."""
        self.workstation.apply_preferences(self)

    @on(Input.Submitted, "#operator")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(DataTable.RowSelected, "#demo-operators")
    def _pick_demo(self, event: DataTable.RowSelected) -> None:
        self.query_one("#operator", Input).value = str(event.row_key.value)
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    def _submit(self) -> None:
        username = self.query_one("#operator", Input).value
        password = self.query_one("#password", Input).value
        if not username.strip():
            self.query_one("#operator", Input).focus()
            return
        self.query_one("#login-error", Static).update(self.workstation.t("ui.login.checking"))
        self._login(username, password)

    @work(thread=True, exclusive=True, group="login")
    def _login(self, username: str, password: str) -> None:
        # scrypt takes a noticeable moment on an old PC: keep it off the UI thread.
        try:
            self.workstation.bench.login(username, password)
        except WorkstationError as error:
            message = error.message(self.workstation.language)
            self.app.call_from_thread(self._failed, message)
            return
        self.app.call_from_thread(self.workstation.home)

    def _failed(self, message: str) -> None:
        self.query_one("#login-error", Static).update(message)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def action_clear(self) -> None:
        """Empty both fields."""
        for field in self.query(Input):
            field.value = ""
        self.query_one("#login-error", Static).update("")
        self.query_one("#operator", Input).focus()
