"""What each document for the applicant says, read from the catalog and the log, never typed.

A document is a title, labelled fields and sections of items, all in one language. The same
case and the same log give the same document, so a reprint is the very same paper (and the
same seal); the one-time notice of what is still owed says what is owed on the day printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models import Applicant, Application, ApplicationMaterial, Department, Event, Operator, Task
from workstation.catalog.schema import Matter
from workstation.errors import Conflict, InvalidInput, NotFound
from workstation.eventlog import decode
from workstation.i18n import translate
from workstation.services.cases import get_application
from workstation.services.intake import matter as published_matter
from workstation.services.office import local_office

KINDS = ("acceptance", "owed", "supplement", "refusal", "delivery")
"""受理回执 · 一次性告知书 · 补正告知书 · 不予受理通知书 · 送达回执."""


@dataclass(frozen=True)
class Section:
    """A heading and its items (left text, right text); ``empty`` when it has none."""

    heading: str
    items: tuple[tuple[str, str], ...]
    empty: str = ""


@dataclass(frozen=True)
class Document:
    """One document for the applicant, every word in ``language``."""

    kind: str
    tracking_no: str
    language: str
    office_code: str
    title: str
    fields: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    closing: tuple[str, ...]


@dataclass(frozen=True)
class _Case:
    application: Application
    applicant: Applicant
    matter: Matter
    office_name: str
    office_code: str
    language: str

    def t(self, key: str, **params: object) -> str:
        return translate(f"doc.{key}", self.language, **params)

    def names(self, zh: str, en: str) -> str:
        return zh if self.language.startswith("zh") else en

    def aside(self, text: str, note: str) -> str:
        """``text（note）`` in Chinese, ``text (note)`` in English."""
        return f"{text}（{note}）" if self.language.startswith("zh") else f"{text} ({note})"

    def material(self, code: str) -> str:
        spec = self.matter.material(code)
        return spec.name.get(self.language) if spec else code

    def head(self, kind: str, *extra: tuple[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The document's title and the fields every document starts with."""
        applicant = self.aside(self.applicant.name, self.applicant.id_masked)
        fields = (
            (self.t("tracking"), self.application.tracking_no),
            (self.t("matter"), self.matter.name.get(self.language)),
            (self.t("applicant"), applicant),
            *extra,
        )
        return self.t(f"{kind}.title", office=self.office_name), fields


def build(
    session: Session,
    kind: str,
    tracking_no: str,
    *,
    language: str,
    now: datetime,
    task_id: str = "",
) -> Document:
    """The document ``kind`` of a case (``task_id`` names the task of a 补正告知书)."""
    if kind not in KINDS:
        raise InvalidInput("error.doc.kind", kind=kind, kinds=", ".join(KINDS))
    application = get_application(session, tracking_no)
    applicant = session.get(Applicant, application.applicant_id)
    assert applicant is not None  # a foreign key guarantees it
    here = local_office(session)
    case = _Case(
        application,
        applicant,
        published_matter(session, application.matter_code),
        here.name,
        here.code,
        language,
    )
    builders = {
        "acceptance": _acceptance,
        "owed": _owed,
        "refusal": _refusal,
        "delivery": _delivery,
    }
    if kind == "supplement":
        title, fields, sections, closing = _supplement(session, case, task_id, now)
    else:
        title, fields, sections, closing = builders[kind](session, case, now)
    return Document(
        kind, application.tracking_no, language, here.code, title, fields, sections, closing
    )


_Parts = tuple[str, tuple[tuple[str, str], ...], tuple[Section, ...], tuple[str, ...]]


def _operator_name(session: Session, office: str, username: str) -> str:
    operator = session.get(Operator, (office, username))
    return operator.name if operator is not None else username


def _department(session: Session, case: _Case, code: str) -> str:
    row = session.get(Department, code)
    return case.names(row.name_zh, row.name_en) if row is not None else code


def _when(at: datetime | None, zone: tzinfo | None) -> str:
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M}" if at is not None else ""


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _tasks(session: Session, tracking_no: str) -> list[Task]:
    query = select(Task).where(col(Task.tracking_no) == tracking_no).order_by(col(Task.id))
    return list(session.scalars(query))


def _event(session: Session, tracking_no: str, kind: str, task_id: str = "") -> Event | None:
    """The newest event ``kind`` of the case (of ``task_id``, if given)."""
    query = (
        select(Event)
        .where(col(Event.subject) == tracking_no, col(Event.type) == kind)
        .order_by(col(Event.id).desc())
    )
    for event in session.scalars(query):
        if not task_id or decode(event.payload)["body"].get("task") == task_id:
            return event
    return None


def _acceptance(session: Session, case: _Case, now: datetime) -> _Parts:
    app = case.application
    if app.status == "refused":
        raise Conflict("error.doc.refused_case", tracking_no=app.tracking_no)
    due = _day(app.due_date) + (case.t("estimated") if app.due_estimated else "")
    title, fields = case.head(
        "acceptance",
        (case.t("accepted"), _when(app.accepted_at, now.tzinfo)),
        (case.t("clerk"), _operator_name(session, app.origin, app.accepted_by)),
        (case.t("due"), due),
        (case.t("access_code"), app.access_code or "—"),
    )
    specs = {t.code: t for t in case.matter.tasks}
    tasks = []
    for task in _tasks(session, app.tracking_no):
        spec = specs.get(task.task_code)
        name = spec.name.get(case.language) if spec else task.task_code
        left = case.aside(name, _department(session, case, task.department_code))
        if task.due_date is not None:
            tasks.append((left, case.t("due_on", due=_day(task.due_date))))
        else:
            waits = (
                "、".join(specs[w].name.get(case.language) for w in spec.depends_on) if spec else ""
            )
            tasks.append((left, case.t("waits", tasks=waits)))
    materials = _materials(session, app.tracking_no)
    received = tuple(
        (case.material(m.material_code), "") for m in materials if m.status == "received"
    )
    owed = tuple(
        (case.material(m.material_code), case.t("promised", date=_day(m.promised_date)))
        for m in materials
        if m.status == "owed"
    )
    sections = (
        Section(case.t("tasks"), tuple(tasks)),
        Section(case.t("received"), received, case.t("none")),
        Section(case.t("owed_heading"), owed, case.t("none_owed")),
    )
    return title, fields, sections, (case.t("acceptance.closing"),)


def _materials(session: Session, tracking_no: str) -> list[ApplicationMaterial]:
    query = (
        select(ApplicationMaterial)
        .where(col(ApplicationMaterial.tracking_no) == tracking_no)
        .order_by(col(ApplicationMaterial.material_code))
    )
    return list(session.scalars(query))


def _owed(session: Session, case: _Case, now: datetime) -> _Parts:
    app = case.application
    asked: dict[str, str] = {}
    for task in _tasks(session, app.tracking_no):
        event = _event(session, app.tracking_no, "task.supplement_requested", task.id)
        if task.state == "supplement" and event is not None:
            by = str(decode(event.payload)["body"].get("by", ""))
            for code in task.requested:
                asked[code] = min(asked.get(code, by), by) if by else asked.get(code, "")
    items = []
    for row in _materials(session, app.tracking_no):
        if row.status == "owed":
            items.append(
                (case.material(row.material_code), case.t("promised", date=_day(row.promised_date)))
            )
        elif row.status == "requested":
            by = asked.get(row.material_code, "")
            right = case.t("supplement_by", date=by) if by else case.t("supplement_asked")
            items.append((case.material(row.material_code), right))
    title, fields = case.head("owed", (case.t("issued"), f"{now:%Y-%m-%d}"))
    return (
        title,
        fields,
        (Section(case.t("owed_heading"), tuple(items), case.t("none_owed")),),
        (case.t("owed.closing"),),
    )


def _supplement(session: Session, case: _Case, task_id: str, now: datetime) -> _Parts:
    app = case.application
    task = session.get(Task, task_id.strip()) if task_id else None
    if task is None or task.tracking_no != app.tracking_no:
        raise NotFound("error.task.unknown", task=task_id or "—")
    event = _event(session, app.tracking_no, "task.supplement_requested", task.id)
    if event is None:
        raise Conflict("error.doc.no_supplement", task=task.id)
    body: dict[str, Any] = decode(event.payload)["body"]
    title, fields = case.head(
        "supplement",
        (case.t("department"), _department(session, case, task.department_code)),
        (case.t("requested"), _when(datetime.fromisoformat(event.ts), now.tzinfo)),
        (case.t("by"), str(body.get("by", "")) or "—"),
    )
    items = tuple((case.material(code), "") for code in body["materials"])
    sections = (
        Section(case.t("asked"), items),
        Section(case.t("reason"), ((str(body["reason"]), ""),)),
    )
    return title, fields, sections, (case.t("supplement.closing"),)


def _refusal(session: Session, case: _Case, now: datetime) -> _Parts:
    app = case.application
    if app.status != "refused":
        raise Conflict("error.doc.not_refused", tracking_no=app.tracking_no)
    title, fields = case.head(
        "refusal",
        (case.t("decided"), _when(app.accepted_at, now.tzinfo)),
        (case.t("clerk"), _operator_name(session, app.origin, app.accepted_by)),
    )
    sections = (Section(case.t("reason"), ((app.reason, ""),)),)
    return title, fields, sections, (case.t("refusal.closing"),)


def _delivery(session: Session, case: _Case, now: datetime) -> _Parts:
    app = case.application
    event = _event(session, app.tracking_no, "application.delivered")
    if app.status != "delivered" or event is None:
        raise Conflict("error.doc.not_delivered", tracking_no=app.tracking_no)
    title, fields = case.head(
        "delivery",
        (case.t("delivered"), _when(app.delivered_at, now.tzinfo)),
        (case.t("delivered_by"), _operator_name(session, event.origin, event.actor)),
    )
    specs = {t.code: t for t in case.matter.tasks}
    permits = tuple(
        (spec.permit.get(case.language), task.permit_no)
        for task in _tasks(session, app.tracking_no)
        if (spec := specs.get(task.task_code)) is not None and spec.permit and task.permit_no
    )
    sections = (Section(case.t("permits"), permits, case.t("none")),)
    return title, fields, sections, (case.t("delivery.closing"),)
