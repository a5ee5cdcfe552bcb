"""`onewindow doc`: print or reprint an applicant's document, and check a paper offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workstation import documents
from workstation.cli.context import Context, guarded
from workstation.documents.printer import send_to_printer

doc_app = typer.Typer(
    help="Documents for the applicant: print, reprint, verify.", no_args_is_help=True
)


@doc_app.command("print")
def doc_print(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(documents.KINDS)}.")],
    tracking_no: Annotated[str, typer.Argument(help="Tracking number of the case.")],
    task: Annotated[str, typer.Option(help="The task of a supplement notice.")] = "",
    language: Annotated[str, typer.Option(help="zh_CN or en (default: yours).")] = "",
    pdf: Annotated[bool, typer.Option(help="Also write the A4 PDF.")] = False,
) -> None:
    """Make a sealed document of a case: saved in the documents folder, sent to lp if set."""
    with guarded(login=True) as ctx:
        file_paper(ctx, kind, tracking_no, task=task, language=language, pdf=pdf)


def file_paper(
    ctx: Context, kind: str, tracking_no: str, *, task: str = "", language: str = "",
    pdf: bool = False,
) -> None:  # fmt: skip
    """Issue a document as the logged-in operator, save it (and its PDF), print it if set."""
    settings = ctx.settings
    with ctx.read() as session:
        issued = documents.issue(
            session, kind, tracking_no, actor=ctx.actor,
            language=language or settings.language, key_dir=settings.key_dir,
            now=ctx.now(), task_id=task,
        )  # fmt: skip
    path = documents.save(issued, settings.documents_dir)
    ctx.say("cli.doc_saved", path=str(path))
    if pdf:
        ctx.say("cli.doc_saved", path=str(documents.save_pdf(issued, settings.documents_dir)))
    if settings.printer:
        send_to_printer(path, settings.printer)
        ctx.say("cli.doc_printed", printer=settings.printer)


@doc_app.command("verify")
def doc_verify(
    file: Annotated[
        Path | None, typer.Argument(help="A saved document: its text file or its PDF.")
    ] = None,
    qr: Annotated[str, typer.Option(help="The text of a document's QR code.")] = "",
) -> None:
    """Check offline that a document is genuine (and, given its text or PDF, unchanged)."""
    with guarded() as ctx:
        if not qr and file is None:
            ctx.fail_key("error.doc.nothing")
        with ctx.read() as session:
            if qr:
                found, office = documents.verify_seal(session, qr)
            else:
                assert file is not None
                found, office = documents.verify_file(session, file)
        ctx.say(
            "cli.doc_genuine_qr" if qr else "cli.doc_genuine",
            kind=f"doc.kind.{found.kind}",
            tracking_no=found.tracking_no,
            office=f"{office.name}（{office.code}）",
        )


def register(app: typer.Typer) -> None:
    """Add the document commands to ``app``."""
    app.add_typer(doc_app, name="doc")
