"""Documents as A4 PDFs: the same words and seal as the printed text, for a laser printer.

Chinese needs a font: the first CJK TrueType font found on the system is embedded (Debian's
fonts-wqy-microhei or fonts-wqy-zenhei, for instance); without one the PDF names reportlab's
built-in CID font STSong-Light, which Chinese PDF readers display without embedding it. The
document's sealed text travels inside the PDF (its keywords), so ``doc verify`` checks a PDF
offline exactly as it checks the text.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from functools import lru_cache
from pathlib import Path

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from workstation.documents.content import Document
from workstation.documents.seal import Seal
from workstation.errors import DocumentRefused
from workstation.i18n import translate

FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/STHeiti Light.ttc",
)
"""CJK fonts with TrueType outlines, tried in order (reportlab cannot embed CFF outlines)."""
CID_FONT = "STSong-Light"
MARGIN = 20 * mm
_KEYWORDS = re.compile(rb"/Keywords \(([A-Za-z0-9+/=]+)\)")


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """The name of the font Chinese is set in: an embedded TrueType font, or the CID font."""
    for file in FONT_FILES:
        if Path(file).exists():
            try:
                pdfmetrics.registerFont(TTFont("OneWindowCJK", file, subfontIndex=0))
            except (TTFError, OSError):
                continue
            return "OneWindowCJK"
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def write_pdf(document: Document, body: str, seal: Seal | None, path: Path) -> None:
    """Lay ``document`` out on A4 pages with its QR code; the sealed text rides along."""
    font = cjk_font()
    width, height = A4
    canvas = Canvas(str(path), pagesize=A4, invariant=True)
    canvas.setTitle(document.title)
    canvas.setSubject(document.tracking_no)
    canvas.setAuthor(document.office_code)
    if seal is not None:
        canvas.setKeywords(_payload(body, seal))
    y = height - MARGIN
    right = width - MARGIN

    def line(text: str, size: float = 10.5, *, indent: float = 0, gap: float = 1.5) -> None:
        nonlocal y
        for part in simpleSplit(text, font, size, right - MARGIN - indent) or [""]:
            if y < MARGIN + 42 * mm:  # the QR code and the seal fill the foot of the page
                canvas.showPage()
                y = height - MARGIN
            canvas.setFont(font, size)
            canvas.drawString(MARGIN + indent, y, part)
            y -= size * gap

    canvas.setFont(font, 16)
    canvas.drawCentredString(width / 2, y, document.title)
    y -= 12 * mm
    colon = "：" if document.language.startswith("zh") else ": "
    for label, value in document.fields:
        line(label + colon + value)
    for section in document.sections:
        y -= 5 * mm
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, y + 6 * mm, right, y + 6 * mm)
        line(section.heading, 12)
        for left, aside in section.items:
            line(left, indent=5 * mm)
            if aside:
                line(aside, 9.5, indent=12 * mm)
        if not section.items and section.empty:
            line(section.empty, indent=5 * mm)
    y -= 3 * mm
    for note in document.closing:
        line(note, 9.5)
    if seal is None:
        line(translate("doc.unsealed", document.language), 9.5)
    else:
        _draw_qr(canvas, seal.text(), MARGIN, MARGIN, 36 * mm)
        canvas.setFont(font, 7)
        text = seal.text()
        for row, index in enumerate(range(0, len(text), 64)):
            canvas.drawString(
                MARGIN + 40 * mm, MARGIN + 30 * mm - row * 9, text[index : index + 64]
            )
    canvas.showPage()
    canvas.save()


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float) -> None:
    """A full QR code (not Micro QR) of ``text``, ``size`` points wide, lower left at x, y."""
    rows = [list(row) for row in segno.make(text, micro=False).matrix_iter(border=2)]
    module = size / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                canvas.rect(x + c * module, y + size - (r + 1) * module, module, module, 0, 1)


def _payload(body: str, seal: Seal) -> str:
    data = json.dumps({"body": body, "seal": seal.text()}, ensure_ascii=False).encode()
    return base64.b64encode(data).decode("ascii")


def read_pdf(path: Path) -> tuple[str, Seal]:
    """The sealed text a PDF of ours carries; refused if it carries none."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentRefused("error.doc.unreadable", path=str(path), reason=str(error)) from None
    found = _KEYWORDS.search(data)
    if found is None:
        raise DocumentRefused("error.doc.no_seal")
    try:
        payload = json.loads(base64.b64decode(found.group(1), validate=True))
        return str(payload["body"]), Seal.parse(str(payload["seal"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise DocumentRefused("error.doc.no_seal") from None
