"""Paper layout: 80 columns with Chinese counted double, narrower screens, saving, printing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.cells import cell_len

from workstation import documents
from workstation.crypto import Signer
from workstation.documents.columns import cells, qr_lines, wrap
from workstation.documents.content import Document, Section
from workstation.documents.printer import send_to_printer
from workstation.documents.seal import seal
from workstation.documents.text import body_text, sealed_text, split
from workstation.errors import ConfigError

TRACKING = "6101020012611020000158"


def document(language: str) -> Document:
    """A document with names long enough to wrap, in ``language``."""
    long = "西安好客旅馆有限公司" * 3 if language == "zh_CN" else "Xi'an Haoke Hotel Co. Ltd. " * 3
    return Document(
        kind="acceptance",
        tracking_no=TRACKING,
        language=language,
        office_code="610102001",
        title="西一路街道便民服务中心 · 受理回执",
        fields=(("办件编号", TRACKING), ("申请人", long)),
        sections=(
            Section("并联审批", ((long, "截止 2026-11-16"), (long, "待“" + long + "”通过后开始"))),
            Section("已收材料", ()),
        ),
        closing=(long,),
    )


@pytest.mark.parametrize("language", ["zh_CN", "en"])
@pytest.mark.parametrize("width", [80, 60, 40])
def test_no_line_is_wider_than_the_paper_or_the_screen(language: str, width: int) -> None:
    text = body_text(document(language), width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    assert TRACKING in text and max(cells(line) for line in text.splitlines()) <= width


def test_the_seal_fits_the_printer_and_reads_back() -> None:
    body = body_text(document("zh_CN"))
    found = seal(body, tracking_no=TRACKING, kind="acceptance", office="610102001",
                 key=Signer.generate())  # fmt: skip
    text = sealed_text(body, found)
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert split(text) == (body, found)
    printed = [line.strip() for line in text.splitlines()]
    assert all(line.strip() in printed for line in qr_lines(found.text()) if line.strip())


def test_wrap_keeps_words_and_splits_chinese_anywhere() -> None:
    assert wrap("Opening a hotel business", 10) == ["Opening a", "hotel", "business"]
    assert wrap("开办旅馆一件事", 6) == ["开办旅", "馆一件", "事"]
    assert wrap("x" * 12, 5) == ["xxxxx", "xxxxx", "xx"]
    assert wrap("", 5) == [""]


def issued(tmp_path: Path) -> Path:
    """A document saved in a folder that does not exist yet."""
    body = body_text(document("zh_CN"))
    paper = documents.Issued(document("zh_CN"), body, None, body)
    path = documents.save(paper, tmp_path / "documents" / "new")
    assert path.read_text(encoding="utf-8") == body and TRACKING in path.name
    return path


def _printer_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int) -> Path:
    """A stand-in ``lp`` program first on PATH: it records its arguments like a print queue."""
    spool = tmp_path / "spool.txt"
    program = tmp_path / "bin" / "lp"
    program.parent.mkdir()
    program.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{spool}"\n'
        f"[ {exit_code} -eq 0 ] && exit 0\n"
        f'echo "lp: The printer does not exist." >&2; exit {exit_code}\n'
    )
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{program.parent}:{os.environ['PATH']}")
    return spool


def test_printing_runs_lp_without_a_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spool = _printer_on_path(tmp_path, monkeypatch, exit_code=0)
    path = issued(tmp_path)
    send_to_printer(path, "front-desk; rm -rf /")
    assert spool.read_text().splitlines() == ["-d", "front-desk; rm -rf /", str(path.resolve())]


def test_a_printer_failure_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _printer_on_path(tmp_path, monkeypatch, exit_code=1)
    with pytest.raises(ConfigError) as caught:
        send_to_printer(issued(tmp_path), "nowhere")
    assert "does not exist" in caught.value.message("en")
