"""部门队列: one page of a department's open tasks, with lights, filters, search and decisions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Static

from screens.base import WorkScreen
from screens.dialogs.decision import DecisionDialog, Outcome, light_text
from screens.printing import file_documents
from screens.routing import Routing, read_routing
from screens.widgets.task_table import TaskTable
from workstation.errors import WorkstationError

if TYPE_CHECKING:
    from models import Task
    from workstation.catalog.schema import Matter
    from workstation.services.cases import CaseView
    from workstation.services.supervision import QueueKey, QueuePage
    from workstation.workbench import Workbench

VIEWS = ("all", "mine", "unclaimed", "overdue", "supplement")
"""The queue's filters, in the order of their keys 1–5 (the service checks them again)."""
PAGE_SIZE = 50
"""Rows in the table at once: the queue is read a page at a time, never whole."""
COLUMNS = ("light", "due", "tracking", "state", "claimed", "task")
"""The table's columns; each label is the message ``ui.queue.col_<column>``."""


class QueueScreen(WorkScreen):
    """A department officer's queue (a supervisor may look at any department's)."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS = [
        Binding("enter", "open_task", "ui.queue.open", id="queue-open"),
        Binding("c", "claim", "ui.queue.claim", id="queue-claim"),
        Binding("f", "cycle_view", "ui.queue.filter", id="queue-filter"),
        *(
            Binding(
                str(n),
                f"view('{view}')",
                f"ui.queue.view.{view}",
                id=f"queue-view-{view}",
                show=False,
            )
            for n, view in enumerate(VIEWS, start=1)
        ),
        Binding("slash", "search", "ui.queue.search", id="queue-search"),
        Binding("d", "switch_department", "ui.queue.switch_department", id="queue-department"),
        Binding("pagedown", "page(1)", "ui.queue.next_page", id="queue-next", priority=True),
        # PageUp stays out of the footer (PageDown implies it), so every other key fits.
        Binding(
            "pageup",
            "page(-1)",
            "ui.queue.previous_page",
            id="queue-previous",
            priority=True,
            show=False,
        ),
        Binding("n", "page(1)", "ui.queue.next_page", id="queue-next-n", show=False),
        Binding("p", "page(-1)", "ui.queue.previous_page", id="queue-previous-p", show=False),
        Binding("r", "reload", "ui.queue.refresh", id="queue-refresh", show=False),
        Binding("escape", "clear_search", "ui.queue.clear_search", id="queue-clear", show=False),
    ]
    """Letters act on the table; PageUp/PageDown turn pages wherever the focus is."""

    page_size: int = PAGE_SIZE
    """Rows per page."""

    def __init__(self) -> None:
        super().__init__()
        self.departments: list[str] = []
        """The departments this operator may look at; ``department`` is one of them."""
        self.department = ""
        self.view = "all"
        self.search = ""
        self.anchors: list[QueueKey | None] = [None]
        """Where each page read so far starts (after this task): a stack, the last one shown."""
        self.total: int | None = None
        """How many tasks the view holds; None until counted (the count comes after the page)."""
        self.routing: Routing | None = None
        self.rows: dict[str, Task] = {}
        """The tasks of the page shown, by task id."""
        self.lights: dict[str, str] = {}
        self.page: QueuePage | None = None
        self._generation = 0
        self._message = ""

    # ── layout ─────────────────────────────────────────────────────────────────────────
    def body(self) -> ComposeResult:
        """Department and count, filters and search, a message line, the page of tasks."""
        with Horizontal(id="queue-head"):
            yield Static("", id="queue-department")
            yield Static("", id="queue-range")
        with Horizontal(id="queue-tools"):
            yield Static("", id="queue-views")
            yield Input(id="queue-search", placeholder=self.t("ui.queue.search_hint"))
        yield Static("", id="queue-message")
        yield TaskTable(id="queue-table")

    @property
    def table(self) -> TaskTable:
        """The page of tasks."""
        return self.query_one("#queue-table", TaskTable)

    @property
    def search_box(self) -> Input:
        """The tracking-number prefix field."""
        return self.query_one("#queue-search", Input)

    def on_mount(self) -> None:
        """Pick the first department of the operator and read its first page."""
        super().on_mount()
        # A few quick reads of the published matters: task names, and every department a
        # supervisor may look at (an officer sees their own departments only).
        self.routing = read_routing(self.bench)
        me = self.bench.me
        self.departments = list(me.departments)
        if me.role == "supervisor":
            self.departments = list(self.routing.departments)
        self.department = self.departments[0] if self.departments else ""
        self._draw_head()
        self.table.focus()

    def on_screen_resume(self) -> None:
        """Arriving at the queue, or back from a task, shows it as it is now."""
        super().on_screen_resume()
        self.load()

    def _draw_head(self) -> None:
        name = self.department_name(self.department) if self.department else "—"
        self.query_one("#queue-department", Static).update(
            self.t("ui.queue.department", department=name)
        )
        views = Text()
        for number, view in enumerate(VIEWS, start=1):
            style = "reverse bold" if view == self.view else "dim"
            views.append(f"{number}", style="bold")
            views.append(f" {self.t(f'ui.queue.view.{view}')} ", style=style)
            views.append(" ")
        self.query_one("#queue-views", Static).update(views)
        if self.rows:
            first, last = self.first_row + 1, self.first_row + len(self.rows)
            total = "…" if self.total is None else self.total
            span = self.t("ui.queue.range", first=first, last=last, total=total)
        else:
            span = self.t("ui.queue.range_empty")
        self.query_one("#queue-range", Static).update(span)

    def say(self, message: str | Text, *, error: bool = False) -> None:
        """One line above the table: what just happened, or why it did not."""
        self._message = str(message)
        line = self.query_one("#queue-message", Static)
        line.set_class(error, "-error")
        line.update(message)

    # ── reading a page ─────────────────────────────────────────────────────────────────
    @property
    def first_row(self) -> int:
        """The position in the view of the page's first task, counting from 0."""
        return (len(self.anchors) - 1) * self.page_size

    def restart(self) -> None:
        """Forget the pages read: the view, search or department changed."""
        self.anchors, self.total = [None], None

    def load(self, *, count: bool = True) -> None:
        """Read the current page again, then (``count``) the view's size, in a worker.

        The page is painted before the count is made, so a key press never waits for a count
        over the whole department; turning pages keeps the count it has.
        """
        if not self.department:
            self.say(self.t("ui.queue.no_department"), error=True)
            return
        self._generation += 1
        after = self.anchors[-1]
        self._fetch(self._generation, self.department, self.view, self.search, after, count)

    @work(thread=True, exclusive=True, group="queue")
    def _fetch(
        self,
        generation: int,
        department: str,
        view: str,
        search: str,
        after: QueueKey | None,
        count: bool,
    ) -> None:
        bench = self.bench
        try:
            page = bench.queue(
                department, view=view, search=search, after=after, limit=self.page_size
            )
            self.app.call_from_thread(self._show, generation, page)
            if count:
                total = bench.queue_size(department, view=view, search=search)
                self.app.call_from_thread(self._counted, generation, total)
        except WorkstationError as error:
            message = self.explain(error)
            self.app.call_from_thread(self._failed, generation, message)

    def _failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self.rows, self.lights, self.total = {}, {}, None
        self.table.clear()
        self._draw_head()
        self.say(message, error=True)

    def _counted(self, generation: int, total: int) -> None:
        if generation == self._generation:
            self.total = total
            self._draw_head()

    def _show(self, generation: int, page: QueuePage) -> None:
        if generation != self._generation:
            return
        if not page.tasks and len(self.anchors) > 1:
            # Decisions emptied this page, the last: show the one before it.
            self.anchors.pop()
            self.load()
            return
        self.page = page
        self.rows = {task.id: task for task in page.tasks}
        self.lights = dict(page.lights)
        self._fill()
        self._draw_head()
        if not page.tasks and not self._message:
            # A report of what was just done stays; otherwise say why the table is empty.
            self.say(self.t("ui.queue.empty"))

    def _fill(self) -> None:
        """Put the page's tasks in the table (it cuts the task names to the width left)."""
        labels = [self.t(f"ui.queue.col_{column}") for column in COLUMNS]
        self.table.show(labels, [(task.id, self._cells(task)) for task in self.rows.values()])

    def _cells(self, task: Task) -> tuple[str | Text, ...]:
        language = self.workstation.language
        name = None
        if self.routing is not None:
            name = self.routing.tasks.get((task.department_code, task.task_code))
        now = self.bench.now()
        claimed = ""
        if task.claimed_by and task.claim_expires and task.claim_expires > now:
            claimed = task.claimed_by
        # The task's name comes last: it is the longest, and the only cell that may be cut.
        return (
            light_text(self.lights.get(task.id, "none"), self.t),
            task.due_date.isoformat() if task.due_date else "—",
            task.tracking_no,
            self.t(f"state.{task.state}"),
            claimed,
            name.get(language) if name else task.task_code,
        )

    # ── actions ────────────────────────────────────────────────────────────────────────
    def action_page(self, step: int) -> None:
        """The next (``1``) or previous (``-1``) page."""
        if step > 0:
            known_end = self.total is not None and self.first_row + len(self.rows) >= self.total
            if self.page is None or len(self.rows) < self.page_size or known_end:
                self.app.bell()
                return
            self.anchors.append(self.page.last_key)
        else:
            if len(self.anchors) == 1:
                self.app.bell()
                return
            self.anchors.pop()
        self.table.move_cursor(row=0)
        self.load(count=False)

    def action_view(self, view: str) -> None:
        """Show one filter of the queue, from its first page."""
        self.view = view
        self.restart()
        self.say("")
        self._draw_head()
        self.load()

    def action_cycle_view(self) -> None:
        """The next filter: all → mine → unclaimed → overdue → supplement → all."""
        self.action_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def action_search(self) -> None:
        """Type a tracking-number prefix."""
        self.search_box.focus()

    @on(Input.Submitted, "#queue-search")
    def _searched(self) -> None:
        self.search = self.search_box.value.strip()
        self.restart()
        self.say("")
        self.table.focus()
        self.load()

    def action_clear_search(self) -> None:
        """Forget the search and go back to the table."""
        had = bool(self.search or self.search_box.value)
        self.search_box.value = ""
        self.table.focus()
        if had:
            self.search = ""
            self.restart()
            self.say("")
            self.load()

    def show_department(self, department: str) -> None:
        """Look at ``department``'s queue (the services refuse one the operator may not see)."""
        self.department = department
        self.restart()
        self.say("")
        self._draw_head()
        self.load()

    def action_switch_department(self) -> None:
        """The operator's next department."""
        if len(self.departments) < 2:
            self.app.bell()
            return
        index = (
            self.departments.index(self.department) if self.department in self.departments else -1
        )
        self.show_department(self.departments[(index + 1) % len(self.departments)])

    def action_reload(self) -> None:
        """Read the page again."""
        self.load()

    def selected(self) -> Task | None:
        """The task under the cursor, if any."""
        key = self.table.cursor_key
        return self.rows.get(key) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Claiming is offered to officers only (a supervisor reads the queue)."""
        if action == "claim":
            return self.bench.me.may("decide")
        return True

    def action_claim(self) -> None:
        """Claim the task under the cursor."""
        task = self.selected()
        if task is None:
            self.say(self.t("ui.queue.no_row"), error=True)
            return
        self._claim(task.id)

    @work(thread=True, exclusive=True, group="queue-act")
    def _claim(self, task_id: str) -> None:
        try:
            self.bench.claim(task_id)
        except WorkstationError as error:
            message = self.explain(error)
            self.app.call_from_thread(self.say, message, error=True)
            return
        outcome = Outcome("claimed", task_id, until=_until(self.bench))
        self.app.call_from_thread(self._decided, outcome)

    @on(TaskTable.Chosen, "#queue-table")
    def _row_chosen(self) -> None:
        self.action_open_task()

    def action_open_task(self) -> None:
        """Open the task under the cursor: the case and the decision form."""
        task = self.selected()
        if task is None:
            self.say(self.t("ui.queue.no_row"), error=True)
            return
        self._open(task)

    @work(thread=True, exclusive=True, group="queue-act")
    def _open(self, task: Task) -> None:
        try:
            case = self.bench.case(task.tracking_no)
            matter = self.bench.matter(case.application.matter_code)
        except WorkstationError as error:
            message = self.explain(error)
            self.app.call_from_thread(self.say, message, error=True)
            return
        self.app.call_from_thread(self._push_dialog, task, case, matter)

    def _push_dialog(self, task: Task, case: CaseView, matter: Matter) -> None:
        names = {
            code: self.department_name(code) for code in {t.department_code for t in case.tasks}
        }
        dialog = DecisionDialog(
            task,
            case,
            matter,
            light=self.lights.get(task.id, "none"),
            departments=names,
            explain=self.explain,
        )
        self.app.push_screen(dialog, self._decided)

    def _decided(self, outcome: Outcome | None) -> None:
        self.refresh_header()
        # The page is read again when the queue resumes; a claim from the table reloads here.
        if outcome is not None:
            self.say(self._report(outcome))
            if outcome.kind == "supplement":
                self._file_notice(outcome.task_id)
        if self.app.screen is self:
            self.load()

    @work(thread=True, group="print")
    def _file_notice(self, task_id: str) -> None:
        """The 补正告知书 of a supplement request, filed (and printed) for the applicant."""
        language = self.workstation.language
        try:
            notice = self.bench.document("supplement", task_id.split("/")[0], language, task_id)
            note = file_documents([notice], self.bench.settings, self.t, language, self.app)
        except WorkstationError as error:
            note = error.message(language)
        self.app.call_from_thread(self.say, Text(note))

    def _report(self, outcome: Outcome) -> Text:
        # ``ui.queue.claimed`` / ``approved`` / ``rejected`` / ``supplement``, after the kind.
        text = Text(self.t(f"ui.queue.{outcome.kind}", task=outcome.task_id, until=outcome.until))
        if outcome.kind == "approved":
            text.style = "green"
            if outcome.opened:
                text.append(" " + self.t("ui.queue.opens", tasks="、".join(outcome.opened)))
        return text


def _until(bench: Workbench) -> str:
    """When a claim made now ends (HH:MM)."""
    return f"{bench.now() + timedelta(hours=bench.settings.claim_hours):%H:%M}"
