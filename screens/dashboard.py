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
from textual.widgets import DataTable, Sparkline, Static
from textual.worker import get_current_worker

from screens.base import WorkScreen, in_language
from screens.dialogs.officer_picker import OfficerPicker
from screens.widgets.cells import NONE, count_cell, day_cell, due_cell, late_cell, refill
from workstation.errors import PermissionDenied, WorkstationError

if TYPE_CHECKING:
    from models import Task
    from workstation.services.supervision import OverdueCases, Overview

DAYS = 30
"""The throughput window, in calendar days."""
REFRESH_SECONDS = 30.0
"""How often the figures refresh by themselves."""
DEPARTMENT_WIDTH = 22
"""Cells for "code name" in the department table (long names end in an ellipsis)."""


@dataclass(frozen=True)
class Figures:
    """Everything one refresh of the dashboard shows, read in one worker run."""

    overview: Overview
    overdue: OverdueCases
    matters: dict[str, str]
    """Matter code → name in the operator's language."""
    departments: dict[str, str]
    """Department code → name in the operator's language."""
    now: datetime


class DashboardScreen(WorkScreen):
    """The supervisor's view of every queue of the office; reads, reassigns, releases."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "ui.dashboard.refresh", id="dashboard-refresh"),
        Binding("a", "reassign", "ui.dashboard.reassign", id="dashboard-reassign"),
        Binding("u", "release", "ui.dashboard.release", id="dashboard-release"),
    ]
    """Refresh now; reassign or release the task selected in the oldest-tasks list."""
    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (100, "-medium"),
        (150, "-wide"),
    ]
    """From 150 columns the two lists stand side by side; below 100 everything tightens."""

    @dataclass
    class Read(Message):
        """A worker's read: the figures, or ``denied``, or an ``error`` sentence."""

        figures: Figures | None
        denied: bool = False
        error: str = ""

    @dataclass
    class Acted(Message):
        """A reassign or release finished: ``text`` to show, or ``error`` to explain."""

        text: str = ""
        error: WorkstationError | None = None

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
            yield self._table(
                "dash-departments",
                "department",
                "backlog",
                "overdue",
                "due_soon",
                "waiting_supplement",
                "decided",
                "average",
                first_width=DEPARTMENT_WIDTH,
            )
            yield Static("", id="dash-throughput-label")
            yield Sparkline([], id="dash-throughput")
            with Horizontal(id="dash-lists"):
                with Vertical(id="dash-overdue-box"):
                    yield Static("", id="dash-overdue-title", classes="dash-heading")
                    yield self._table(
                        "dash-overdue", "tracking_no", "matter", "promised", "late_days"
                    )
                with Vertical(id="dash-oldest-box"):
                    yield Static(
                        t("ui.dashboard.oldest_title"),
                        id="dash-oldest-title",
                        classes="dash-heading",
                    )
                    yield self._table(
                        "dash-oldest", "task", "department", "state", "opened", "due", "claimed"
                    )
        yield Static("", id="dash-message")

    def _table(
        self, id: str, *columns: str, first_width: int | None = None
    ) -> DataTable[str | Text]:
        """A row-cursor table whose column labels are ``ui.dashboard.<column>`` messages."""
        table: DataTable[str | Text] = DataTable(id=id, cursor_type="row", zebra_stripes=True)
        first, *rest = columns
        table.add_column(self.t(f"ui.dashboard.{first}"), width=first_width)
        table.add_columns(*(self.t(f"ui.dashboard.{column}") for column in rest))
        return table

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Once the figures are refused, the dashboard's own keys leave the footer."""
        return not (self.denied and action in ("refresh", "reassign", "release"))

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
                {
                    code: in_language(names, language, code)
                    for code, names in bench.department_names().items()
                },
                bench.now(),
            )
        except PermissionDenied:
            message = self.Read(None, denied=True)
        except WorkstationError as error:
            message = self.Read(None, error=error.message(language))
        else:
            message = self.Read(figures)
        # A newer read replaced this one while it ran: its figures would be stale.
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @on(Read)
    def _read(self, event: Read) -> None:
        if event.figures is not None:
            self.figures = event.figures
            self._show(event.figures)
        elif event.denied:
            # Landing here is the app's choice, not the operator's attempt: nothing is audited.
            self.denied = True
            role = f"role.{self.bench.me.role}"
            self.query_one("#dash-notice", Static).update(self.t("ui.dashboard.denied", role=role))
            self.add_class("-denied")
            self.refresh_bindings()
        else:
            self.message.update(Text(event.error, style="bold red"))

    def _show(self, figures: Figures) -> None:
        view, now = figures.overview, figures.now
        self.query_one("#dash-title", Static).update(
            self.t("ui.dashboard.title", time=f"{now:%Y-%m-%d %H:%M}")
        )
        with self.app.batch_update():
            refill(
                self.departments_table,
                [
                    (
                        load.department,
                        [
                            Text(
                                self._department(load.department, figures),
                                no_wrap=True,
                                overflow="ellipsis",
                            ),
                            count_cell(load.backlog),
                            count_cell(load.overdue, "bold red"),
                            count_cell(load.due_soon, "yellow"),
                            count_cell(load.waiting_supplement),
                            count_cell(load.decided),
                            NONE if load.average_days is None else f"{load.average_days:.1f}",
                        ],
                    )
                    for load in view.departments
                ],
            )
            self._show_throughput(view.throughput)
            refill(
                self.overdue_table,
                [
                    (
                        application.tracking_no,
                        [
                            application.tracking_no,
                            figures.matters.get(application.matter_code, application.matter_code),
                            day_cell(application.due_date, now),
                            late_cell(application.due_date, now.date()),
                        ],
                    )
                    for application in figures.overdue.applications
                ],
            )
            overdue = figures.overdue
            shown = len(overdue.applications)
            self.query_one("#dash-overdue-title", Static).update(
                self.t("ui.dashboard.overdue_title", count=overdue.total)
                if shown == overdue.total
                else self.t("ui.dashboard.overdue_title_part", count=overdue.total, shown=shown)
            )
            refill(
                self.oldest_table,
                [
                    (
                        task.id,
                        [
                            task.id,
                            task.department_code,
                            self.t(f"state.{task.state}"),
                            day_cell(task.opened_at, now),
                            due_cell(task, now.date()),
                            self._holder(task, now),
                        ],
                    )
                    for task in view.oldest
                ],
            )

    def _department(self, code: str, figures: Figures) -> str:
        name = figures.departments.get(code)
        return f"{code} {name}" if name else code

    def _show_throughput(self, throughput: list[tuple[date, int]]) -> None:
        counts = [n for _, n in throughput]
        total = sum(counts)
        average = f"{total / len(counts):.1f}" if counts else "0"
        first = f"{throughput[0][0]:%m-%d}" if throughput else NONE
        last = f"{throughput[-1][0]:%m-%d}" if throughput else NONE
        params = {"days": len(counts), "total": total, "average": average}
        label = self.t("ui.dashboard.throughput", first=first, last=last, **params)
        self.throughput_label.update(label)
        self.query_one("#dash-throughput", Sparkline).data = [float(n) for n in counts]

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
        if self.figures is None or table.row_count == 0 or not table.has_focus:
            # Never act on a row the operator has not deliberately chosen.
            table.focus()
            self.message.update(self.t("ui.dashboard.no_task"))
            self.app.bell()
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        task = next((x for x in self.figures.overview.oldest if x.id == key), None)
        self.message.update("" if task else self.t("ui.dashboard.no_task"))
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
                text = self.t(
                    "ui.dashboard.reassigned", task=task_id, username=username, name=label
                )
            else:
                bench.release(task_id)
                text = self.t("ui.dashboard.released", task=task_id, department=label)
        except WorkstationError as error:
            self.post_message(self.Acted(error=error))
        else:
            self.post_message(self.Acted(text))

    @on(Acted)
    def _acted(self, event: Acted) -> None:
        self.refresh_header()
        if event.error is not None:
            self.message.update(Text(self.explain(event.error), style="bold red"))
            self.app.bell()
        else:
            self.message.update(Text(event.text, style="green"))
        self.action_refresh()
