"""办理任务: the case summary and the decision form of one department task, as a modal."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, SelectionList, Static

from screens.dialogs.reason import ReasonDialog
from screens.keys import localise_bindings
from workstation.errors import WorkstationError

if TYPE_CHECKING:
    from models import Task
    from screens.app import WorkstationApp
    from workstation.catalog.schema import Matter
    from workstation.services.applicants import Numbers
    from workstation.services.cases import CaseView

LIGHT_STYLES = {
    "red": ("●", "bold red"),
    "yellow": ("●", "bold yellow"),
    "green": ("●", "green"),
    "paused": ("○", "cyan"),
    "none": ("·", "dim"),
}
"""Glyph and colour of each time light; the translated word always goes with it."""


def light_text(light: str, translate: Callable[..., str]) -> Text:
    """A coloured glyph and the light's name, e.g. ``● 超期`` in red."""
    glyph, style = LIGHT_STYLES.get(light, LIGHT_STYLES["none"])
    return Text(f"{glyph} {translate(f'light.{light}')}", style=style)


@dataclass(frozen=True)
class Outcome:
    """What the operator did in the dialog, for the queue to report and refresh."""

    kind: str
    """``claimed``, ``approved``, ``rejected`` or ``supplement``."""
    task_id: str
    opens: tuple[str, ...] = ()
    """Codes of the tasks an approval opened."""
    opened: tuple[str, ...] = ()
    """The same tasks as "name（department）", in the operator's language."""
    until: str = ""
    """End of the claim (HH:MM), for ``claimed``."""


DECIDING = frozenset({"claim", "approve", "reject", "supplement"})
"""Actions only an officer is offered."""
ERROR_SLOTS = ("permit", "reason", "materials", "form")
"""Where an error can appear: beside the permit number, the reason, the materials, or below."""


def error_slot(error: WorkstationError) -> str:
    """Which field caused ``error`` (the form as a whole when no single field did)."""
    field = error.params.get("field")
    if error.key == "error.task.permit_required" or field == "field.permit_no":
        return "permit"
    if field == "field.reason":
        return "reason"
    if error.key in ("error.supplement.no_materials", "error.material.unknown"):
        return "materials"
    return "form"


class DecisionDialog(ModalScreen[Outcome | None]):
    """One task: who applied for what, what others decided, and claim / approve / reject / 补正."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "claim", "ui.queue.decision.do_claim", id="decision-claim"),
        Binding("f7", "approve", "ui.queue.decision.do_approve", id="decision-approve"),
        Binding("f8", "reject", "ui.queue.decision.do_reject", id="decision-reject"),
        Binding("f9", "supplement", "ui.queue.decision.do_supplement", id="decision-supplement"),
        Binding("ctrl+r", "reveal", "ui.queue.decision.reveal", id="decision-reveal"),
        Binding("escape", "cancel", "ui.queue.decision.cancel", id="decision-cancel"),
    ]
    """Every decision is one function key, so typing in a field never triggers one."""

    DEFAULT_CSS = """
    DecisionDialog {
        align: center middle;

        #decision {
            width: 100%;
            max-width: 110;
            height: 1fr;
            max-height: 44;
            border: round $primary;
            background: $surface;
            padding: 0 1;
        }
        #decision-title { text-style: bold; }
        #decision-summary { height: 1fr; min-height: 3; }
        #decision-form { height: auto; border-top: solid $primary-muted; }
        .decision-section { text-style: bold; margin-top: 1; }
        #decision-form .decision-section { margin-top: 0; }
        #decision-form Input { border: none; height: 1; padding: 0 1; background: $boost; }
        #decision-form Input:focus { background: $primary 30%; }
        .decision-error { color: $error; height: auto; }
        .decision-error.-empty { display: none; }
        #decision-materials { height: auto; max-height: 6; border: none; padding: 0; }
        #decision-materials:focus { background-tint: $primary 10%; }
        #decision-status { height: auto; }
    }
    """
    """Scoped to the dialog; the summary scrolls, the form below it always shows."""

    def __init__(
        self,
        task: Task,
        case: CaseView,
        matter: Matter,
        *,
        light: str,
        departments: Mapping[str, str],
        explain: Callable[[WorkstationError], str],
    ) -> None:
        super().__init__()
        self.task_row = task
        """The task as the queue page read it."""
        self.case = case
        self.matter = matter
        self.light = light
        self.departments = departments
        """Department code → name in the operator's language."""
        self._explain = explain
        self._numbers: Numbers | None = None
        """The applicant's numbers in full, once revealed for a reason."""
        self._claimed_until = ""
        self._busy = False
        localise_bindings(self, self.workstation.language)

    @property
    def workstation(self) -> WorkstationApp:
        """The app, typed."""
        from screens.app import WorkstationApp

        assert isinstance(self.app, WorkstationApp)
        return self.app

    def t(self, key: str, **params: Any) -> str:
        """A UI string in the operator's language."""
        return self.workstation.t(key, **params)

    # ── layout ─────────────────────────────────────────────────────────────────────────
    def compose(self) -> ComposeResult:
        """Summary on top, the form below, the keys in the footer."""
        language = self.workstation.language
        spec = self.matter.task(self.task_row.task_code)
        with Vertical(id="decision"):
            yield Static(
                self.t("ui.queue.decision.title", task=self.task_row.id), id="decision-title"
            )
            with VerticalScroll(id="decision-summary"):
                yield Static(
                    self.t(
                        "ui.queue.decision.matter",
                        matter=self.matter.name.get(language),
                        task=spec.name.get(language),
                        department=self._department(self.task_row.department_code),
                    )
                )
                yield Static(self._applicant_line(), id="decision-applicant")
                yield Static(self._accepted_line())
                yield Static(self._task_line(), id="decision-task")
                yield Label(self.t("ui.queue.decision.materials"), classes="decision-section")
                yield Static(self._materials_text(), id="decision-material-list")
                others = [t for t in self.case.tasks if t.id != self.task_row.id]
                if others:
                    yield Label(self.t("ui.queue.decision.others"), classes="decision-section")
                    yield Static(self._others_text(others), id="decision-others")
            with Vertical(id="decision-form"):
                if spec.permit is not None:
                    yield Label(
                        self.t("ui.queue.decision.permit", permit=spec.permit.get(language)),
                        classes="decision-section",
                    )
                    yield Input(id="decision-permit", max_length=60)
                else:
                    yield Static(
                        self.t("ui.queue.decision.permit_none"), classes="decision-section"
                    )
                yield self._error_line("permit")
                yield Label(self.t("ui.queue.decision.reason"), classes="decision-section")
                yield Input(id="decision-reason", max_length=500)
                yield self._error_line("reason")
                yield Label(self.t("ui.queue.decision.pick"), classes="decision-section")
                yield SelectionList[str](
                    *[(m.name.get(language), m.code) for m in self.matter.materials],
                    id="decision-materials",
                )
                yield self._error_line("materials")
                yield self._error_line("form")
                yield Static("", id="decision-status")
        yield Footer()

    def on_mount(self) -> None:
        """Start in the first field of the form."""
        self.workstation.apply_preferences(self)
        first = self.query("#decision-permit").first(Input) if self._has_permit() else None
        (first or self.query_one("#decision-reason", Input)).focus()

    @staticmethod
    def _error_line(slot: str) -> Static:
        return Static("", id=f"decision-{slot}-error", classes="decision-error -empty")

    def _show_error(self, slot: str, message: str) -> None:
        line = self.query_one(f"#decision-{slot}-error", Static)
        line.update(message)
        line.set_class(not message, "-empty")

    def _has_permit(self) -> bool:
        return bool(self.query("#decision-permit"))

    def _department(self, code: str) -> str:
        return self.departments.get(code, code)

    def _now(self) -> datetime:
        return self.workstation.bench.now()

    def _applicant_line(self) -> str:
        applicant = self.case.applicant
        shown = self._numbers
        number = shown.id_number if shown else applicant.id_masked
        phone = shown.phone if shown else applicant.phone_masked
        return self.t(
            "ui.queue.decision.applicant", name=applicant.name, id=number, phone=phone or "—"
        )

    def _accepted_line(self) -> str:
        application = self.case.application
        at = application.accepted_at.astimezone(self._now().tzinfo)
        return self.t(
            "ui.queue.decision.accepted",
            at=f"{at:%Y-%m-%d %H:%M}",
            by=application.accepted_by,
            due=application.due_date.isoformat() if application.due_date else "—",
        )

    def _claim_text(self) -> str:
        task = self.task_row
        now = self._now()
        if self._claimed_until:
            who, until = self.workstation.bench.me.username, self._claimed_until
        elif task.claimed_by and task.claim_expires and task.claim_expires > now:
            who, until = task.claimed_by, f"{task.claim_expires.astimezone(now.tzinfo):%H:%M}"
        else:
            return self.t("ui.queue.decision.unclaimed")
        return self.t("ui.queue.decision.claim", who=who, until=until)

    def _task_line(self) -> Text:
        # The light goes into the translated line as coloured text, wherever the language puts it.
        line = self.t(
            "ui.queue.decision.task",
            light="\x00",
            due=self.task_row.due_date.isoformat() if self.task_row.due_date else "—",
            state=f"state.{self.task_row.state}",
            claim=self._claim_text(),
        )
        before, _, after = line.partition("\x00")
        light = light_text(self.light, self.t)
        return Text(before) + light + Text(after)

    def _materials_text(self) -> Text:
        language = self.workstation.language
        text = Text()
        for row in sorted(self.case.materials, key=lambda m: m.material_code):
            spec = self.matter.material(row.material_code)
            name = spec.name.get(language) if spec else row.material_code
            style = "" if row.status == "received" else "yellow"
            line = self.t(
                "ui.queue.decision.material_line", name=name, status=f"material.{row.status}"
            )
            text.append(("\n" if text else "") + line, style=style)
        return text

    def _others_text(self, others: list[Task]) -> Text:
        language = self.workstation.language
        text = Text()
        for task in sorted(others, key=lambda t: t.task_code):
            spec = next((s for s in self.matter.tasks if s.code == task.task_code), None)
            decided = ""
            if task.decided_by:
                permit = (
                    self.t("ui.queue.decision.permit_suffix", permit=task.permit_no)
                    if task.permit_no
                    else ""
                )
                decided = self.t("ui.queue.decision.decided", by=task.decided_by, permit=permit)
            line = self.t(
                "ui.queue.decision.other_line",
                department=self._department(task.department_code),
                task=spec.name.get(language) if spec else task.task_code,
                state=f"state.{task.state}",
                decided=decided,
            )
            style = {"approved": "green", "rejected": "red", "supplement": "cyan"}.get(
                task.state, ""
            )
            text.append(("\n" if text else "") + line, style=style)
        return text

    # ── form ───────────────────────────────────────────────────────────────────────────
    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    def _clear_errors(self) -> None:
        for slot in ERROR_SLOTS:
            self._show_error(slot, "")

    def _start(self, kind: str) -> None:
        if self._busy:
            return
        self._busy = True
        self._clear_errors()
        self.query_one("#decision-status", Static).update(self.t("ui.queue.decision.working"))
        permit = self.query_one("#decision-permit", Input).value if self._has_permit() else ""
        reason = self.query_one("#decision-reason", Input).value
        materials = list(self.query_one("#decision-materials", SelectionList).selected)
        self._submit(kind, permit, reason, materials)

    @work(thread=True, exclusive=True, group="decide")
    def _submit(self, kind: str, permit: str, reason: str, materials: list[str]) -> None:
        # Each call is one transaction below; a refusal changes nothing.
        bench = self.workstation.bench
        task_id = self.task_row.id
        try:
            if kind == "claimed":
                bench.claim(task_id)
                until = bench.now() + timedelta(hours=bench.settings.claim_hours)
                outcome = Outcome(kind, task_id, until=f"{until:%H:%M}")
            elif kind == "approved":
                opens = tuple(bench.approve(task_id, permit))
                outcome = Outcome(kind, task_id, opens=opens, opened=self._names(opens))
            elif kind == "rejected":
                bench.reject(task_id, reason)
                outcome = Outcome(kind, task_id)
            else:
                bench.request_supplement(task_id, materials, reason)
                outcome = Outcome(kind, task_id)
        except WorkstationError as error:
            message = self._explain(error)
            self.app.call_from_thread(self._refused, error_slot(error), message)
            return
        self.app.call_from_thread(self._succeeded, outcome)

    def _names(self, codes: tuple[str, ...]) -> tuple[str, ...]:
        language = self.workstation.language
        specs = [self.matter.task(code) for code in codes]
        return tuple(f"{s.name.get(language)}（{self._department(s.department)}）" for s in specs)

    def _refused(self, slot: str, message: str) -> None:
        self._busy = False
        self.query_one("#decision-status", Static).update("")
        if slot == "permit" and not self._has_permit():
            slot = "form"
        self._show_error(slot, message)
        target = {
            "permit": "#decision-permit",
            "reason": "#decision-reason",
            "materials": "#decision-materials",
        }.get(slot)
        if target:
            self.query_one(target).focus()

    def _succeeded(self, outcome: Outcome) -> None:
        self._busy = False
        if outcome.kind != "claimed":
            self.dismiss(outcome)
            return
        self._claimed_until = outcome.until
        self.query_one("#decision-task", Static).update(self._task_line())
        self.query_one("#decision-status", Static).update(
            self.t("ui.queue.decision.claimed", until=outcome.until)
        )

    # ── actions ────────────────────────────────────────────────────────────────────────
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A supervisor reads the task but is not offered the decisions (the services agree)."""
        return action not in DECIDING or self.workstation.bench.me.may("decide")

    def action_claim(self) -> None:
        """Claim the task for the settings' lease."""
        self._start("claimed")

    def action_approve(self) -> None:
        """Approve, with the permit number where the task issues a permit."""
        self._start("approved")

    def action_reject(self) -> None:
        """Reject with the reason typed."""
        self._start("rejected")

    def action_supplement(self) -> None:
        """Ask for the ticked materials, with the reason typed."""
        self._start("supplement")

    def action_reveal(self) -> None:
        """Show the applicant's ID number and phone in full, for a reason (audited), or mask
        them again."""
        if self._numbers is not None:
            self._numbers = None
            self.query_one("#decision-applicant", Static).update(self._applicant_line())
            return

        def why(reason: str | None) -> None:
            if not reason:
                return
            try:
                self._numbers = self.workstation.bench.reveal(self.case.applicant.ref, reason)
            except WorkstationError as error:
                self._show_error("form", self._explain(error))
                return
            self.query_one("#decision-applicant", Static).update(self._applicant_line())

        self.app.push_screen(ReasonDialog(self.t("ui.reveal_title")), why)

    def action_cancel(self) -> None:
        """Back to the queue (reporting a claim made here, so the queue shows it)."""
        if self._busy:
            return
        claimed = Outcome("claimed", self.task_row.id, until=self._claimed_until)
        self.dismiss(claimed if self._claimed_until else None)
