"""The Textual application: a composition root that wires screens to the workbench."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from time import monotonic
from typing import Any, ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.screen import Screen
from textual.widgets import Input

from screens.case import CaseScreen
from screens.dashboard import DashboardScreen
from screens.intake import IntakeScreen
from screens.keys import localise_bindings
from screens.login import LoginScreen
from screens.queue import QueueScreen
from screens.sync import SyncScreen
from screens.syncer import Syncer
from screens.widgets.status import StatusBar
from workstation.i18n import translate
from workstation.workbench import Workbench

HOMES = {
    "clerk": "intake",
    "officer": "queue",
    "supervisor": "dashboard",
    "admin": "dashboard",
    "auditor": "dashboard",
}
"""Where each role lands after login."""
ALLOWED = {
    "clerk": ("intake", "case", "sync"),
    "officer": ("queue", "case"),
    "supervisor": ("dashboard", "queue", "case", "sync"),
    "admin": ("dashboard", "sync"),
    "auditor": ("dashboard",),
}
"""The screens each role may switch between."""
SCREENS: dict[str, type[Screen[None]]] = {
    "intake": IntakeScreen,
    "queue": QueueScreen,
    "case": CaseScreen,
    "dashboard": DashboardScreen,
    "sync": SyncScreen,
}
"""The work screens (one module each, its .tcss beside it)."""
STATUS_EVERY = 10.0
"""Seconds between two readings of the header's connection state."""


class WorkstationApp(App[None]):
    """一窗通 — one window for intake, queues, cases and supervision."""

    TITLE = "一窗通 One-Window Workstation"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "nav.quit", id="quit", priority=True),
        # Declared here (not left to Textual) so that the footer names it in the language.
        Binding(
            "ctrl+p", "command_palette", "nav.palette", id="palette", show=False, priority=True
        ),
    ]

    def __init__(self, bench: Workbench) -> None:
        super().__init__()
        self.bench = bench
        self.language = bench.settings.language
        self._screens: dict[str, Screen[None]] = {}
        self.syncer = Syncer(self, bench, self._status_tick)
        """Pushes to the level above in the background, when one is configured."""
        self._touched = monotonic()
        """When the operator last pressed a key or clicked."""
        localise_bindings(self, self.language)

    def t(self, key: str, **params: Any) -> str:
        """A UI string in the operator's language."""
        return translate(key, self.language, **params)

    def on_mount(self) -> None:
        """Start at the login screen; keep the header's connection state current."""
        self.push_screen(LoginScreen())
        self.set_interval(STATUS_EVERY, self._status_tick)
        self.syncer.start()
        idle = self.bench.settings.idle_lock_minutes * 60
        if idle:
            self.set_interval(min(idle / 4, 15.0), self._lock_if_idle)

    async def on_event(self, event: events.Event) -> None:
        """Every key press and click counts as someone at the keyboard."""
        if isinstance(event, events.Key | events.MouseDown):
            self._touched = monotonic()
        await super().on_event(event)

    def _lock_if_idle(self) -> None:
        idle = self.bench.settings.idle_lock_minutes * 60
        if self.bench.actor is not None and monotonic() - self._touched >= idle:
            self.action_logout(self.t("ui.login.idle_locked"))

    def _status_tick(self) -> None:
        for bar in self.screen.query(StatusBar):
            self.refresh_status(bar)
        if isinstance(self.screen, SyncScreen):
            self.screen.show()

    def apply_preferences(self, screen: Screen[Any]) -> None:
        """Apply the operator's terminal preferences to a screen being shown."""
        if not self.bench.settings.cursor_blink:
            for field in screen.query(Input):
                field.cursor_blink = False

    def refresh_status(self, bar: StatusBar) -> None:
        """Office, operator and connection in the status bar of a screen."""
        office = self.bench.office()
        bar.office = f"{office.name}（{office.code}）"
        actor = self.bench.actor
        if actor is not None:
            bar.operator = f"{actor.name} · {self.t('role.' + actor.role)}"
        sync = self.syncer.state
        if not office.upstream:
            state = "standalone"
        elif sync.online is None:
            state = "connecting"
        else:
            state = "online" if sync.online else "offline"
        last = f"{sync.last_sync:%H:%M}" if sync.last_sync else self.t("ui.status.never")
        bar.connection = self.t(f"ui.status.{state}", waiting=office.waiting, last=last)
        bar.tooltip = sync.last_error or None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists every key the screen offers now, under its own name."""
        seen: set[str] = {"command_palette"}
        for active in screen.active_bindings.values():
            binding = active.binding
            # Ours carry an id and a translated name; Textual's own (focus next, copy) do not.
            if binding.id is None or not active.enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            shown = self.get_key_display(binding)
            run = partial(self.run_action, binding.action, active.node)
            yield SystemCommand(binding.description, self.t("ui.palette.key", keys=shown), run)
        help_shown = bool(screen.query("HelpPanel"))
        yield SystemCommand(
            self.t("ui.palette.hide_keys" if help_shown else "ui.palette.show_keys"),
            self.t("ui.palette.keys_help"),
            self.action_hide_help_panel if help_shown else self.action_show_help_panel,
        )

    def action_command_palette(self) -> None:
        """The command palette, with its prompt in the operator's language."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            placeholder = self.t("ui.palette.placeholder")
            self.push_screen(CommandPalette(id="--command-palette", placeholder=placeholder))

    def home(self) -> None:
        """Show the logged-in operator's home screen."""
        actor = self.bench.me
        # The idle time runs from the moment the operator is in: a slow login is not idleness.
        self._touched = monotonic()
        self.action_go(HOMES[actor.role])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show (and allow) only the screen keys the operator's role may use."""
        if action == "go":
            actor = self.bench.actor
            return actor is not None and parameters[0] in ALLOWED[actor.role]
        return True

    def action_go(self, name: str) -> None:
        """Switch to screen ``name`` if the operator's role may use it."""
        actor = self.bench.actor
        if actor is None or name not in ALLOWED[actor.role]:
            self.bell()
            return
        screen = self._screens.get(name)
        if screen is None:
            screen = self._screens[name] = SCREENS[name]()
        self.switch_screen(screen) if len(self.screen_stack) > 1 else self.push_screen(screen)

    def action_logout(self, note: str = "") -> None:
        """Lock the workstation: forget the operator and go back to the login screen."""
        self.bench.logout()
        self._screens.clear()
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(LoginScreen(note))
