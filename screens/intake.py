"""一窗受理: collect the applicant once, check materials, preview the fan-out, accept, receipt."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    DataTable,
    Footer,
    Input,
    Label,
    OptionList,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from models import Applicant
from screens.base import WorkScreen
from screens.keys import localise_bindings
from workstation.catalog.schema import FieldSpec, Material, Matter
from workstation.errors import ConfigError, InvalidInput, WorkstationError
from workstation.identity import (
    ORG_AUTHORITIES,
    ORG_KINDS,
    mask_id,
    mask_phone,
    normalise_phone,
    parse_org_code,
    parse_person_id,
)
from workstation.receipt import WIDTH, Receipt, print_receipt, qr_lines, receipt_text, save_receipt
from workstation.services.applicants import ApplicantInput
from workstation.services.intake import FanOut, IntakeRequest
from workstation.workbench import MatterChoice

WIDE = 110
"""From this many columns on, the form shows in two columns."""
APPLICANT_FIELDS = ("id-number", "name", "phone", "address")
"""Inputs about the applicant, in the order Enter walks through them."""


class ReceiptScreen(ModalScreen[None]):
    """受理回执: the receipt as it was saved (and printed), with its QR code."""

    BINDINGS = [
        Binding("escape", "dismiss", "ui.intake.receipt.close", id="close-receipt"),
        Binding("enter", "dismiss", "ui.intake.receipt.close", id="close-receipt-enter"),
    ]
    """Esc or Enter closes the receipt; the next applicant's blank form is behind it."""

    def __init__(self, receipt: Receipt, note: str, language: str) -> None:
        super().__init__()
        self.receipt = receipt
        self.note = note
        self.language = language
        localise_bindings(self, language)

    def compose(self) -> ComposeResult:
        """The receipt text, its QR code and what happened to the file."""
        with VerticalScroll(id="receipt"):
            yield Static("", id="receipt-text")
            yield Static(Text("\n".join(qr_lines(self.receipt.tracking_no))), id="receipt-qr")
            yield Static(Text(self.note), id="receipt-note")
        yield Footer()

    def on_resize(self, event: Resize) -> None:
        """The printer's 80 columns, or fewer on a narrow terminal (border and scrollbar)."""
        width = max(40, min(WIDTH, event.size.width - 8))
        text = receipt_text(self.receipt, self.language, qr=False, width=width)
        self.query_one("#receipt-text", Static).update(Text(text))

    async def action_dismiss(self, result: None = None) -> None:
        """Close the receipt."""
        self.dismiss(result)


class IntakeScreen(WorkScreen):
    """The front desk: one applicant, one matter, everything handed over once."""

    CSS_PATH = Path(__file__).with_suffix(".tcss")
    BINDINGS = [
        Binding("f9", "submit", "ui.intake.submit", id="submit"),
        Binding("ctrl+s", "submit", "ui.intake.submit", id="submit-save", show=False),
        Binding("ctrl+r", "reveal", "ui.intake.reveal", id="reveal"),
        Binding("escape", "clear", "ui.intake.clear", id="clear"),
    ]
    """Submit, reveal a stored applicant's ID (audited), clear the form."""

    def __init__(self) -> None:
        super().__init__()
        self.matter: Matter | None = None
        """The matter picked, with its materials, fields and routing."""
        self.fan_out: FanOut | None = None
        """The preview of what accepting would open."""
        self.stored: Applicant | None = None
        """The stored applicant picked from the search (collect once)."""
        self.last_receipt: Receipt | None = None
        """The receipt of the last application accepted here."""
        self._found: list[Applicant] = []
        self._matters: list[MatterChoice] = []
        self._revealed = False
        self._notes: dict[str, tuple[str, bool]] = {}
        self._found_for = ""

    # ── layout ──────────────────────────────────────────────────────────────────────────
    def body(self) -> ComposeResult:
        """Applicant and matter on the left; materials, form and fan-out on the right."""
        t = self.t
        with Horizontal(id="intake-columns"):
            with VerticalScroll(id="intake-left"):
                yield Static(t("ui.intake.applicant"), classes="section")
                yield Input(id="find", placeholder=t("ui.intake.find_hint"), compact=True)
                yield OptionList(id="found")
                yield Static("", id="found-note", classes="note")
                for code in APPLICANT_FIELDS:
                    with Horizontal(classes="row"):
                        yield Label(t(f"ui.intake.{code}"), classes="label")
                        yield Input(id=code, placeholder=t(f"ui.intake.{code}_hint"), compact=True)
                    yield Static("", id=f"{code}-note", classes="note")
                yield Static(t("ui.intake.matter"), classes="section")
                yield Input(
                    id="matter-filter", placeholder=t("ui.intake.matter_hint"), compact=True
                )
                yield OptionList(id="matters")
                yield Static("", id="matter-note", classes="note")
            with VerticalScroll(id="intake-right"):
                yield Static(t("ui.intake.fanout"), classes="section")
                yield DataTable(id="fanout", cursor_type="none", show_cursor=False)
                yield Static("", id="fanout-note", classes="note")
                yield Static(t("ui.intake.materials"), classes="section")
                yield Vertical(id="materials")
                yield Static("", id="materials-note", classes="note")
                yield Static(t("ui.intake.form"), classes="section")
                yield Vertical(id="form")
        yield Static("", id="general-note", classes="note")

    def on_mount(self) -> None:
        """Status bar, the fan-out columns, every matter, focus on the search."""
        super().on_mount()
        table = self.query_one("#fanout", DataTable)
        for key in ("col_task", "col_due", "col_start", "col_department"):
            table.add_column(self.t(f"ui.intake.{key}"), key=key)
        self._matters = self.bench.matters()
        self._filter_matters("")
        self.query_one("#found", OptionList).display = False
        self.query_one("#find", Input).focus()

    def on_resize(self, event: Resize) -> None:
        """Two columns on a wide terminal, one on an 80-column one."""
        self.set_class(event.size.width < WIDE, "-narrow")

    def _note(self, name: str, text: str = "", *, error: bool = True) -> None:
        """Say ``text`` under the field ``name`` (an error unless ``error`` is False)."""
        if self._notes.get(name) == (text, error):
            return  # an unchanged note costs no layout (this runs on every keystroke)
        self._notes[name] = (text, error)
        note = self.query_one(f"#{name}-note", Static)
        note.update(Text(text))
        note.set_class(error and bool(text), "-error")
        note.display = bool(text)

    def _input(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    # ── applicant: find a stored one, or check a new one as it is typed ─────────────────
    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        self._find(event.value)

    @work(thread=True, exclusive=True, group="find")
    def _find(self, text: str) -> None:
        try:
            found = self.bench.find_applicants(text) if text.strip() else []
        except WorkstationError as error:
            self.app.call_from_thread(self._note, "general", self.explain(error))
            return
        self.app.call_from_thread(self._show_found, found, text)

    def _show_found(self, found: list[Applicant], text: str) -> None:
        if text != self._input("find").value:
            return  # the answer to a search the clerk has typed past
        self._found_for = text
        if found or self._found:  # (typing on while nobody matches redraws nothing)
            options = self.query_one("#found", OptionList)
            options.clear_options()
            options.add_options(
                Option(Text(f"{a.name}  {mask_id(a.id_number)}  {mask_phone(a.phone)}"))
                for a in found
            )
            options.display = bool(found)
            if found:
                options.highlighted = 0
        self._found = found
        note = self.t("ui.intake.found", count=len(found)) if found else ""
        if self._input("find").value.strip() and not found:
            note = self.t("ui.intake.found_none")
        self._note("found", note, error=False)

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        if event.value != self._found_for:  # Enter came before the search: search now
            try:
                self._show_found(self.bench.find_applicants(event.value), event.value)
            except WorkstationError as error:
                self._note("general", self.explain(error))
                return
        highlighted = self.query_one("#found", OptionList).highlighted
        if self._found and highlighted is not None:
            self._pick(self._found[highlighted])
            return
        text = re.sub(r"[\s-]", "", event.value)
        if re.fullmatch(r"[0-9A-Za-z]{15,18}", text) and not self.stored:
            self._input("id-number").value = text  # a new applicant: the number is kept
            self._input("name").focus()
        else:
            self.focus_next()

    @on(OptionList.OptionSelected, "#found")
    def _found_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(self._found[event.option_index])

    def _pick(self, applicant: Applicant) -> None:
        """Fill the form with a stored applicant; ID and phone stay masked until revealed."""
        self.stored, self._revealed = applicant, False
        for name, value in (
            ("id-number", mask_id(applicant.id_number)),
            ("phone", mask_phone(applicant.phone)),
        ):
            field = self._input(name)
            field.value, field.disabled = value, True
        self._input("name").value = applicant.name
        self._input("address").value = applicant.address
        for name in APPLICANT_FIELDS:
            self._note(name)
        self._note("id-number", self.t("ui.intake.stored"), error=False)
        self.refresh_bindings()
        self._input("matter-filter" if self.matter is None else "name").focus()

    def action_reveal(self) -> None:
        """Show the stored applicant's full ID and phone; the look is audited."""
        if self.stored is None or self._revealed:
            return
        self.bench.reveal(self.stored.id_number)
        self._revealed = True
        self._input("id-number").value = self.stored.id_number
        self._input("phone").value = self.stored.phone

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Reveal only makes sense for a stored applicant."""
        if action == "reveal":
            return (self.stored is not None and not self._revealed) or None
        return super().check_action(action, parameters)

    def _kind(self) -> str:
        if self.stored is not None:
            return self.stored.kind
        if self.matter is not None:
            return self.matter.applicant_kind
        number = re.sub(r"[\s-]", "", self._input("id-number").value).upper()
        return "person" if re.fullmatch(r"\d{15}|\d{17}[\dX]", number) else "organisation"

    @on(Input.Changed, "#id-number")
    def _id_changed(self) -> None:
        self._check_id(final=False)

    @on(Input.Changed, "#phone")
    def _phone_changed(self, event: Input.Changed) -> None:
        self._check_phone(final=len(re.sub(r"\D", "", event.value)) >= 11)

    @on(Input.Blurred, "#id-number")
    def _id_blurred(self) -> None:
        self._check_id(final=True)

    @on(Input.Blurred, "#phone")
    def _phone_blurred(self) -> None:
        self._check_phone(final=True)

    def _check_id(self, *, final: bool) -> None:
        """Check digit, birth date and gender (person) or authority and kind (organisation)."""
        if self.stored is not None:
            return
        raw = self._input("id-number").value
        number = re.sub(r"[\s-]", "", raw)
        if not number or (not final and len(number) < 18):
            self._note("id-number")
            return
        t, lang = self.t, self.workstation.language
        try:
            if self._kind() == "person":
                person = parse_person_id(raw, today=self.bench.now().date())
                gender = t(f"ui.intake.gender_{person.gender}")
                info = t("ui.intake.person_ok", birth=person.birth_date.isoformat(), gender=gender)
            else:
                org = parse_org_code(raw)
                pick = 0 if lang.startswith("zh") else 1
                info = t(
                    "ui.intake.org_ok",
                    authority=ORG_AUTHORITIES[org.authority][pick],
                    kind=ORG_KINDS[org.kind][pick],
                )
        except InvalidInput as error:
            self._note("id-number", self.explain(error))
            return
        self._note("id-number", info, error=False)

    def _check_phone(self, *, final: bool) -> None:
        raw = self._input("phone").value
        if self.stored is not None or not final or not raw.strip():
            self._note("phone")
            return
        try:
            normalise_phone(raw)
        except InvalidInput as error:
            self._note("phone", self.explain(error))
            return
        self._note("phone")

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
        language, t = self.workstation.language, self.t
        self._note(
            "matter",
            t("ui.intake.chosen", matter=matter.name.get(language), days=matter.time_limit_days),
            error=False,
        )
        materials, form = self.query_one("#materials"), self.query_one("#form")
        await self._clear_lists()
        await materials.mount_all(self._material_row(m) for m in matter.materials)
        await form.mount_all(self._field_row(f) for f in matter.fields)
        self._note("materials")
        self._check_id(final=True)
        self._preview()
        self.query_one("#materials Checkbox", Checkbox).focus()

    def _material_row(self, material: Material) -> Widget:
        mark = (
            "deferrable" if material.deferrable else "required" if material.required else "optional"
        )
        label = Text(
            f"{material.name.get(self.workstation.language)}（{self.t(f'ui.intake.{mark}')}）"
        )
        children: list[Widget] = [Checkbox(label, id=f"mat-{material.code}", compact=True)]
        if material.deferrable:
            children.append(
                Input(
                    id=f"promise-{material.code}",
                    placeholder=self.t("ui.intake.promise_hint"),
                    compact=True,
                    classes="promise",
                )
            )
        return Horizontal(
            *children, classes="material" + (" -required" if material.required else "")
        )

    def _field_row(self, spec: FieldSpec) -> Widget:
        label = spec.name.get(self.workstation.language) + (" *" if spec.required else "")
        field: Widget
        if spec.kind == "choice":
            choices = [(choice, choice) for choice in spec.choices]
            field = Select(
                choices, prompt=self.t("ui.intake.choose"), compact=True, id=f"field-{spec.code}"
            )
        else:
            types = {"integer": "integer", "decimal": "number"}
            field = Input(
                id=f"field-{spec.code}",
                type=types.get(spec.kind, "text"),  # type: ignore[arg-type]
                max_length=spec.max_length if spec.kind == "text" else 0,
                placeholder="YYYY-MM-DD" if spec.kind == "date" else "",
                compact=True,
            )
        return Vertical(
            Horizontal(Label(Text(label), classes="label"), field, classes="row"),
            Static("", id=f"field-{spec.code}-note", classes="note"),
            classes="field",
        )

    @on(Input.Blurred, "#form Input")
    def _field_blurred(self, event: Input.Blurred) -> None:
        """A date is checked as soon as the clerk leaves it (the rest on submit)."""
        code = (event.input.id or "").removeprefix("field-")
        spec = (
            next((f for f in self.matter.fields if f.code == code), None) if self.matter else None
        )
        if spec is None or spec.kind != "date":
            return
        try:
            if event.value.strip():
                date.fromisoformat(event.value.strip())
        except ValueError:
            error = InvalidInput("error.field.date", field=spec.name.model_dump())
            self._note(f"field-{code}", self.explain(error))
            return
        self._note(f"field-{code}")

    @on(Checkbox.Changed)
    def _material_ticked(self, event: Checkbox.Changed) -> None:
        # Received and deferred exclude each other: ticking clears the promised date.
        code = (event.checkbox.id or "").removeprefix("mat-")
        if event.value and (promise := self.query(f"#promise-{code}")):
            promise.first(Input).value = ""

    @on(Input.Changed, ".promise")
    def _promised(self, event: Input.Changed) -> None:
        code = (event.input.id or "").removeprefix("promise-")
        if event.value.strip():
            self.query_one(f"#mat-{code}", Checkbox).value = False

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
            waits = [self.matter.task(code).department for code in task.waits_for]
            start = (
                t("ui.intake.waits", tasks="、".join(waits)) if waits else t("ui.intake.at_once")
            )
            table.add_row(
                Text(self.matter.task(task.code).name.get(language)),
                task.due.isoformat() + ("" if task.opens_at_once else "*"),
                Text(start),
                task.department,
                key=task.code,
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
        if self.stored is not None:
            id_number, phone = self.stored.id_number, self.stored.phone
        else:
            id_number, phone = self._input("id-number").value, self._input("phone").value
        applicant = ApplicantInput(
            self._kind(), id_number, self._input("name").value, phone, self._input("address").value
        )
        form: dict[str, str] = {}
        for widget in self.query("#form .row > *").results():
            if isinstance(widget, Select):
                value = "" if widget.is_blank() else str(widget.value)
            elif isinstance(widget, Input):
                value = widget.value
            else:
                continue
            if value.strip():
                form[(widget.id or "").removeprefix("field-")] = value
        return IntakeRequest(applicant, self.matter.code, received, deferred or {}, form)

    def _deferred(self, matter: Matter) -> dict[str, date] | None:
        """容缺 material → promised date; None (and the error shown) if a date is not one."""
        deferred: dict[str, date] = {}
        for promise in self.query(".promise").results(Input):
            code = (promise.id or "").removeprefix("promise-")
            if not promise.value.strip():
                continue
            try:
                deferred[code] = date.fromisoformat(promise.value.strip())
            except ValueError:
                material = matter.material(code)
                name = material.name.get(self.workstation.language) if material else code
                self._note("materials", self.t("ui.intake.promise_bad", material=name))
                promise.focus()
                return None
        return deferred

    def action_submit(self) -> None:
        """Accept the application; errors show beside the field they concern."""
        matter = self.matter
        if matter is None:
            self._note("general", self.t("ui.intake.pick_matter_first"))
            self._input("matter-filter").focus()
            return
        self._clear_errors()
        deferred = self._deferred(matter)
        if deferred is None:
            return
        received = tuple(
            m.code for m in matter.materials if self.query_one(f"#mat-{m.code}", Checkbox).value
        )
        self._note("general", self.t("ui.intake.submitting"), error=False)
        self._accept(self._request(received, deferred), matter)

    @work(thread=True, exclusive=True, group="accept")
    def _accept(self, request: IntakeRequest, matter: Matter) -> None:
        try:
            result = self.bench.accept(request)
        except WorkstationError as error:
            self.app.call_from_thread(self._refused, error)
            return
        language = self.workstation.language
        office, clerk = self.bench.office(), self.bench.me
        receipt = Receipt.of(
            result,
            matter,
            language=language,
            office=office.name,
            applicant=request.applicant.name.strip(),
            applicant_id=mask_id(re.sub(r"[\s-]", "", request.applicant.id_number).upper()),
            clerk=clerk.name,
            accepted_at=self.bench.now(),
        )
        self.app.call_from_thread(self._accepted, receipt, self._file(receipt))

    def _file(self, receipt: Receipt) -> str:
        """Save the receipt (and print it if a printer is set); says what happened."""
        settings, language, t = self.bench.settings, self.workstation.language, self.t
        text = receipt_text(receipt, language)
        try:
            path = save_receipt(text, receipt.tracking_no, settings.documents_dir)
        except OSError as error:
            return t("ui.intake.receipt.save_failed", reason=str(error))
        note = t("ui.intake.receipt.saved", path=str(path))
        if not settings.printer:
            return note
        try:
            print_receipt(path, settings.printer)
        except ConfigError as error:
            return note + " " + t("ui.intake.receipt.print_failed", reason=error.message(language))
        return note + " " + t("ui.intake.receipt.printed", printer=settings.printer)

    def _refused(self, error: WorkstationError) -> None:
        """Show the error beside the field it concerns; nothing was stored."""
        message = self.explain(error)
        self._note("general")
        key, field = error.key, error.params.get("field")
        target = "general"
        if key.startswith(("error.id.", "error.uscc.", "error.applicant.")):
            target = "id-number"
        elif key.startswith("error.phone."):
            target = "phone"
        elif key.startswith("error.material."):
            target = "materials"
        elif field in ("field.name", "field.address"):
            target = str(field).removeprefix("field.")
        elif key.startswith("error.field.") and self.matter is not None:
            spec = next((f for f in self.matter.fields if f.name.model_dump() == field), None)
            target = f"field-{spec.code}" if spec else "general"
        self._note(target, message)
        if target == "materials" and self.matter is not None:
            named = error.params.get("material")
            spec = next((m for m in self.matter.materials if m.name.model_dump() == named), None)
            target = f"mat-{spec.code}" if spec else target
        focus = self.query(f"#{target}")
        if focus and focus.first().focusable:
            focus.first().focus()

    def _accepted(self, receipt: Receipt, note: str) -> None:
        self.last_receipt = receipt
        self.run_worker(self._reset())
        self.app.push_screen(ReceiptScreen(receipt, note, self.workstation.language))

    # ── clear ───────────────────────────────────────────────────────────────────────────
    def _clear_errors(self) -> None:
        for name, (_, error) in list(self._notes.items()):
            if error:
                self._note(name)

    async def _clear_lists(self) -> None:
        """Take away the checklist and the form (their notes go with them)."""
        await self.query_one("#materials").remove_children()
        await self.query_one("#form").remove_children()
        self._notes = {k: v for k, v in self._notes.items() if not k.startswith("field-")}

    async def _reset(self) -> None:
        """A blank form for the next applicant."""
        self.matter, self.fan_out, self.stored, self._revealed = None, None, None, False
        for field in self.query("#intake-left Input").results(Input):
            field.value, field.disabled = "", False
        for name in list(self._notes):
            self._note(name)
        await self._clear_lists()
        self.query_one("#fanout", DataTable).clear()
        self.refresh_bindings()
        self.query_one("#find", Input).focus()

    async def action_clear(self) -> None:
        """Esc: start again with a blank form."""
        await self._reset()
