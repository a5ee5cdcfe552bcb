"""督查: backlog, overdue and due-soon per department, throughput, overdue cases, oldest tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, OptionList, Sparkline, Static
from textual.widgets.option_list import Option

from screens.base import WorkScreen
from screens.keys import localise_bindings
from workstation.errors import PermissionDenied, WorkstationError
from workstation.i18n import translate

if TYPE_CHECKING:
    from models import Application, Task
    from workstation.services.supervision import Overview
    from workstation.workbench import Workbench

DAYS = 30
"""The throughput window, in calendar days."""
REFRESH_SECONDS = 30.0
"""How often the figures refresh by themselves."""
NONE = "—"
"""What an empty cell shows."""


def department_names(bench: Workbench, language: str) -> dict[str, str]:
    """Department code → name in ``language``, once the workbench offers ``department_names``."""
    names = getattr(bench, "department_names", None)
    if not callable(names):
        return {}
    found: dict[str, tuple[str, str]] = names()
    return {code: zh if language.startswith("zh") else en for code, (zh, en) in found.items()}


@dataclass(frozen=True)
class Figures:
    """Everything one refresh of the dashboard shows, read in one worker run."""

    overview: Overview
    overdue: list[Application]
    matters: dict[str, str]
    """Matter code → name in the operator's language."""
    departments: dict[str, str]
    """Department code → name (empty until the workbench can say)."""
    now: datetime


class OfficerPicker(ModalScreen[str | None]):
    """Pick the officer of a department to hand a task to; Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "ui.dashboard.pick.cancel", id="pick-cancel"),
    ]
    """Enter picks (the option list's own key), Esc goes back."""
    DEFAULT_CSS = """
    OfficerPicker {
        align: center middle;
    }
    OfficerPicker > Vertical {
        width: 60;
        max-width: 90%;
        height: auto;
        max-height: 80%;
        padding: 1 2;
        border: round $primary;
        background: $surface;
    }
    OfficerPicker #pick-list {
        height: auto;
        max-height: 12;
    }
    OfficerPicker #pick-hint {
        color: $text-muted;
        margin-top: 1;
    }
    """

    def __init__(self, task: Task, officers: list[tuple[str, str]], language: str) -> None:
        super().__init__()
        self.task_id = task.id
        """The task being handed over."""
        self.holder = task.claimed_by
        self.officers = sorted(officers)
        self.language = language
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


class DashboardScreen(WorkScreen):
    """The supervisor's view of every queue of the office; reads, reassigns, releases."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "ui.dashboard.refresh", id="dashboard-refresh"),
        Binding("a", "reassign", "ui.dashboard.reassign", id="dashboard-reassign"),
        Binding("u", "release", "ui.dashboard.release", id="dashboard-release"),
    ]
    """Refresh now; reassign or release the task selected in the oldest-tasks list."""
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [
        (0, "-narrow"),
        (100, "-wide"),
    ]
    """Below 100 columns the two lists stack instead of standing side by side."""

    class Loaded(Message):
        """A worker read the figures."""

        def __init__(self, figures: Figures) -> None:
            super().__init__()
            self.figures = figures

    class Denied(Message):
        """The operator's role may not see supervision figures."""

    class Failed(Message):
        """Reading the figures failed; ``text`` says why, in the operator's language."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Acted(Message):
        """A reassign or release finished: ``text`` to show, or ``error`` to explain."""

        def __init__(self, text: str = "", error: WorkstationError | None = None) -> None:
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.figures: Figures | None = None
        """What the screen shows now (None before the first read or when refused)."""
        self.denied = False
        """The operator's role may not see the figures; no more reads are tried."""

    # ── widgets ──────────────────────────────────────────────────────────────────────────
    def body(self) -> ComposeResult:
        """Notice, department table, throughput chart, overdue cases and oldest tasks."""
        t = self.t
        yield Static(t("ui.dashboard.denied_title"), id="dash-notice")
        with Vertical(id="dash-figures"):
            yield Static(t("ui.dashboard.loading"), id="dash-title")
            departments: DataTable[str | Text] = DataTable(
                id="dash-departments", cursor_type="row", zebra_stripes=True
            )
            departments.add_columns(
                t("ui.dashboard.department"),
                t("ui.dashboard.backlog"),
                t("ui.dashboard.overdue"),
                t("ui.dashboard.due_soon"),
                t("ui.dashboard.waiting_supplement"),
                t("ui.dashboard.decided"),
                t("ui.dashboard.average"),
            )
            yield departments
            yield Static("", id="dash-throughput-label")
            yield Sparkline([], id="dash-throughput")
            with Horizontal(id="dash-lists"):
                with Vertical(id="dash-overdue-box"):
                    yield Static("", id="dash-overdue-title", classes="dash-heading")
                    overdue: DataTable[str | Text] = DataTable(id="dash-overdue", cursor_type="row")
                    overdue.add_columns(
                        t("ui.dashboard.tracking_no"),
                        t("ui.dashboard.matter"),
                        t("ui.dashboard.promised"),
                        t("ui.dashboard.late_days"),
                    )
                    yield overdue
                with Vertical(id="dash-oldest-box"):
                    yield Static(
                        t("ui.dashboard.oldest_title"), id="dash-oldest-title", classes="dash-heading"
                    )
                    oldest: DataTable[str | Text] = DataTable(id="dash-oldest", cursor_type="row")
                    oldest.add_columns(
                        t("ui.dashboard.task"),
                        t("ui.dashboard.department"),
                        t("ui.dashboard.state"),
                        t("ui.dashboard.opened"),
                        t("ui.dashboard.due"),
                        t("ui.dashboard.claimed"),
                    )
                    yield oldest
        yield Static("", id="dash-message")

    @property
    def departments_table(self) -> DataTable[str | Text]:
        """Per-department figures, one row per department code."""
        return self.query_one("#dash-departments", DataTable)

    @property
    def overdue_table(self) -> DataTable[str | Text]:
        """Overdue applications, keyed by tracking number."""
        return self.query_one("#dash-overdue", DataTable)

    @property
    def oldest_table(self) -> DataTable[str | Text]:
        """The oldest open tasks, keyed by task id."""
        return self.query_one("#dash-oldest", DataTable)

    @property
    def throughput_label(self) -> Static:
        """The line above the chart, with the total."""
        return self.query_one("#dash-throughput-label", Static)

    @property
    def message(self) -> Static:
        """The line under everything: results of actions, errors."""
        return self.query_one("#dash-message", Static)

    # ── reading ──────────────────────────────────────────────────────────────────────────
    def on_mount(self) -> None:
        """Status bar, first read, then a read every ``REFRESH_SECONDS``."""
        super().on_mount()
        self.departments_table.focus()
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self._tick)

    def on_screen_resume(self) -> None:
        """Coming back to the dashboard shows fresh figures."""
        if self.figures is not None:
            self.action_refresh()

    def _tick(self) -> None:
        if self.is_current:
            self.action_refresh()

    def action_refresh(self) -> None:
        """Read the figures now (in a thread; the result comes back as a message)."""
        if not self.denied:
            self._load()

    @work(thread=True, exclusive=True, group="dashboard")
    def _load(self) -> None:
        bench, language = self.bench, self.workstation.language
        try:
            figures = Figures(
                bench.overview(days=DAYS),
                bench.overdue_applications(),
                {m.code: m.name(language) for m in bench.matters()},
                department_names(bench, language),
                bench.now(),
            )
        except PermissionDenied:
            self.post_message(self.Denied())
        except WorkstationError as error:
            self.post_message(self.Failed(error.message(language)))
        else:
            self.post_message(self.Loaded(figures))

    @on(Denied)
    def _denied(self) -> None:
        # Landing here is the app's choice, not the operator's attempt: no refusal is audited.
        self.denied = True
        self.figures = None
        notice = self.query_one("#dash-notice", Static)
        notice.update(self.t("ui.dashboard.denied", role=f"role.{self.bench.me.role}"))
        self.add_class("-denied")

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.message.update(Text(event.text, style="bold red"))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.figures = event.figures
        self._show(event.figures)

    def _show(self, figures: Figures) -> None:
        t, view = self.t, figures.overview
        today = figures.now.date()
        self.query_one("#dash-title", Static).update(
            t("ui.dashboard.title", time=f"{figures.now:%Y-%m-%d %H:%M}")
        )
        table = self.departments_table
        with self.app.batch_update():
            row = table.cursor_row
            table.clear()
            for load in view.departments:
                table.add_row(
                    self._department(load.department, figures),
                    _count(load.backlog),
                    _count(load.overdue, "bold red"),
                    _count(load.due_soon, "yellow"),
                    _count(load.waiting_supplement),
                    _count(load.decided),
                    Text(NONE if load.average_days is None else f"{load.average_days:.1f}"),
                    key=load.department,
                )
            table.move_cursor(row=row)
            self._show_throughput(view.throughput)
            self._show_overdue(figures, today)
            self._show_oldest(figures)

    def _department(self, code: str, figures: Figures) -> str:
        name = figures.departments.get(code)
        return f"{code} {name}" if name else code

    def _show_throughput(self, throughput: list[tuple[date, int]]) -> None:
        counts = [n for _, n in throughput]
        total = sum(counts)
        average = f"{total / len(counts):.1f}" if counts else "0"
        first = f"{throughput[0][0]:%m-%d}" if throughput else NONE
        last = f"{throughput[-1][0]:%m-%d}" if throughput else NONE
        self.throughput_label.update(
            self.t(
                "ui.dashboard.throughput",
                days=len(counts),
                total=total,
                average=average,
                first=first,
                last=last,
            )
        )
        self.query_one("#dash-throughput", Sparkline).data = [float(n) for n in counts]

    def _show_overdue(self, figures: Figures, today: date) -> None:
        table = self.overdue_table
        row = table.cursor_row
        table.clear()
        for application in figures.overdue:
            due = application.due_date
            table.add_row(
                application.tracking_no,
                figures.matters.get(application.matter_code, application.matter_code),
                f"{due:%m-%d}" if due else NONE,
                Text(str((today - due).days) if due else NONE, style="bold red"),
                key=application.tracking_no,
            )
        table.move_cursor(row=row)
        self.query_one("#dash-overdue-title", Static).update(
            self.t("ui.dashboard.overdue_title", count=len(figures.overdue))
        )

    def _show_oldest(self, figures: Figures) -> None:
        table = self.oldest_table
        row = table.cursor_row
        table.clear()
        for task in figures.overview.oldest:
            table.add_row(
                task.id,
                self._department(task.department_code, figures),
                self.t(f"state.{task.state}"),
                f"{task.opened_at.astimezone(figures.now.tzinfo):%m-%d}" if task.opened_at else NONE,
                _due(task, figures.now.date()),
                self._holder(task, figures.now),
                key=task.id,
            )
        table.move_cursor(row=row)

    def _holder(self, task: Task, now: datetime) -> str:
        if not task.claimed_by:
            return NONE
        if task.claim_expires is not None and task.claim_expires <= now:
            return self.t("ui.dashboard.claim_expired", who=task.claimed_by)
        return task.claimed_by

    # ── reassign and release ─────────────────────────────────────────────────────────────
    def _selected_task(self) -> Task | None:
        """The task under the cursor of the oldest-tasks list, or None (with a hint)."""
        table = self.oldest_table
        if self.figures is None or table.row_count == 0:
            self.message.update(self.t("ui.dashboard.no_task"))
            self.app.bell()
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        task = next((x for x in self.figures.overview.oldest if x.id == key), None)
        if task is None:
            self.message.update(self.t("ui.dashboard.no_task"))
        return task

    def action_reassign(self) -> None:
        """Pick another officer of the selected task's department and hand the task over."""
        task = self._selected_task()
        if task is None:
            return
        officers = self.bench.officers(task.department_code)
        if not officers:
            self.message.update(self.t("ui.dashboard.no_officers", department=task.department_code))
            self.app.bell()
            return
        names = dict(officers)

        def chosen(username: str | None) -> None:
            self.oldest_table.focus()
            if username:
                self.message.update(self.t("ui.dashboard.working"))
                self._act("reassign", task.id, username, names.get(username, username))

        picker = OfficerPicker(task, officers, self.workstation.language)
        self.app.push_screen(picker, chosen)

    def action_release(self) -> None:
        """Give the selected task's claim back to its department."""
        task = self._selected_task()
        if task is not None:
            self.message.update(self.t("ui.dashboard.working"))
            self._act("release", task.id, "", task.department_code)

    @work(thread=True, group="dashboard-action")
    def _act(self, kind: str, task_id: str, username: str, label: str) -> None:
        bench = self.bench
        try:
            if kind == "reassign":
                bench.reassign(task_id, username)
                text = self.t("ui.dashboard.reassigned", task=task_id, username=username, name=label)
            else:
                bench.release(task_id)
                text = self.t("ui.dashboard.released", task=task_id, department=label)
        except WorkstationError as error:
            self.post_message(self.Acted(error=error))
        else:
            self.post_message(self.Acted(text))

    @on(Acted)
    def _acted(self, event: Acted) -> None:
        if event.error is not None:
            self.message.update(Text(self.explain(event.error), style="bold red"))
            self.app.bell()
        else:
            self.message.update(Text(event.text, style="green"))
        self.action_refresh()


def _count(value: int, style: str = "") -> Text:
    """A right-aligned figure, coloured only when it is not zero."""
    return Text(str(value), style=style if value else "", justify="right")


def _due(task: Task, today: date) -> Text:
    """The task's due date, red when it has passed (paused tasks are not late)."""
    if task.due_date is None:
        return Text(NONE)
    late = task.state == "open" and task.due_date < today
    return Text(f"{task.due_date:%m-%d}", style="bold red" if late else "")
