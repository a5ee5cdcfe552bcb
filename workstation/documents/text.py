"""Documents as plain text for an 80-column receipt printer, sealed with a QR code.

Above the seal mark is the document's text, which the seal's hash covers; below it the QR
code and the same seal in characters, so a clerk can check a paper by typing or scanning it.
"""

from __future__ import annotations

from workstation.documents.columns import cells, centre, item, qr_lines, wrap
from workstation.documents.content import Document
from workstation.documents.seal import Seal
from workstation.errors import DocumentRefused

WIDTH = 80
"""Columns of the receipt printer; a wide (CJK) character takes two."""
MARK = "- - - - - - - - - - - - - - - - -  OW1  - - - - - - - - - - - - - - - - - -"
"""The line between a document's text and its seal (the same in every language)."""
SEAL_LINE = 64
"""Characters of the seal per printed line."""


def body_text(document: Document, width: int = WIDTH) -> str:
    """The document's text: no line wider than ``width`` columns (wide characters: 2)."""
    rule, thin = "=" * width, "-" * width
    lines = [rule, *(centre(x, width) for x in wrap(document.title, width)), rule]
    colon = "：" if document.language.startswith("zh") else ": "
    for label, value in document.fields:
        head = label + colon
        parts = wrap(value, width - cells(head))
        lines.append(head + parts[0])
        lines += [" " * cells(head) + part for part in parts[1:]]
    for section in document.sections:
        lines += [thin, section.heading]
        for left, right in section.items:
            if right and cells(right) > width // 3:
                # A long right side (what a task waits for) goes on its own line below.
                lines += ["  " + x for x in wrap(left, width - 2)]
                lines += ["    " + x for x in wrap(right, width - 4)]
            elif right:
                lines += item(left, right, width)
            else:
                lines += ["  " + x for x in wrap(left, width - 2)]
        if not section.items and section.empty:
            lines.append("  " + section.empty)
    lines.append(thin)
    for note in document.closing:
        lines += wrap(note, width)
    return "\n".join(lines) + "\n"


def sealed_text(body: str, found: Seal, width: int = WIDTH) -> str:
    """The document's text, the mark, its QR code and the seal in characters."""
    code = qr_lines(found.text())
    margin = " " * max(0, (width - max(cells(x) for x in code)) // 2)
    seal = found.text()
    chunks = [seal[i : i + SEAL_LINE] for i in range(0, len(seal), SEAL_LINE)]
    lines = [MARK, *((margin + x).rstrip() for x in code), *(centre(c, width) for c in chunks)]
    return body + "\n".join(lines) + "\n" + "=" * width + "\n"


def split(text: str) -> tuple[str, Seal]:
    """A printed document's text and its seal; refused if it carries none."""
    body, mark, rest = text.partition(MARK + "\n")
    if not mark:
        raise DocumentRefused("error.doc.no_seal")
    chunks = [
        line.strip()
        for line in rest.splitlines()
        if line.strip() and set(line.strip()) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567:0123456789")
    ]
    return body, Seal.parse("".join(chunks))
