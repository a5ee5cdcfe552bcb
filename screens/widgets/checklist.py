"""The materials checklist (收件清单, with 容缺 dates) and the matter's form, for 一窗受理."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from rich.text import Text
from textual import on
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select

from screens.widgets.applicant import Note
from workstation.catalog.schema import FieldSpec, Material, Matter
from workstation.errors import InvalidInput


class Checklist(Vertical):
    """One checkbox per material; a 容缺 material also takes the date it is promised for."""

    def __init__(self, translate: Callable[..., str], language: str, *, id: str) -> None:
        super().__init__(id=id)
        self.t = translate
        """UI text in the operator's language."""
        self.language = language

    async def show(self, matter: Matter | None) -> None:
        """The checklist of ``matter`` (none for None)."""
        await self.remove_children()
        if matter is not None:
            await self.mount_all(self._row(m) for m in matter.materials)

    def _row(self, material: Material) -> Widget:
        mark = (
            "deferrable" if material.deferrable else "required" if material.required else "optional"
        )
        label = Text(f"{material.name.get(self.language)}（{self.t(f'ui.intake.{mark}')}）")
        children: list[Widget] = [Checkbox(label, id=f"mat-{material.code}", compact=True)]
        if material.deferrable:
            hint = self.t("ui.intake.promise_hint")
            promise = Input(id=f"promise-{material.code}", placeholder=hint, compact=True)
            children.append(promise.add_class("promise"))
        classes = "material" + (" -required" if material.required else "")
        return Horizontal(*children, classes=classes)

    def received(self) -> tuple[str, ...]:
        """Codes of the materials ticked as received."""
        return tuple(
            (box.id or "").removeprefix("mat-") for box in self.query(Checkbox) if box.value
        )

    def deferred(self) -> tuple[dict[str, date], Input | None]:
        """容缺 material → promised date, and the first date field that holds no date."""
        deferred: dict[str, date] = {}
        for promise in self.query(".promise").results(Input):
            code = (promise.id or "").removeprefix("promise-")
            if not promise.value.strip():
                continue
            try:
                deferred[code] = date.fromisoformat(promise.value.strip())
            except ValueError:
                return deferred, promise
        return deferred, None

    @on(Checkbox.Changed)
    def _ticked(self, event: Checkbox.Changed) -> None:
        # Received and deferred exclude each other: ticking clears the promised date.
        code = (event.checkbox.id or "").removeprefix("mat-")
        if event.value and (promise := self.query(f"#promise-{code}")):
            promise.first(Input).value = ""

    @on(Input.Changed, ".promise")
    def _promised(self, event: Input.Changed) -> None:
        code = (event.input.id or "").removeprefix("promise-")
        if event.value.strip():
            self.query_one(f"#mat-{code}", Checkbox).value = False


class MatterForm(Vertical):
    """The matter's own fields (受理表单), each with a note for its error."""

    def __init__(self, translate: Callable[..., str], language: str, *, id: str) -> None:
        super().__init__(id=id)
        self.t = translate
        """UI text in the operator's language."""
        self.language = language
        self.specs: dict[str, FieldSpec] = {}
        """The fields shown, by code."""

    async def show(self, matter: Matter | None) -> None:
        """The fields of ``matter`` (none for None)."""
        await self.remove_children()
        self.specs = {f.code: f for f in matter.fields} if matter else {}
        await self.mount_all(self._row(spec) for spec in self.specs.values())

    def _row(self, spec: FieldSpec) -> Widget:
        label = spec.name.get(self.language) + (" *" if spec.required else "")
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
            Note(id=f"field-{spec.code}-note"),
            classes="field",
        )

    def values(self) -> dict[str, str]:
        """Field code → value, for every field filled in."""
        form: dict[str, str] = {}
        for widget in self.query(".row > *").results():
            if isinstance(widget, Select):
                value = "" if widget.is_blank() else str(widget.value)
            elif isinstance(widget, Input):
                value = widget.value
            else:
                continue
            if value.strip():
                form[(widget.id or "").removeprefix("field-")] = value
        return form

    @on(Input.Blurred)
    def _blurred(self, event: Input.Blurred) -> None:
        """A date is checked as soon as the clerk leaves it (the rest on submit)."""
        code = (event.input.id or "").removeprefix("field-")
        spec = self.specs.get(code)
        if spec is None or spec.kind != "date":
            return
        note = self.query_one(f"#field-{code}-note", Note)
        try:
            if event.value.strip():
                date.fromisoformat(event.value.strip())
        except ValueError:
            error = InvalidInput("error.field.date", field=spec.name.model_dump())
            note.say(error.message(self.language))
            return
        note.say()
