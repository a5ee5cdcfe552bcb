"""The sync screen: the link to the level above, what waits, and bundles for a USB stick.

Everything slow (a round of sync, writing or checking a bundle) runs in a thread worker; the
screen shows the outcome in one line in the operator's language.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from screens.base import WorkScreen
from screens.dialogs.path import PathDialog
from workstation.errors import WorkstationError


class SyncScreen(WorkScreen):
    """同步: state of the link, events waiting, sent and held; bundle export and import."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sync_now", "ui.sync.now", id="sync-now"),
        Binding("e", "export", "ui.sync.export", id="sync-export"),
        Binding("i", "import_bundle", "ui.sync.import", id="sync-import"),
        Binding("t", "take_receipt", "ui.sync.receipt", id="sync-receipt"),
    ]
    """Sync now; write a bundle; import one from below; take the receipt from above."""
    DEFAULT_CSS = """
    SyncScreen {
        #sync-body { padding: 0 1; }
        #sync-state { text-style: bold; margin-bottom: 1; }
        #sync-figures { margin-bottom: 1; }
        #sync-below { height: auto; max-height: 12; }
        #sync-message { margin-top: 1; color: $text-muted; }
        #sync-message.-error { color: $error; }
    }
    """

    def body(self) -> ComposeResult:
        """State line, figures, the offices below, the last outcome."""
        with Vertical(id="sync-body"):
            yield Static("", id="sync-state")
            yield Static("", id="sync-figures")
            yield DataTable(id="sync-below", cursor_type="row", zebra_stripes=True)
            yield Static("", id="sync-message")

    def on_mount(self) -> None:
        """Columns of the offices below, then the figures."""
        super().on_mount()
        table = self.query_one("#sync-below", DataTable)
        table.add_columns(self.t("ui.sync.code"), self.t("ui.sync.office"), self.t("ui.sync.held"))
        self.show()

    def on_screen_resume(self) -> None:
        """Figures are read again whenever the screen comes back."""
        super().on_screen_resume()
        self.show()

    def show(self) -> None:
        """Read the figures and the link's state again."""
        figures = self.bench.sync_overview()
        state = self.workstation.syncer.state
        if not figures.upstream:
            line = self.t("ui.sync.standalone")
        elif not self.workstation.syncer.enabled:
            line = self.t("ui.sync.by_bundle", upstream=figures.upstream)
        else:
            key = "ui.sync.connecting" if state.online is None else (
                "ui.sync.online" if state.online else "ui.sync.offline"
            )  # fmt: skip
            line = self.t(key, upstream=figures.upstream)
        if state.last_error:
            line += " · " + state.last_error
        self.query_one("#sync-state", Static).update(line)
        last = figures.last_receipt
        self.query_one("#sync-figures", Static).update(
            self.t(
                "ui.sync.figures",
                waiting=figures.waiting,
                sent=figures.sent,
                last=f"{last.astimezone():%m-%d %H:%M}" if last else self.t("ui.status.never"),
                held=figures.held,
                forks=figures.forks,
            )
        )
        table = self.query_one("#sync-below", DataTable)
        table.clear()
        for code, name, count in figures.below:
            table.add_row(code, name, str(count))
        table.display = bool(figures.below)

    def say(self, message: str, *, error: bool = False) -> None:
        """One line of outcome under the figures."""
        line = self.query_one("#sync-message", Static)
        line.update(message)
        line.set_class(error, "-error")

    def action_sync_now(self) -> None:
        """A round of push and pull now, in the background."""
        if not self.workstation.syncer.enabled:
            self.say(self.t("error.sync.no_upstream"), error=True)
            return
        self.say(self.t("ui.sync.syncing"))
        self.workstation.syncer.round()

    def action_export(self) -> None:
        """Write what the level above has not receipted to a bundle file."""
        office = self.bench.office()
        stamp = f"{self.bench.now():%Y%m%d-%H%M%S}"
        default = self.bench.settings.documents_dir / "bundles" / f"{office.code}-{stamp}.bundle"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._in_background(lambda: self._export(path))

        self.app.push_screen(PathDialog(self.t("ui.sync.export"), default), chosen)

    def _export(self, path: Path) -> str:
        from sync import bundle

        path.parent.mkdir(parents=True, exist_ok=True)
        count = bundle.export_bundle(self.bench.engine, self.bench.settings.key_dir, path)
        if not count:
            return self.t("cli.bundle_nothing")
        return self.t("cli.bundle_written", path=str(path), events=count)

    def action_import_bundle(self) -> None:
        """Check and apply a bundle from below (its receipt is written beside it) or above."""

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._in_background(lambda: self._import(path))

        self.app.push_screen(PathDialog(self.t("ui.sync.import")), chosen)

    def _import(self, path: Path) -> str:
        from sync import bundle

        done = bundle.import_bundle(
            self.bench.engine, self.bench.settings.key_dir, path, self.bench.now()
        )
        if done.receipt is None:
            return self.t("cli.bundle_pulled", stored=done.stored, skipped=done.skipped)
        return self.t(
            "cli.bundle_imported",
            stored=done.stored,
            skipped=done.skipped,
            receipt=str(done.receipt),
        )

    def action_take_receipt(self) -> None:
        """Take the level above's receipt for a bundle this office sent."""

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._in_background(lambda: self._receipt(path))

        self.app.push_screen(PathDialog(self.t("ui.sync.receipt")), chosen)

    def _receipt(self, path: Path) -> str:
        from sync import bundle

        covered, office = bundle.take_bundle_receipt(self.bench.engine, path, self.bench.now())
        return self.t("cli.bundle_receipted", events=covered, office=office)

    def _in_background(self, work: Callable[[], str]) -> None:
        def run() -> None:
            try:
                message, failed = work(), False
            except WorkstationError as error:
                message, failed = error.message(self.workstation.language), True
            self.app.call_from_thread(self._done, message, failed)

        self.say(self.t("ui.sync.working"))
        self.run_worker(run, thread=True, exclusive=True, group="bundle")

    def _done(self, message: str, failed: bool) -> None:
        self.say(message, error=failed)
        self.show()
        self.refresh_header()
