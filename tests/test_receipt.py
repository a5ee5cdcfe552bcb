"""The receipt: 80 columns with Chinese counted double, everything the applicant must know, QR."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import NOW
from tests.factories import CATALOG
from workstation.catalog.schema import Matter
from workstation.errors import ConfigError
from workstation.receipt import (
    Receipt,
    cells,
    print_receipt,
    qr_lines,
    receipt_text,
    save_receipt,
    wrap,
)
from workstation.services.intake import FanOut, IntakeResult, PlannedTask


def _hotel() -> Matter:
    matter = CATALOG.matter("hotel-open")
    assert matter is not None
    return matter


HOTEL = _hotel()
DEPARTMENTS = {d.code: (d.name.zh, d.name.en) for d in CATALOG.departments}
"""Department code → (Chinese, English) name, as ``Workbench.department_names`` gives them."""
TRACKING = "6101020012611020000158"


def _receipt(language: str, office: str = "西一路街道便民服务中心") -> Receipt:
    tasks = (
        PlannedTask("licence", "market", True, (), date(2026, 11, 5)),
        PlannedTask("health", "health", True, (), date(2026, 11, 23)),
        PlannedTask("fire", "fire", True, (), date(2026, 11, 16)),
        PlannedTask("police", "police", False, ("fire",), date(2026, 12, 7)),
        PlannedTask("quality", "quality", False, ("licence",), date(2026, 11, 19)),
    )
    result = IntakeResult(
        TRACKING,
        FanOut(tasks, date(2026, 12, 7), estimated=True),
        {"floor-plan": date(2026, 11, 20), "fire-facility-report": date(2026, 11, 27)},
    )
    return Receipt.of(
        result,
        HOTEL,
        language=language,
        office=office,
        applicant="西安好客旅馆有限公司" * 3,  # long enough to wrap
        applicant_id="9161**********83FK",
        clerk="王芳",
        accepted_at=NOW,
        departments=DEPARTMENTS,
    )


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_no_line_is_wider_than_the_printer(language: str) -> None:
    text = receipt_text(_receipt(language, office="便民服务中心" * 12), language)
    lines = text.splitlines()
    assert len(lines) > 20
    assert max(cell_len(line) for line in lines) <= 80  # Rich's measure, not ours
    assert all(cells(line) == cell_len(line) for line in lines)
    assert any(cell_len(line) > 70 for line in lines)  # it does use the width


def test_it_says_number_departments_due_dates_and_what_is_owed() -> None:
    text = receipt_text(_receipt("zh_CN"), "zh_CN")
    assert TRACKING in text
    for department in ("market", "health", "fire", "police"):
        assert f"（{DEPARTMENTS[department][0]}）" in text  # named, not coded
    assert "（县市场监督管理局质量" in text and "技术监督科）" in text  # a long one wraps
    assert "（market）" not in text
    for day in ("2026-11-05", "2026-11-23", "2026-11-16", "2026-12-07", "2026-11-19"):
        assert day in text
    assert "公众聚集场所投入使用、营业前消防安全检查" in text  # police waits for it
    assert "旅馆平面布局图及客房分布图" in text and "2026-11-20" in text
    assert "建筑消防设施检测报告" in text and "2026-11-27" in text
    assert "（预计）" in text  # the due date counts a year without a holiday schedule


def test_the_qr_code_is_printed_and_can_be_left_out() -> None:
    code = qr_lines(TRACKING)
    assert len(code) >= 11 and all(set(line) <= set(" █▀▄") for line in code)
    with_qr = receipt_text(_receipt("zh_CN"), "zh_CN")
    without = receipt_text(_receipt("zh_CN"), "zh_CN", qr=False)
    assert all(line.strip() in with_qr for line in code if line.strip())
    assert "█" in with_qr and "█" not in without


def test_department_names_follow_the_language_and_unknown_codes_stay() -> None:
    english = _receipt("en")
    assert english.tasks[2].department == "County Fire and Rescue Brigade"
    assert _receipt("zh_CN").tasks[2].department == "县消防救援大队"
    task = PlannedTask("fire", "nowhere", True, (), date(2026, 11, 16))
    result = IntakeResult(TRACKING, FanOut((task,), NOW.date(), estimated=False), {})
    bare = Receipt.of(
        result,
        HOTEL,
        language="en",
        office="x",
        applicant="x",
        applicant_id="x",
        clerk="x",
        accepted_at=NOW,
        departments={},
    )
    assert bare.tasks[0].department == "nowhere"


def test_a_narrower_screen_gets_a_narrower_receipt() -> None:
    text = receipt_text(_receipt("en"), "en", qr=False, width=60)
    assert max(cell_len(line) for line in text.splitlines()) <= 60
    assert TRACKING in text


def test_wrap_keeps_words_and_splits_chinese_anywhere() -> None:
    assert wrap("Opening a hotel business", 10) == ["Opening a", "hotel", "business"]
    assert wrap("开办旅馆一件事", 6) == ["开办旅", "馆一件", "事"]
    assert wrap("x" * 12, 5) == ["xxxxx", "xxxxx", "xx"]
    assert wrap("", 5) == [""]


def test_save_creates_the_directory(tmp_path: Path) -> None:
    path = save_receipt("回执\n", TRACKING, tmp_path / "documents" / "new")
    assert path.read_text(encoding="utf-8") == "回执\n" and TRACKING in path.name


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
    path = save_receipt("x\n", TRACKING, tmp_path)
    print_receipt(path, "front-desk; rm -rf /")
    assert spool.read_text().splitlines() == ["-d", "front-desk; rm -rf /", str(path.resolve())]


def test_a_printer_failure_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _printer_on_path(tmp_path, monkeypatch, exit_code=1)
    with pytest.raises(ConfigError) as caught:
        print_receipt(save_receipt("x\n", TRACKING, tmp_path), "nowhere")
    assert "does not exist" in caught.value.message("en")
