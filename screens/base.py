"""What every work screen shares: the status bar, the footer, screen switching, messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer

from screens.keys import localise_bindings
from screens.widgets.status import StatusBar
from workstation.errors import PermissionDenied, WorkstationError

if TYPE_CHECKING:
    from screens.app import WorkstationApp
    from workstation.workbench import Workbench


def in_language(names: tuple[str, str] | None, language: str, default: str) -> str:
    """The Chinese or English one of a (Chinese, English) pair of names."""
    if names is None:
        return default
    return names[0] if language.startswith("zh") else names[1]


class WorkScreen(Screen[None]):
    """A screen of the workstation after login; subclasses compose ``body``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "app.go('intake')", "nav.intake", id="go-intake"),
        Binding("f3", "app.go('queue')", "nav.queue", id="go-queue"),
        Binding("f4", "app.go('case')", "nav.case", id="go-case"),
        Binding("f5", "app.go('dashboard')", "nav.dashboard", id="go-dashboard"),
        Binding("f12", "app.go('sync')", "nav.sync", id="go-sync", show=False),
        Binding("ctrl+l", "app.logout", "nav.logout", id="logout"),
    ]
    """Switching between the screens a role may use is one key (the sync screen, rarely needed
    at the keyboard, stays out of the footer; the command palette lists it)."""

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        localise_bindings(self, self.workstation.language)
        self._department_names: dict[str, tuple[str, str]] | None = None

    @property
    def workstation(self) -> WorkstationApp:
        """The app, typed."""
        from screens.app import WorkstationApp

        assert isinstance(self.app, WorkstationApp)
        return self.app

    @property
    def bench(self) -> Workbench:
        """The services, as the screens may use them."""
        return self.workstation.bench

    def t(self, key: str, **params: Any) -> str:
        """A UI string in the operator's language."""
        return self.workstation.t(key, **params)

    def department_name(self, code: str) -> str:
        """A department's published name in the operator's language (its code if none)."""
        if self._department_names is None:
            self._department_names = self.bench.department_names()
        return in_language(self._department_names.get(code), self.workstation.language, code)

    def compose(self) -> ComposeResult:
        """Status bar, the screen's body, footer."""
        yield StatusBar(id="status")
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        """Fill the status bar."""
        self.workstation.refresh_status(self.query_one(StatusBar))

    def on_screen_resume(self) -> None:
        """Preferences apply to what the screen now holds; the header is read again."""
        self.workstation.apply_preferences(self)
        self.refresh_header()

    def refresh_header(self) -> None:
        """Read the header's figures again (after an action that signed an event)."""
        self.workstation.refresh_status(self.query_one(StatusBar))

    def explain(self, error: WorkstationError) -> str:
        """The error as one sentence for the operator; refusals are also audited."""
        if isinstance(error, PermissionDenied):
            self.bench.refused(error)
        return error.message(self.workstation.language)
