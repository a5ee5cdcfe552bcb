"""Documents for the applicant: every kind of the hotel example, both languages, sealed.

The 80-column texts are compared with golden files in ``tests/golden/documents`` (set
``UPDATE_GOLDEN=1`` to rewrite them after a deliberate change; the random access
code is masked there). Every document verifies; one changed character, a QR code of another
case and a seal by an office this workstation does not know are each refused with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from tests.levels import township_card
from workstation import documents
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.documents import pdf
from workstation.documents.columns import cells
from workstation.documents.seal import Seal, seal
from workstation.documents.text import sealed_text, split
from workstation.errors import Conflict, DocumentRefused, PermissionDenied
from workstation.services import cases, intake, tasks

GOLDEN = Path(__file__).parent / "golden" / "documents"
PERMITS = {
    "licence": "91610102MA0001",
    "health": "卫公证字〔2026〕第061号",
    "fire": "消检字〔2026〕第118号",
    "police": "特行字〔2026〕第007号",
}


@dataclass(frozen=True)
class Papers:
    """The hotel case at each moment a document is printed, and a refused application."""

    hall: Hall
    accepted: str
    refused: str
    texts: dict[tuple[str, str], str]
    """(kind, language) → the sealed text printed at that moment."""


def issue_all(hall: Hall, kind: str, number: str, task_id: str = "") -> dict[tuple[str, str], str]:
    """The sealed text of ``kind`` in both languages."""
    with reading(hall.engine) as session:
        return {
            (kind, language): documents.issue(
                session, kind, number, actor=hall.clerk, language=language, key_dir=hall.key_dir,
                now=NOW + timedelta(days=2), task_id=task_id,
            ).text
            for language in ("zh_CN", "en")
        }  # fmt: skip


@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> Papers:
    """Run the hotel example through the services, printing each document when it is due."""
    root = tmp_path_factory.mktemp("papers")
    engine: Engine = make_engine(f"sqlite:///{root / 'hall.db'}")
    upgrade(engine)
    hall = open_hall(engine, root / "keys")
    township_card(hall)  # registers the office key that seals documents
    texts: dict[tuple[str, str], str] = {}
    request = request_for("hotel-open", defer=True)
    with writing(engine) as session:
        number = intake.accept(session, actor=hall.clerk, request=request, now=NOW).tracking_no
        refused = intake.refuse(
            session, actor=hall.clerk, applicant=request.applicant, matter_code="hotel-open",
            reason="经营场所不在本辖区", now=NOW,
        )  # fmt: skip
    texts |= issue_all(hall, "acceptance", number)
    texts |= issue_all(hall, "owed", number)
    texts |= issue_all(hall, "refusal", refused)
    day = NOW + timedelta(days=1)
    with writing(engine) as session:
        tasks.request_supplement(
            session, actor=hall.officer("health"), task_id=f"{number}/health",
            materials=["hygiene-rules"], reason="卫生管理制度缺少消毒记录", now=day,
        )  # fmt: skip
    texts |= issue_all(hall, "supplement", number, f"{number}/health")
    with writing(engine) as session:
        cases.record_supplement(session, actor=hall.clerk, task_id=f"{number}/health", now=day)
        for code in request.deferred:
            cases.record_material(
                session, actor=hall.clerk, tracking_no=number, material=code, now=day
            )
    for code in ("licence", "health", "fire", "quality", "tax", "police"):
        department = "market" if code == "licence" else code
        with writing(engine) as session:
            tasks.approve(
                session, actor=hall.officer(department), task_id=f"{number}/{code}",
                permit_no=PERMITS.get(code, ""), now=day,
            )  # fmt: skip
    with writing(engine) as session:
        cases.deliver(session, actor=hall.clerk, tracking_no=number, now=day)
    texts |= issue_all(hall, "delivery", number)
    return Papers(hall, number, refused, texts)


def golden_body(text: str) -> str:
    """The document's text as the golden file holds it (the random access code masked)."""
    body, _ = split(text)
    return re.sub(r"(查询码：|Access code: )\d+", r"\1######", body)


@pytest.mark.parametrize("kind", documents.KINDS)
@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_each_document_reads_as_its_golden_file(papers: Papers, kind: str, language: str) -> None:
    text = papers.texts[(kind, language)]
    assert max(cells(line) for line in text.splitlines()) <= 80
    golden = GOLDEN / f"{kind}-{language}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(golden_body(text), encoding="utf-8")
    assert golden_body(text) == golden.read_text(encoding="utf-8")


def test_every_document_is_genuine_and_unchanged(papers: Papers) -> None:
    with reading(papers.hall.engine) as session:
        for (kind, _), text in papers.texts.items():
            found, office = documents.verify_text(session, text)
            assert (found.kind, office.code) == (kind, papers.hall.admin.office_code)
            number = papers.refused if kind == "refusal" else papers.accepted
            assert found.tracking_no == number
            assert documents.verify_seal(session, found.text())[0] == found


def refused_with(papers: Papers, text: str) -> str:
    """The reason a text is refused for."""
    with reading(papers.hall.engine) as session, pytest.raises(DocumentRefused) as refused:
        documents.verify_text(session, text)
    assert refused.value.message("zh_CN") and refused.value.message("en")
    return refused.value.key


def test_what_verification_refuses(papers: Papers) -> None:
    text = papers.texts[("acceptance", "zh_CN")]
    body, found = split(text)
    # One changed character: a due date moved by a day.
    changed = re.sub(r"2026-(\d\d)-(\d)(\d)", lambda m: f"2026-{m[1]}-{m[2]}{(int(m[3]) + 1) % 10}",
                     text, count=1)  # fmt: skip
    assert changed != text
    assert refused_with(papers, changed) == "error.doc.changed"
    # The QR code (seal) of another case under this text.
    other = papers.texts[("refusal", "zh_CN")]
    assert refused_with(papers, sealed_text(body, split(other)[1])) == "error.doc.other_case"
    # Sealed by an office this workstation has never enrolled.
    stranger = seal(body, tracking_no=found.tracking_no, kind="acceptance", office="610199",
                    key=Signer.generate())  # fmt: skip
    assert refused_with(papers, sealed_text(body, stranger)) == "error.doc.unknown_office"
    # Claiming this office, signed by another key.
    forged = seal(body, tracking_no=found.tracking_no, kind="acceptance",
                  office=found.office, key=Signer.generate())  # fmt: skip
    assert refused_with(papers, sealed_text(body, forged)) == "error.doc.signature"
    assert refused_with(papers, body) == "error.doc.no_seal"
    with reading(papers.hall.engine) as session, pytest.raises(DocumentRefused) as bad:
        documents.verify_seal(session, "OW1:not-a-seal")
    assert bad.value.key == "error.doc.malformed"
    assert Seal.parse(found.text().lower()) == found  # a scanner may give lower case


def test_documents_that_a_case_does_not_have(papers: Papers) -> None:
    with reading(papers.hall.engine) as session:
        for kind, number, key in (
            ("refusal", papers.accepted, "error.doc.not_refused"),
            ("acceptance", papers.refused, "error.doc.refused_case"),
        ):
            with pytest.raises(Conflict) as info:
                documents.issue(
                    session, kind, number, actor=papers.hall.clerk, language="zh_CN",
                    key_dir=papers.hall.key_dir, now=NOW,
                )  # fmt: skip
            assert info.value.key == key


def test_only_who_reads_cases_prints_them(papers: Papers) -> None:
    with reading(papers.hall.engine) as session, pytest.raises(PermissionDenied):
        documents.issue(
            session, "acceptance", papers.accepted, actor=papers.hall.admin, language="en",
            key_dir=papers.hall.key_dir, now=NOW,
        )  # fmt: skip


def test_a_reprint_is_the_same_paper(papers: Papers) -> None:
    again = issue_all(papers.hall, "delivery", papers.accepted)
    assert again == {k: v for k, v in papers.texts.items() if k[0] == "delivery"}


def test_every_document_as_an_a4_pdf(papers: Papers, tmp_path: Path) -> None:
    """Each PDF verifies offline; pdftotext finds the number and the Chinese matter name."""
    pdftotext = shutil.which("pdftotext")
    with reading(papers.hall.engine) as session:
        for kind, language in papers.texts:
            number = papers.refused if kind == "refusal" else papers.accepted
            issued = documents.issue(
                session, kind, number, actor=papers.hall.clerk, language=language,
                key_dir=papers.hall.key_dir, now=NOW + timedelta(days=2),
                task_id=f"{number}/health" if kind == "supplement" else "",
            )  # fmt: skip
            path = documents.save_pdf(issued, tmp_path)
            assert path.read_bytes().startswith(b"%PDF-")
            found, _ = documents.verify_file(session, path)
            assert (found.kind, found.tracking_no) == (kind, number)
            if pdftotext is None:
                continue
            words = subprocess.run(
                [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
            ).stdout.decode()
            assert number in words
            if language == "zh_CN":
                assert "开办旅馆" in words
    pdftoppm, pdffonts = shutil.which("pdftoppm"), shutil.which("pdffonts")
    if pdftoppm and pdffonts:
        # The last PDF written (a Chinese one) renders, with its CJK font embedded if the
        # system has one (else it names the CID font, which readers supply).
        subprocess.run([pdftoppm, "-r", "50", "-png", "-f", "1", "-l", "1", str(path),
                        str(tmp_path / "page")], check=True)  # fmt: skip
        (page,) = tmp_path.glob("page*.png")
        assert page.stat().st_size > 5_000
        fonts = subprocess.run([pdffonts, str(path)], capture_output=True, check=True)
        listed = fonts.stdout.decode()
        embedded = re.search(r"TrueType\s+\S+\s+yes", listed)
        assert embedded is not None or pdf.CID_FONT in listed, listed
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: PDF text not checked")


def test_without_a_cjk_font_the_pdf_names_the_cid_font(
    papers: Papers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "FONT_FILES", ())
    pdf.cjk_font.cache_clear()
    try:
        with reading(papers.hall.engine) as session:
            issued = documents.issue(
                session, "acceptance", papers.accepted, actor=papers.hall.clerk,
                language="zh_CN", key_dir=papers.hall.key_dir, now=NOW,
            )  # fmt: skip
        path = documents.save_pdf(issued, tmp_path)
    finally:
        pdf.cjk_font.cache_clear()
    assert pdf.CID_FONT.encode() in path.read_bytes()
    with reading(papers.hall.engine) as session:
        assert documents.verify_file(session, path)[0].tracking_no == papers.accepted
