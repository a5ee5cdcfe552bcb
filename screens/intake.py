"""一窗受理: collect the applicant once, check materials, preview the fan-out, accept, receipt."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.widgets import Checkbox, DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

from models import Applicant
from screens.base import WorkScreen, in_language
from screens.dialogs.reason import ReasonDialog
from screens.dialogs.receipt import ReceiptScreen
from screens.printing import file_documents
from screens.widgets.applicant import ApplicantPanel, Note
from screens.widgets.checklist import Checklist, MatterForm
from workstation.catalog.schema import Matter
from workstation.documents import Issued
from workstation.errors import WorkstationError
from workstation.services.applicants import ApplicantInput
from workstation.services.intake import FanOut, IntakeRequest
from workstation.workbench import MatterChoice

__all__ = ["IntakeScreen", "ReceiptScreen"]  # ReceiptScreen: its old home, for importers

WIDE = 110
"""From this many columns on, the form shows in two columns."""
FANOUT_COLUMNS = (("col_task", 18), ("col_due", 11), ("col_start", 13), ("col_department", 14))
"""Fan-out columns and their widths: long names wrap, so the table fits the right column."""


class IntakeScreen(WorkScreen):
    """The front desk: one applicant, one matter, everything handed over once."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "submit", "ui.intake.submit", id="submit"),
        Binding("ctrl+s", "submit", "ui.intake.submit", id="submit-save", show=False),
        Binding("f10", "refuse", "ui.intake.refuse", id="refuse"),
        Binding("ctrl+r", "reveal", "ui.intake.reveal", id="reveal"),
        Binding("escape", "clear", "ui.intake.clear", id="clear"),
    ]
    """Submit, refuse to accept (with a reason), reveal a stored applicant's ID (audited),
    clear the form."""

    def __init__(self) -> None:
        super().__init__()
        self.matter: Matter | None = None
        """The matter picked, with its materials, fields and routing."""
        self.fan_out: FanOut | None = None
        """The preview of what accepting would open."""
        self.last_receipt: Issued | None = None
        """The receipt of the last application accepted here."""
        self._matters: list[MatterChoice] = []
        self._departments: dict[str, tuple[str, str]] = {}

    # ── layout ──────────────────────────────────────────────────────────────────────────
    def body(self) -> ComposeResult:
        """Applicant and matter on the left; fan-out, materials and form on the right."""
        t, language = self.t, self.workstation.language
        with Horizontal(id="intake-columns"):
            with VerticalScroll(id="intake-left"):
                yield ApplicantPanel(t, language, id="applicant")
                yield Static(t("ui.intake.matter"), classes="section")
                yield Input(
                    id="matter-filter", placeholder=t("ui.intake.matter_hint"), compact=True
                )
                yield OptionList(id="matters")
                yield Note(id="matter-note")
            with VerticalScroll(id="intake-right"):
                yield Static(t("ui.intake.fanout"), classes="section")
                yield DataTable(id="fanout", cursor_type="none", show_cursor=False)
                yield Note(id="fanout-note")
                yield Static(t("ui.intake.materials"), classes="section")
                yield Checklist(t, language, id="materials")
                yield Note(id="materials-note")
                yield Static(t("ui.intake.form"), classes="section")
                yield MatterForm(t, language, id="form")
        yield Note(id="general-note")

    def on_mount(self) -> None:
        """Status bar, the fan-out columns, every matter, focus on the search."""
        super().on_mount()
        table = self.query_one("#fanout", DataTable)
        for key, width in FANOUT_COLUMNS:
            table.add_column(self.t(f"ui.intake.{key}"), key=key, width=width)
        self._matters = self.bench.matters()
        self._departments = self.bench.department_names()
        self.applicant.today = self.bench.now().date()
        self._filter_matters("")
        self.query_one("#find", Input).focus()

    def on_resize(self, event: Resize) -> None:
        """Two columns on a wide terminal, one on an 80-column one."""
        self.set_class(event.size.width < WIDE, "-narrow")

    @property
    def applicant(self) -> ApplicantPanel:
        """The applicant panel."""
        return self.query_one(ApplicantPanel)

    @property
    def stored(self) -> Applicant | None:
        """The stored applicant picked from the search (collect once)."""
        return self.applicant.stored

    def _note(self, name: str, text: str = "", *, error: bool = True) -> None:
        """Say ``text`` under the field ``name`` (an error unless ``error`` is False)."""
        self.query_one(f"#{name}-note", Note).say(text, error=error)

    def _department(self, code: str) -> str:
        """A department's name in the operator's language (its code if it has none)."""
        return in_language(self._departments.get(code), self.workstation.language, code)

    # ── applicant: the panel asks, the screen calls the services ────────────────────────
    @on(ApplicantPanel.Search)
    def _search(self, event: ApplicantPanel.Search) -> None:
        self._find(event.text)

    @work(thread=True, exclusive=True, group="find")
    def _find(self, text: str) -> None:
        try:
            found = self.bench.find_applicants(text) if text.strip() else []
        except WorkstationError as error:
            self.app.call_from_thread(self._note, "general", self.explain(error))
            return
        self.app.call_from_thread(self.applicant.show_found, found, text)

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        panel = self.applicant
        if event.value != panel.found_for:  # Enter came before the search: search now
            try:
                panel.show_found(self.bench.find_applicants(event.value), event.value)
            except WorkstationError as error:
                self._note("general", self.explain(error))
                return
        panel.enter_find(event.value)

    @on(ApplicantPanel.Picked)
    def _picked(self) -> None:
        self.refresh_bindings()
        self.query_one("#matter-filter" if self.matter is None else "#name").focus()

    def action_reveal(self) -> None:
        """Show the stored applicant's full ID and phone; the look is audited."""
        panel = self.applicant
        if panel.stored is None or panel.revealed:
            return
        ref = panel.stored.ref

        def why(reason: str | None) -> None:
            if not reason:
                return
            try:
                numbers = self.bench.reveal(ref, reason)
            except WorkstationError as error:
                self._note("general", self.explain(error))
                return
            panel.reveal(numbers)
            self.refresh_bindings()

        self.app.push_screen(ReasonDialog(self.t("ui.reveal_title")), why)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reveal only makes sense for a stored applicant."""
        if action == "reveal":
            panel = self.applicant
            return (panel.stored is not None and not panel.revealed) or None
        return super().check_action(action, parameters)

    @on(Input.Submitted, ".row Input")
    @on(Input.Submitted, ".promise")
    def _next_field(self) -> None:
        self.focus_next()

    # ── matter: filter by name or pinyin initials, then materials, form, fan-out ────────
    @on(Input.Changed, "#matter-filter")
    def _matter_filter_changed(self, event: Input.Changed) -> None:
        self._filter_matters(event.value)

    def _filter_matters(self, text: str) -> list[MatterChoice]:
        needle = text.strip().lower()
        shown = [
            m
            for m in self._matters
            if not needle
            or m.initials.startswith(needle)
            or needle in m.name_zh
            or needle in m.name_en.lower()
            or m.code.startswith(needle)
        ]
        options = self.query_one("#matters", OptionList)
        options.clear_options()
        language = self.workstation.language
        options.add_options(Option(Text(m.name(language)), id=m.code) for m in shown)
        if shown:
            options.highlighted = 0
        self._note("matter", "" if shown else self.t("ui.intake.matter_none"))
        return shown

    @on(Input.Submitted, "#matter-filter")
    async def _matter_submitted(self) -> None:
        options = self.query_one("#matters", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            await self._choose_matter(str(option.id))

    @on(OptionList.OptionSelected, "#matters")
    async def _matter_selected(self, event: OptionList.OptionSelected) -> None:
        await self._choose_matter(str(event.option.id))

    async def _choose_matter(self, code: str) -> None:
        """Show the matter's checklist, its form and its fan-out."""
        try:
            matter = self.bench.matter(code)
        except WorkstationError as error:
            self._note("matter", self.explain(error))
            return
        self.matter = matter
        name = matter.name.get(self.workstation.language)
        chosen = self.t("ui.intake.chosen", matter=name, days=matter.time_limit_days)
        self._note("matter", chosen, error=False)
        await self._show_lists(matter)
        self._note("materials")
        self.applicant.matter_kind = matter.applicant_kind
        self.applicant.check_id(final=True)
        self._preview()
        # Wide: the fan-out above stays in sight; narrow: the column scrolls to the checklist.
        first = self.query_one("#materials Checkbox", Checkbox)
        first.focus(scroll_visible=self.has_class("-narrow"))

    async def _show_lists(self, matter: Matter | None) -> None:
        """The checklist and the form of ``matter`` (none for None)."""
        await self.query_one(Checklist).show(matter)
        await self.query_one(MatterForm).show(matter)
        self.workstation.apply_preferences(self)  # (cursor blink) for the new inputs too

    def _preview(self) -> None:
        """The fan-out as accepting would open it: what starts now, what waits, due dates."""
        assert self.matter is not None
        table = self.query_one("#fanout", DataTable)
        table.clear()
        try:
            fan_out = self.bench.preview(self._request())
        except WorkstationError as error:
            self._note("fanout", self.explain(error))
            return
        self.fan_out = fan_out
        language, t = self.workstation.language, self.t
        for task in fan_out.tasks:
            waits = [self._department(self.matter.task(code).department) for code in task.waits_for]
            start = (
                t("ui.intake.waits", tasks="、".join(waits)) if waits else t("ui.intake.at_once")
            )
            table.add_row(
                Text(self.matter.task(task.code).name.get(language)),
                task.due.isoformat() + ("" if task.opens_at_once else "*"),
                Text(start),
                Text(self._department(task.department)),
                key=task.code,
                height=None,  # as many lines as the longest name needs
            )
        note = t("ui.intake.case_due", due=fan_out.due.isoformat())
        if fan_out.estimated:
            note += t("ui.intake.estimated")
        self._note("fanout", note, error=False)

    # ── submit ──────────────────────────────────────────────────────────────────────────
    def _request(
        self, received: tuple[str, ...] = (), deferred: dict[str, date] | None = None
    ) -> IntakeRequest:
        """What the clerk collected, as the services take it."""
        assert self.matter is not None
        form = self.query_one(MatterForm).values()
        applicant = self.applicant.values()
        return IntakeRequest(applicant, self.matter.code, received, deferred or {}, form)

    def _picked_matter(self) -> Matter | None:
        """The matter picked, or None after asking the clerk to pick one first."""
        if self.matter is None:
            self._note("general", self.t("ui.intake.pick_matter_first"))
            self.query_one("#matter-filter").focus()
        return self.matter

    def action_submit(self) -> None:
        """Accept the application; errors show beside the field they concern."""
        matter = self._picked_matter()
        if matter is None:
            return
        self._clear_errors()
        checklist = self.query_one(Checklist)
        deferred, bad = checklist.deferred()
        if bad is not None:
            material = matter.material((bad.id or "").removeprefix("promise-"))
            name = material.name.get(self.workstation.language) if material else bad.id
            self._note("materials", self.t("ui.intake.promise_bad", material=name))
            bad.focus()
            return
        self._note("general", self.t("ui.intake.submitting"), error=False)
        self._accept(self._request(checklist.received(), deferred), matter)

    @work(thread=True, exclusive=True, group="accept")
    def _accept(self, request: IntakeRequest, matter: Matter) -> None:
        try:
            result = self.bench.accept(request)
        except WorkstationError as error:
            self.app.call_from_thread(self._refused, error)
            return
        language = self.workstation.language
        try:
            papers = self.bench.intake_papers(result.tracking_no, language)
        except WorkstationError as error:
            # Accepted and signed all the same; only the paper failed, and it says why.
            note = self.t("ui.intake.receipt.save_failed", reason=error.message(language))
            self.app.call_from_thread(self._accepted_without_paper, result.tracking_no, note)
            return
        note = file_documents(papers, self.bench.settings, self.t, language, self.app)
        self.app.call_from_thread(self._accepted, papers[0], note)

    def action_refuse(self) -> None:
        """不予受理: refuse this applicant's application, with the reason, on the record."""
        matter = self._picked_matter()
        if matter is None:
            return
        self._clear_errors()
        applicant = self.applicant.values()

        def chosen(reason: str | None) -> None:
            if reason:
                self._refuse(applicant, matter.code, reason)

        self.app.push_screen(ReasonDialog(self.t("ui.intake.refuse_title")), chosen)

    @work(thread=True, exclusive=True, group="accept")
    def _refuse(self, applicant: ApplicantInput, matter_code: str, reason: str) -> None:
        try:
            number = self.bench.refuse(applicant, matter_code, reason)
        except WorkstationError as error:
            self.app.call_from_thread(self._refused, error)
            return
        language = self.workstation.language
        try:
            notice = self.bench.document("refusal", number, language)
        except WorkstationError as error:
            note = self.t("ui.intake.receipt.save_failed", reason=error.message(language))
            self.app.call_from_thread(self._accepted_without_paper, number, note)
            return
        note = file_documents([notice], self.bench.settings, self.t, language, self.app)
        self.app.call_from_thread(self._accepted, notice, note)

    def _refused(self, error: WorkstationError) -> None:
        """Show the error beside the field it concerns; nothing was stored."""
        message = self.explain(error)
        self._note("general")
        target = self._target(error)
        self._note(target, message)
        if target == "materials" and self.matter is not None:
            named = error.params.get("material")
            spec = next((m for m in self.matter.materials if m.name.model_dump() == named), None)
            target = f"mat-{spec.code}" if spec else target
        focus = self.query(f"#{target}")
        if focus and focus.first().focusable:
            focus.first().focus()

    def _target(self, error: WorkstationError) -> str:
        """The field whose note tells about ``error`` (``general`` when none does)."""
        key, field = error.key, error.params.get("field")
        if key.startswith(("error.id.", "error.uscc.", "error.applicant.")):
            return "id-number"
        if key.startswith("error.phone."):
            return "phone"
        if key.startswith("error.material."):
            return "materials"
        if field in ("field.name", "field.address"):
            return str(field).removeprefix("field.")
        if key.startswith("error.field.") and self.matter is not None:
            spec = next((f for f in self.matter.fields if f.name.model_dump() == field), None)
            return f"field-{spec.code}" if spec else "general"
        return "general"

    def _accepted(self, receipt: Issued, note: str) -> None:
        self.last_receipt = receipt
        self.refresh_header()
        self.run_worker(self._reset())
        self.app.push_screen(ReceiptScreen(receipt, note, self.workstation.language))

    def _accepted_without_paper(self, tracking_no: str, note: str) -> None:
        self.refresh_header()
        self.run_worker(self._reset())
        message = self.t("ui.intake.accepted_no_paper", tracking_no=tracking_no) + " " + note
        self._note("general", message, error=False)

    # ── clear ───────────────────────────────────────────────────────────────────────────
    def _clear_errors(self) -> None:
        for note in self.query(Note).results(Note):
            if note.is_error:
                note.say()

    async def _reset(self) -> None:
        """A blank form for the next applicant."""
        self.matter, self.fan_out = None, None
        self.applicant.clear()
        self.query_one("#matter-filter", Input).value = ""
        await self._show_lists(None)
        for note in self.query(Note).results(Note):
            note.say()
        self.query_one("#fanout", DataTable).clear()
        self.refresh_bindings()
        self.query_one("#find", Input).focus()

    async def action_clear(self) -> None:
        """Esc: start again with a blank form."""
        await self._reset()
