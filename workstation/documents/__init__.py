"""Documents for the applicant: built from the log, laid out for paper, sealed, verifiable.

``issue`` builds a document of a case, lays it out for an 80-column printer and seals it
with the office key; ``verify`` checks a printed one (its text, or only its QR text) offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from models import Office
from workstation import officekey
from workstation.documents.columns import wrap
from workstation.documents.content import KINDS as KINDS
from workstation.documents.content import Document, build
from workstation.documents.seal import Seal, check, seal
from workstation.documents.text import WIDTH, body_text, sealed_text, split
from workstation.errors import ConfigError, DocumentRefused
from workstation.i18n import translate
from workstation.services.auth import Actor, require


@dataclass(frozen=True)
class Issued:
    """A sealed document: what it says, its text and its seal."""

    document: Document
    body: str
    seal: Seal | None
    """None where the office has no office key yet: the paper says it is not sealed."""
    text: str
    """The whole printed text: the body, the mark, the QR code and the seal."""

    def file_name(self, suffix: str) -> str:
        """``<kind>-<tracking no>-<language>.<suffix>``: a reprint replaces its earlier file."""
        document = self.document
        return f"{document.kind}-{document.tracking_no}-{document.language}.{suffix}"


def issue(
    session: Session,
    kind: str,
    tracking_no: str,
    *,
    actor: Actor,
    language: str,
    key_dir: Path,
    now: datetime,
    task_id: str = "",
) -> Issued:
    """Build, lay out and seal the document ``kind`` of a case, in ``language``."""
    require(actor, "read_cases")
    document = build(session, kind, tracking_no, language=language, now=now, task_id=task_id)
    body = body_text(document)
    try:
        key = officekey.load(key_dir, document.office_code)
    except ConfigError:
        # The applicant still gets the paper; it says plainly that it cannot be verified.
        note = translate("doc.unsealed", language)
        return Issued(document, body, None, body + "\n".join(wrap(note, WIDTH)) + "\n")
    found = seal(
        body, tracking_no=document.tracking_no, kind=kind, office=document.office_code, key=key
    )
    return Issued(document, body, found, sealed_text(body, found))


def save(issued: Issued, directory: Path) -> Path:
    """Write the text of a document to ``directory`` (created if needed); the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / issued.file_name("txt")
    path.write_text(issued.text, encoding="utf-8")
    return path


def save_pdf(issued: Issued, directory: Path) -> Path:
    """Write the A4 PDF of a document to ``directory`` (created if needed); the file."""
    from workstation.documents.pdf import write_pdf  # reportlab loads only when a PDF is made

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / issued.file_name("pdf")
    write_pdf(issued.document, issued.body, issued.seal, path)
    return path


def verify_file(session: Session, path: Path) -> tuple[Seal, Office]:
    """Check a saved document, text or PDF, offline."""
    if path.suffix.lower() == ".pdf":
        from workstation.documents.pdf import read_pdf

        body, found = read_pdf(path)
        return found, check(session, found, body)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DocumentRefused("error.doc.unreadable", path=str(path), reason=str(error)) from None
    return verify_text(session, text)


def verify_text(session: Session, text: str) -> tuple[Seal, Office]:
    """Check a printed document's text: genuine, unchanged, of the case its seal names."""
    body, found = split(text)
    return found, check(session, found, body)


def verify_seal(session: Session, qr_text: str) -> tuple[Seal, Office]:
    """Check only a QR code's text: signed by an office this workstation knows."""
    found = Seal.parse(qr_text)
    return found, check(session, found)
