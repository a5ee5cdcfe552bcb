"""办件详情: one case by tracking number — application, applicant, materials, tasks, timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static

from screens.base import WorkScreen, in_language
from screens.dialogs.chooser import ChoiceDialog
from screens.dialogs.rating import RatingDialog
from screens.dialogs.reason import ReasonDialog
from screens.dialogs.receipt import ReceiptScreen
from screens.dialogs.small import SmallDialog
from screens.printing import document_choices, file_documents
from workstation import tracking
from workstation.documents import Issued
from workstation.errors import WorkstationError

if TYPE_CHECKING:
    from workstation.catalog.schema import Matter
    from workstation.services.applicants import Numbers
    from workstation.services.cases import CaseView

CASE_ACTIONS = frozenset(
    {"reveal", "supplement", "material", "deliver", "rate", "withdraw", "print"}
)
"""Actions offered only when a case is open and its state allows them."""
TASK_COLUMNS = ("state", "task", "department", "due", "decided", "permit", "waits")
"""State and task name first, so they stay in view at 80 columns; the rest scrolls sideways."""


def office_time(value: datetime, now: datetime) -> str:
    """A stored time in the office's time zone (a naive value from the database is UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{value.astimezone(now.tzinfo):%Y-%m-%d %H:%M}"


class CaseScreen(WorkScreen):
    """Open a case by its tracking number; the clerk records what happens at the window."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "reveal", "ui.case.reveal", id="case-reveal"),
        Binding("f6", "supplement", "ui.case.supplement", id="case-supplement"),
        Binding("f7", "material", "ui.case.material", id="case-material"),
        Binding("f8", "deliver", "ui.case.deliver", id="case-deliver"),
        Binding("f9", "rate", "ui.case.rate", id="case-rate"),
        Binding("f10", "withdraw", "ui.case.withdraw", id="case-withdraw"),
        Binding("ctrl+o", "print", "ui.case.print", id="case-print", show=False),
        Binding("escape", "back", "ui.case.back", id="case-back"),
    ]
    """Each action shows in the footer only when the open case allows it (printing, from the
    command palette or ctrl+o, stays out of a footer already full)."""

    @dataclass
    class Loaded(Message):
        """A worker read the case; ``note`` reports the action that preceded the read."""

        view: CaseView
        matter: Matter
        checks: dict[int, bool]
        departments: dict[str, tuple[str, str]]
        upstream: set[str]
        """Departments whose tasks are decided at the level above."""
        marks: dict[int, str]
        """Event id → where it stands with the level above (provisional, receipted, …)."""
        note: str = ""

    @dataclass
    class Failed(Message):
        """A read or an action was refused; ``lookup`` errors belong beside the number."""

        error: WorkstationError
        lookup: bool = False

    def __init__(self) -> None:
        super().__init__()
        self._view: CaseView | None = None
        self._upstream: set[str] = set()
        self._marks: dict[int, str] = {}
        self._matter: Matter | None = None
        self._checks: dict[int, bool] = {}
        self._departments: dict[str, tuple[str, str]] = {}
        self._numbers: Numbers | None = None
        """The applicant's numbers in full, once revealed for a reason."""
        self._dialog = False

    # ── layout ──────────────────────────────────────────────────────────────────────────
    def body(self) -> ComposeResult:
        """The number field, the case summary, its materials, tasks and timeline."""
        t = self.t
        with Horizontal(id="case-lookup"):
            yield Label(t("ui.case.number"), id="case-number-label")
            yield Input(id="case-number", placeholder=t("ui.case.number_hint"), max_length=48)
        yield Static("", id="case-lookup-error")
        with VerticalScroll(id="case-body"):
            yield Static("", id="case-summary")
            yield Static("", id="case-message")
            yield Label(t("ui.case.materials"), classes="case-section")
            yield self._table("case-materials", "material", "material_status", "promised")
            yield Label(t("ui.case.tasks"), classes="case-section")
            yield self._table("case-tasks", *TASK_COLUMNS)
            yield Label(t("ui.case.timeline"), classes="case-section")
            yield self._table("case-events", "seq", "time", "type", "actor", "verified", "sync")

    def _table(self, id: str, *columns: str) -> DataTable[Any]:
        table: DataTable[Any] = DataTable(id=id, cursor_type="row", zebra_stripes=True)
        for column in columns:
            table.add_column(self.t(f"ui.case.col_{column}"), key=column)
        return table

    def on_mount(self) -> None:
        """Status bar; the cursor waits in the number field."""
        super().on_mount()
        self.query_one("#case-body").display = False
        self.query_one("#case-message").display = False
        self.query_one("#case-number", Input).focus()

    def on_screen_resume(self) -> None:
        """Coming back (F4) re-reads the open case: departments may have acted meanwhile."""
        if self._dialog:
            self._dialog = False  # back from a dialog: its action reloads the case itself
        elif self._view is not None:
            self._load(self._view.application.tracking_no)

    # ── opening a case ──────────────────────────────────────────────────────────────────
    @on(Input.Submitted, "#case-number")
    def _open(self, event: Input.Submitted) -> None:
        error_line = self.query_one("#case-lookup-error", Static)
        if not event.value.strip():
            error_line.update(self.t("ui.case.empty"))
            return
        try:
            number = tracking.normalise(event.value)
        except WorkstationError as error:
            self._forget()
            error_line.update(self.explain(error))
            return
        error_line.update(self.t("ui.case.loading"))
        self._numbers = None
        self._load(number)

    @work(thread=True, exclusive=True, group="case")
    def _load(self, number: str, note: str = "") -> None:
        try:
            self.post_message(self._read(number, note))
        except WorkstationError as error:
            self.post_message(self.Failed(error, lookup=True))

    def _read(self, number: str, note: str) -> CaseScreen.Loaded:
        view = self.bench.case(number)
        spec = self.bench.matter(view.application.matter_code)
        checks, names = self.bench.event_checks(view.events), self.bench.department_names()
        upstream, marks = self.bench.upstream_departments(), self.bench.sync_marks(view.events)
        return self.Loaded(view, spec, checks, names, upstream, marks, note)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self._view, self._matter = message.view, message.matter
        self._checks, self._departments = message.checks, message.departments
        self._upstream, self._marks = message.upstream, message.marks
        self.query_one("#case-lookup-error", Static).update("")
        self.refresh_header()
        self._say(message.note)
        self.query_one("#case-body").display = True
        self._show()
        self.refresh_bindings()

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        text = Text(self.explain(message.error), style="bold red")
        if message.lookup:
            self._forget()
            self.query_one("#case-lookup-error", Static).update(text)
        else:
            self._say(text)

    def _forget(self) -> None:
        """Hide the case shown before, so no action can apply to it by mistake."""
        self._view = None
        self.query_one("#case-body").display = False
        self.refresh_bindings()

    def _say(self, message: str | Text) -> None:
        """Report the last action's outcome (or refusal) just above the case details."""
        line = self.query_one("#case-message", Static)
        line.update(message)
        line.display = bool(str(message))

    # ── showing it ──────────────────────────────────────────────────────────────────────
    def _show(self) -> None:
        self.query_one("#case-summary", Static).update(self._summary())
        self._fill_materials()
        self._fill_tasks()
        self._fill_events()

    def _summary(self) -> Table:
        assert self._view is not None and self._matter is not None
        t, app, person = self.t, self._view.application, self._view.applicant
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        name = self._matter.name.get(self.workstation.language)
        grid.add_row(t("ui.case.matter"), f"{app.tracking_no}  {name}")
        status = Text(t(f"status.{app.status}"))
        if app.paused_since is not None:
            status.append("  " + t("ui.case.paused", since=app.paused_since.isoformat()), "yellow")
        grid.add_row(t("ui.case.status"), status)
        due = Text(app.due_date.isoformat() if app.due_date else t("ui.case.none"))
        if app.due_estimated:
            due.append(" " + t("ui.case.estimated"), "yellow")
        grid.add_row(t("ui.case.due"), due)
        at = office_time(app.accepted_at, self.bench.now())
        grid.add_row(t("ui.case.accepted"), t("ui.case.accepted_value", at=at, by=app.accepted_by))
        grid.add_row(t("ui.case.applicant"), person.name)
        shown = self._numbers
        id_text = Text(shown.id_number if shown else person.id_masked)
        if shown is None and self.check_action("reveal", ()):
            id_text.append(" " + t("ui.case.masked"), "dim")
        grid.add_row(t("ui.case.id_number"), id_text)
        phone = shown.phone if shown else person.phone_masked
        grid.add_row(t("ui.case.phone"), phone or t("ui.case.none"))
        if app.reason:
            grid.add_row(t("ui.case.reason"), app.reason)
        if app.rating is not None:
            rating = t("ui.case.rating_value", score=app.rating, comment=app.rating_comment)
            grid.add_row(t("ui.case.rating"), rating)
        return grid

    def _fill_materials(self) -> None:
        assert self._view is not None and self._matter is not None
        order = {m.code: i for i, m in enumerate(self._matter.materials)}
        table = self.query_one("#case-materials", DataTable)
        table.clear()
        for row in sorted(self._view.materials, key=lambda m: order.get(m.material_code, 99)):
            promised = row.promised_date.isoformat() if row.promised_date else ""
            style = "" if row.status == "received" else "yellow"
            status = Text(self.t(f"material.{row.status}"), style)
            name = self._material_name(row.material_code)
            table.add_row(name, status, promised, key=row.material_code)

    def _material_name(self, code: str) -> str:
        assert self._matter is not None
        spec = self._matter.material(code)
        return spec.name.get(self.workstation.language) if spec else code

    def _task_name(self, code: str) -> str:
        assert self._matter is not None
        return self._matter.task(code).name.get(self.workstation.language)

    def _department_name(self, code: str) -> str:
        return in_language(self._departments.get(code), self.workstation.language, code)

    def _fill_tasks(self) -> None:
        assert self._view is not None and self._matter is not None
        order = {spec.code: i for i, spec in enumerate(self._matter.tasks)}
        states = {task.task_code: task.state for task in self._view.tasks}
        table = self.query_one("#case-tasks", DataTable)
        table.clear()
        for task in sorted(self._view.tasks, key=lambda task: order.get(task.task_code, 99)):
            waits = Text()
            for dep in self._matter.task(task.task_code).depends_on:
                done = states.get(dep) == "approved"
                waits.append(("、" if waits else "") + self._task_name(dep), "dim" if done else "")
            sent_up = task.state == "open" and task.department_code in self._upstream
            table.add_row(
                self.t("state.sent_upstream" if sent_up else f"state.{task.state}"),
                self._task_name(task.task_code),
                self._department_name(task.department_code),
                task.due_date.isoformat() if task.due_date else "",
                task.decided_by or "",
                task.permit_no,
                waits,
                key=task.id,
            )

    def _fill_events(self) -> None:
        assert self._view is not None
        table = self.query_one("#case-events", DataTable)
        table.clear()
        for event in self._view.events:
            key = "ui.case.event." + event.type.replace(".", "_")
            label = self.t(key)
            ok = event.id is not None and self._checks.get(event.id, False)
            mark = Text(self.t("ui.case.verified" if ok else "ui.case.unverified"))
            mark.stylize("green" if ok else "bold red")
            when, kind = event.ts[:16].replace("T", " "), event.type if label == key else label
            place = self.t(f"ui.case.sync.{self._marks.get(event.id or 0, 'provisional')}")
            table.add_row(str(event.seq), when, kind, event.actor, mark, place, key=str(event.id))

    # ── the clerk's actions ─────────────────────────────────────────────────────────────
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Case actions appear only when a case is open and its state allows them."""
        if action not in CASE_ACTIONS:
            return True
        view, me = self._view, self.bench.actor
        if view is None or me is None:
            return False
        if action == "reveal":
            return me.may("read_personal") and self._numbers is None
        if action == "print":
            return me.may("read_cases")
        if not me.may("handle_case"):
            return False
        status = view.application.status
        allowed = {
            "supplement": any(task.state == "supplement" for task in view.tasks),
            "material": any(row.status == "owed" for row in view.materials),
            "deliver": status == "completed",
            "rate": status == "delivered" and view.application.rating is None,
            "withdraw": status == "in_progress",
        }
        return allowed[action]

    @work(thread=True, exclusive=True, group="case")
    def _act(self, call: Callable[[], str | None], note: str) -> None:
        assert self._view is not None
        number = self._view.application.tracking_no
        try:
            filed = call()
            self.post_message(self._read(number, f"{note} {filed}" if filed else note))
        except WorkstationError as error:
            self.post_message(self.Failed(error))

    def action_reveal(self) -> None:
        """Show the applicant's ID and phone in full for this case; the look is audited."""
        if self._view is None:
            return
        ref = self._view.applicant.ref

        def why(reason: str | None) -> None:
            if reason:

                def look() -> None:
                    self._numbers = self.bench.reveal(ref, reason)

                self._act(look, self.t("ui.case.revealed"))

        self._ask(ReasonDialog(self.t("ui.reveal_title")), why)

    def action_supplement(self) -> None:
        """The applicant brought what a department asked for (补正)."""
        assert self._view is not None
        waiting = [
            (task.id, self._task_name(task.task_code))
            for task in self._view.tasks
            if task.state == "supplement"
        ]

        def record(task_id: str | None) -> None:
            if task_id:
                note = self.t("ui.case.supplement_done", task=dict(waiting)[task_id])
                self._act(lambda: self.bench.record_supplement(task_id), note)

        self._choose(self.t("ui.case.choose_task"), waiting, record)

    def action_material(self) -> None:
        """A 容缺 material promised at intake has arrived."""
        assert self._view is not None
        number = self._view.application.tracking_no
        owed = [
            (row.material_code, self._material_name(row.material_code))
            for row in self._view.materials
            if row.status == "owed"
        ]

        def record(code: str | None) -> None:
            if code:
                note = self.t("ui.case.material_done", material=dict(owed)[code])
                self._act(lambda: self.bench.record_material(number, code), note)

        self._choose(self.t("ui.case.choose_material"), owed, record)

    def _choose(
        self, title: str, choices: list[tuple[str, str]], then: Callable[[str | None], None]
    ) -> None:
        if len(choices) == 1:
            then(choices[0][0])
        elif choices:
            self._ask(ChoiceDialog(title, choices), then)

    def _ask(self, dialog: SmallDialog, then: Callable[[Any], None]) -> None:
        self._dialog = True
        self.app.push_screen(dialog, then)

    def action_deliver(self) -> None:
        """出件: hand the result over (refused while materials are owed)."""
        assert self._view is not None
        number = self._view.application.tracking_no
        note = self.t("ui.case.delivered", tracking_no=number)

        def deliver() -> str:
            self.bench.deliver(number)
            return self._file(self.bench.document("delivery", number, self.workstation.language))

        self._act(deliver, note)

    def _file(self, issued: Issued) -> str:
        """Save and print a document of this case; what happened, in one line."""
        language = self.workstation.language
        return file_documents([issued], self.bench.settings, self.t, language, self.app)

    def action_print(self) -> None:
        """Print (or reprint) any document the open case has."""
        assert self._view is not None
        view, number = self._view, self._view.application.tracking_no
        choices = document_choices(view, self.t, self._task_name)

        def chosen(code: str | None) -> None:
            if code:
                kind, task = code.split("|", 1)
                self._print(number, kind, task)

        self._ask(ChoiceDialog(self.t("ui.case.print_title"), choices), chosen)

    @work(thread=True, exclusive=True, group="print")
    def _print(self, number: str, kind: str, task: str) -> None:
        try:
            issued = self.bench.document(kind, number, self.workstation.language, task)
            note = self._file(issued)
        except WorkstationError as error:
            self.post_message(self.Failed(error))
            return
        language = self.workstation.language
        self.app.call_from_thread(self.app.push_screen, ReceiptScreen(issued, note, language))

    def action_rate(self) -> None:
        """好差评: ask for the score and comment, then record them."""
        assert self._view is not None
        number = self._view.application.tracking_no

        def record(result: tuple[int, str] | None) -> None:
            if result is not None:
                note = self.t("ui.case.rated", score=result[0])
                self._act(lambda: self.bench.rate(number, *result), note)

        self._ask(RatingDialog(self.t("ui.case.rate_title")), record)

    def action_withdraw(self) -> None:
        """撤回: the applicant withdraws, with a reason."""
        assert self._view is not None
        number = self._view.application.tracking_no

        def record(reason: str | None) -> None:
            if reason:
                note = self.t("ui.case.withdrawn", tracking_no=number)
                self._act(lambda: self.bench.withdraw(number, reason), note)

        self._ask(ReasonDialog(self.t("ui.case.withdraw_title")), record)

    def action_back(self) -> None:
        """Back to the number field, to open another case."""
        field = self.query_one("#case-number", Input)
        if field.has_focus:
            field.value = ""
            self.query_one("#case-lookup-error", Static).update("")
        field.focus()
