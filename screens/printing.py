"""Saving and printing the documents of a case from a screen, in a thread worker.

Each document is saved as text in the documents folder and sent to the printer when one is
set; the one-line outcome says where it went, in the operator's words. The A4 PDFs follow in
a worker of their own: the first one in a process loads reportlab and a CJK font (about a
second on a slow PC), which the applicant at the window should not wait for.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App

from workstation import documents
from workstation.documents.printer import send_to_printer
from workstation.errors import ConfigError
from workstation.services.cases import CaseView
from workstation.settings import Settings


def document_choices(
    view: CaseView, t: Callable[..., str], task_name: Callable[[str], str]
) -> list[tuple[str, str]]:
    """The documents a case has, as ``kind|task`` codes with their names, for a chooser."""
    status = view.application.status
    kinds = [("refusal", "")] if status == "refused" else [("acceptance", "")]
    if any(row.status in ("owed", "requested") for row in view.materials):
        kinds.append(("owed", ""))
    kinds += [("supplement", task.id) for task in view.tasks if task.state == "supplement"]
    if status == "delivered":
        kinds.append(("delivery", ""))
    named = []
    for kind, task in kinds:
        label = t(f"doc.kind.{kind}")
        named.append(
            (f"{kind}|{task}", f"{label} · {task_name(task.split('/')[-1])}" if task else label)
        )
    return named


def file_documents(
    papers: list[documents.Issued],
    settings: Settings,
    t: Callable[..., str],
    language: str,
    app: App[Any],
) -> str:
    """Save (and print) each document, from a thread worker; what happened, in one line."""
    notes = []
    app.call_from_thread(
        app.run_worker, partial(_write_pdfs, papers, settings, t, app), thread=True, group="pdf"
    )
    for issued in papers:
        try:
            path = documents.save(issued, settings.documents_dir)
        except OSError as error:
            notes.append(t("ui.intake.receipt.save_failed", reason=str(error)))
            continue
        notes.append(t("ui.intake.receipt.saved", path=str(path)))
        if settings.printer:
            try:
                send_to_printer(path, settings.printer)
            except ConfigError as error:
                reason = error.message(language)
                notes.append(t("ui.intake.receipt.print_failed", reason=reason))
            else:
                notes.append(t("ui.intake.receipt.printed", printer=settings.printer))
    return " ".join(notes)


def _write_pdfs(
    papers: list[documents.Issued], settings: Settings, t: Callable[..., str], app: App[Any]
) -> None:
    for issued in papers:
        try:
            documents.save_pdf(issued, settings.documents_dir)
        except OSError as error:
            message = t("ui.intake.receipt.save_failed", reason=str(error))
            app.call_from_thread(app.notify, message, severity="error")
