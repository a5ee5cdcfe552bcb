"""The applicant panel of 一窗受理: find a stored applicant, or type and check a new one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from models import Applicant
from workstation.errors import InvalidInput
from workstation.identity import (
    ORG_AUTHORITIES,
    ORG_KINDS,
    normalise_phone,
    parse_org_code,
    parse_person_id,
)
from workstation.services.applicants import ApplicantInput, Numbers

APPLICANT_FIELDS = ("id-number", "name", "phone", "address")
"""Inputs about the applicant, in the order Enter walks through them."""


def compact(number: str) -> str:
    """An ID or code as typed, without spaces and dashes."""
    return re.sub(r"[\s-]", "", number)


class Note(Static):
    """A line under a field: information in green, an error in bold red; hidden when empty."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, classes="note")
        self.said: tuple[str, bool] = ("", True)
        """What the note says, and whether it is an error."""

    @property
    def is_error(self) -> bool:
        """The note shows an error."""
        return self.said[1] and bool(self.said[0])

    def say(self, text: str = "", *, error: bool = True) -> None:
        """Say ``text`` (an error unless ``error`` is False); nothing hides the note."""
        if self.said == (text, error):
            return  # an unchanged note costs no layout (this runs on every keystroke)
        self.said = (text, error)
        self.update(Text(text))
        self.set_class(self.is_error, "-error")
        self.display = bool(text)


class ApplicantPanel(Vertical):
    """Who applies: a search of stored applicants (collect once), then the four fields."""

    class Search(Message):
        """The search text changed; the screen answers with ``show_found``."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Picked(Message):
        """A stored applicant was picked and filled in (ID and phone masked)."""

        def __init__(self, applicant: Applicant) -> None:
            super().__init__()
            self.applicant = applicant

    def __init__(self, translate: Callable[..., str], language: str, *, id: str) -> None:
        super().__init__(id=id)
        self.t = translate
        """UI text in the operator's language."""
        self.language = language
        self.today = date.min
        """The office's today, for birth dates in person IDs; the screen sets it."""
        self.matter_kind: str | None = None
        """``person`` or ``organisation`` once a matter is picked; the screen sets it."""
        self.stored: Applicant | None = None
        """The stored applicant picked from the search."""
        self.revealed = False
        """The stored applicant's full ID and phone are shown."""
        self.found: list[Applicant] = []
        self.found_for = ""
        """The search text ``found`` answers."""

    def compose(self) -> ComposeResult:
        """Section title, search, what it found, then ID, name, phone and address."""
        t = self.t
        yield Static(t("ui.intake.applicant"), classes="section")
        yield Input(id="find", placeholder=t("ui.intake.find_hint"), compact=True)
        yield OptionList(id="found")
        yield Note(id="found-note")
        for code in APPLICANT_FIELDS:
            with Horizontal(classes="row"):
                yield Label(t(f"ui.intake.{code}"), classes="label")
                yield Input(id=code, placeholder=t(f"ui.intake.{code}_hint"), compact=True)
            yield Note(id=f"{code}-note")

    def on_mount(self) -> None:
        """The search list shows only when it has something."""
        self.query_one("#found", OptionList).display = False

    def field(self, name: str) -> Input:
        """The input ``name`` (``find`` or one of APPLICANT_FIELDS)."""
        return self.query_one(f"#{name}", Input)

    def note(self, name: str, text: str = "", *, error: bool = True) -> None:
        """Say ``text`` under the field ``name``."""
        self.query_one(f"#{name}-note", Note).say(text, error=error)

    # ── search ──────────────────────────────────────────────────────────────────────────
    @on(Input.Changed, "#find")
    def _find_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Search(event.value))

    def show_found(self, found: list[Applicant], text: str) -> None:
        """The stored applicants matching ``text`` (ignored if the clerk typed on)."""
        if text != self.field("find").value:
            return  # the answer to a search the clerk has typed past
        self.found_for = text
        if found or self.found:  # (typing on while nobody matches redraws nothing)
            options = self.query_one("#found", OptionList)
            options.clear_options()
            options.add_options(
                Option(Text(f"{a.name}  {a.id_masked}  {a.phone_masked}")) for a in found
            )
            options.display = bool(found)
            if found:
                options.highlighted = 0
        self.found = found
        note = self.t("ui.intake.found", count=len(found)) if found else ""
        if text.strip() and not found:
            note = self.t("ui.intake.found_none")
        self.note("found", note, error=False)

    def enter_find(self, text: str) -> None:
        """Enter in the search: pick the one highlighted, or carry a new number to its field."""
        highlighted = self.query_one("#found", OptionList).highlighted
        if self.found and highlighted is not None:
            self.fill(self.found[highlighted])
            return
        number = compact(text)
        if re.fullmatch(r"[0-9A-Za-z]{15,18}", number) and not self.stored:
            self.field("id-number").value = number  # a new applicant: the number is kept
            self.field("name").focus()
        else:
            self.screen.focus_next()

    @on(OptionList.OptionSelected, "#found")
    def _found_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.fill(self.found[event.option_index])

    def fill(self, applicant: Applicant) -> None:
        """Fill the fields with a stored applicant; ID and phone stay masked until revealed."""
        self.stored, self.revealed = applicant, False
        for name, value in (
            ("id-number", applicant.id_masked),
            ("phone", applicant.phone_masked),
        ):
            field = self.field(name)
            field.value, field.disabled = value, True
        self.field("name").value = applicant.name
        self.field("address").value = applicant.address
        for name in APPLICANT_FIELDS:
            self.note(name)
        self.note("id-number", self.t("ui.intake.stored"), error=False)
        self.post_message(self.Picked(applicant))

    def reveal(self, numbers: Numbers) -> None:
        """Show the stored applicant's full ID and phone (revealed and audited by the screen)."""
        if self.stored is not None:
            self.revealed = True
            self.field("id-number").value = numbers.id_number
            self.field("phone").value = numbers.phone

    def clear(self) -> None:
        """Blank fields for the next applicant."""
        self.stored, self.revealed, self.matter_kind = None, False, None
        for field in self.query(Input).results(Input):
            field.value, field.disabled = "", False

    # ── a new applicant, checked as it is typed ─────────────────────────────────────────
    def kind(self) -> str:
        """``person`` or ``organisation``: the stored one's, the matter's, or the number's."""
        if self.stored is not None:
            return self.stored.kind
        if self.matter_kind is not None:
            return self.matter_kind
        number = compact(self.field("id-number").value).upper()
        return "person" if re.fullmatch(r"\d{15}|\d{17}[\dX]", number) else "organisation"

    def values(self) -> ApplicantInput:
        """The applicant as the services take it (a stored one by its reference)."""
        name, address = self.field("name").value, self.field("address").value
        if self.stored is not None:
            return ApplicantInput(self.kind(), "", name, "", address, ref=self.stored.ref)
        id_number, phone = self.field("id-number").value, self.field("phone").value
        return ApplicantInput(self.kind(), id_number, name, phone, address)

    @on(Input.Changed, "#id-number")
    def _id_changed(self) -> None:
        self.check_id(final=False)

    @on(Input.Changed, "#phone")
    def _phone_changed(self, event: Input.Changed) -> None:
        self._check_phone(final=len(re.sub(r"\D", "", event.value)) >= 11)

    @on(Input.Blurred, "#id-number")
    def _id_blurred(self) -> None:
        self.check_id(final=True)

    @on(Input.Blurred, "#phone")
    def _phone_blurred(self) -> None:
        self._check_phone(final=True)

    def check_id(self, *, final: bool) -> None:
        """Check digit, birth date and gender (person) or authority and kind (organisation)."""
        if self.stored is not None:
            return
        raw = self.field("id-number").value
        number = compact(raw)
        if not number or (not final and len(number) < 18):
            self.note("id-number")
            return
        try:
            info = self._person(raw) if self.kind() == "person" else self._organisation(raw)
        except InvalidInput as error:
            self.note("id-number", error.message(self.language))
            return
        self.note("id-number", info, error=False)

    def _person(self, raw: str) -> str:
        person = parse_person_id(raw, today=self.today)
        gender = self.t(f"ui.intake.gender_{person.gender}")
        return self.t("ui.intake.person_ok", birth=person.birth_date.isoformat(), gender=gender)

    def _organisation(self, raw: str) -> str:
        org = parse_org_code(raw)
        pick = 0 if self.language.startswith("zh") else 1
        params: dict[str, Any] = {
            "authority": ORG_AUTHORITIES[org.authority][pick],
            "kind": ORG_KINDS[org.kind][pick],
        }
        return self.t("ui.intake.org_ok", **params)

    def _check_phone(self, *, final: bool) -> None:
        raw = self.field("phone").value
        if self.stored is not None or not final or not raw.strip():
            self.note("phone")
            return
        try:
            normalise_phone(raw)
        except InvalidInput as error:
            self.note("phone", error.message(self.language))
            return
        self.note("phone")
