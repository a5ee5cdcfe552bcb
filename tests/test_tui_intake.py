"""一窗受理 at the keyboard: collect once, checklist, fan-out, receipt; errors by their field."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static

from models import Event
from screens.app import WorkstationApp
from screens.intake import IntakeScreen, ReceiptScreen
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import CATALOG, form_for, org_code, person_id, request_for
from workstation.app import build_app
from workstation.catalog.schema import Matter
from workstation.db import reading, writing
from workstation.i18n import translate
from workstation.identity import mask_id, mask_phone
from workstation.services import applicants, audit, intake
from workstation.settings import load_settings


def _hotel() -> Matter:
    matter = CATALOG.matter("hotel-open")
    assert matter is not None
    return matter


HOTEL = _hotel()


def _app(hall: Hall, documents: Path) -> WorkstationApp:
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", documents_dir=documents)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def _settle(app: WorkstationApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _login(app: WorkstationApp, pilot: Pilot[None]) -> IntakeScreen:
    await pilot.press(*"clerk", "enter", *PASSWORD, "enter")
    await _settle(app, pilot)
    assert isinstance(app.screen, IntakeScreen)
    return app.screen


def _events(hall: Hall) -> int:
    with reading(hall.engine) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def _note(screen: IntakeScreen, name: str) -> str:
    return str(screen.query_one(f"#{name}-note", Static).render())


async def _type_applicant(
    app: WorkstationApp, pilot: Pilot[None], number: str, name: str, phone: str
) -> None:
    # The search field takes the number; with nobody stored, Enter carries it to the ID field.
    await pilot.press(*number)
    await _settle(app, pilot)
    await pilot.press("enter")
    await pilot.press(*name, "enter", *phone, "enter", "enter")


async def _pick_matter(app: WorkstationApp, pilot: Pilot[None], initials: str) -> None:
    screen = app.screen
    assert isinstance(screen, IntakeScreen)
    assert screen.focused is screen.query_one("#matter-filter")
    await pilot.press(*initials, "enter")
    await _settle(app, pilot)


def _fill_form(screen: IntakeScreen, skip: str = "") -> None:
    """Every form field and every required material but ``skip`` (values set directly)."""
    assert screen.matter is not None
    for code, value in form_for(screen.matter).items():
        widget = screen.query_one(f"#field-{code}")
        assert isinstance(widget, Input | Select)
        widget.value = value
    for material in screen.matter.materials:
        if material.required and material.code != skip:
            screen.query_one(f"#mat-{material.code}", Checkbox).value = True


async def test_the_clerk_accepts_a_hotel_once_and_hands_over_a_receipt(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    documents = tmp_path / "receipts"
    app = _app(sqlite_hall, documents)
    code = org_code(random.Random(5))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _login(app, pilot)
        await _type_applicant(app, pilot, code, "XAHK", "02988886666")
        assert screen.query_one("#id-number", Input).value == code
        assert "企业" in _note(screen, "id-number")  # authority and kind derived from the code
        assert screen.query_one("#name", Input).value == "XAHK"
        await _pick_matter(app, pilot, "kblg")
        assert screen.matter is not None and screen.matter.code == "hotel-open"

        # The checklist, at the keyboard: Space ticks; one 容缺 item gets a promised date.
        for material in HOTEL.materials:
            if material.required and material.code != "floor-plan":
                screen.query_one(f"#mat-{material.code}", Checkbox).focus()
                await pilot.press("space")
        screen.query_one("#promise-floor-plan", Input).focus()
        await pilot.press(*"2026-11-20")
        # The form: typed field by field; the choice is picked from its menu.
        for field, value in form_for(HOTEL).items():
            widget = screen.query_one(f"#field-{field}")
            widget.focus()
            if isinstance(widget, Select):
                await pilot.press("enter", "down", "enter")
            else:
                await pilot.press(*value)
        assert screen.query_one("#field-hotel-type", Select).value == form_for(HOTEL)["hotel-type"]

        # The fan-out before submitting: three departments at once, police after fire.
        assert screen.fan_out is not None
        at_once = {t.department for t in screen.fan_out.tasks if t.opens_at_once}
        assert at_once == {"market", "health", "fire"}
        police = next(t for t in screen.fan_out.tasks if t.department == "police")
        assert police.waits_for == ("fire",)
        table = screen.query_one("#fanout", DataTable)
        fire = app.bench.department_names()["fire"][0]  # departments by name, not code
        assert str(table.get_row("police")[2]) == translate("ui.intake.waits", "zh_CN", tasks=fire)
        assert str(table.get_row("fire")[2]) == translate("ui.intake.at_once", "zh_CN")
        assert str(table.get_row("fire")[3]) == fire

        before = _events(sqlite_hall)
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        receipt = app.screen.issued
        tracking = receipt.document.tracking_no
        shown = str(app.screen.query_one("#receipt-text", Static).render())
        assert tracking in shown and "2026-11-20" in shown
        assert f"（{fire}）" in shown and "（fire）" not in shown
        assert _events(sqlite_hall) == before + 1

        view = app.bench.case(tracking)
        assert view.applicant.id_masked == mask_id(code) and view.applicant.name == "XAHK"
        key = applicants.data_key(sqlite_hall.clerk)
        assert applicants.open_numbers(view.applicant, key).id_number == code
        assert sorted(t.department_code for t in view.tasks if t.state == "open") == [
            "fire",
            "health",
            "market",
        ]
        assert app.bench.owed(tracking) == ["floor-plan"]
        assert view.application.form["hotel-type"] == form_for(HOTEL)["hotel-type"]

        saved = documents / f"acceptance-{tracking}-zh_CN.txt"
        lines = saved.read_text(encoding="utf-8").splitlines()
        assert max(cell_len(line) for line in lines) <= 80
        assert any(tracking in line for line in lines)
        # Something is owed (the floor plan): the one-time notice is filed beside it.
        notice = documents / f"owed-{tracking}-zh_CN.txt"
        assert "旅馆平面布局图" in notice.read_text(encoding="utf-8")
        assert (documents / f"acceptance-{tracking}-zh_CN.pdf").exists()

        # Esc closes the receipt; a blank form waits for the next applicant.
        await pilot.press("escape")
        await pilot.pause()
        assert screen.is_current and screen.matter is None
        assert screen.query_one("#id-number", Input).value == ""
        assert not screen.query("#materials Checkbox")
        assert screen.focused is screen.query_one("#find")


async def test_a_bad_check_digit_is_shown_by_the_id_field_and_nothing_is_stored(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    good = person_id(random.Random(3))
    wrong = "0" if good[-1] != "0" else "1"
    bad = good[:17] + wrong
    expected = translate("error.id.checksum", "zh_CN", value=mask_id(bad), expected=good[-1])
    app = _app(sqlite_hall, tmp_path / "receipts")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _login(app, pilot)
        await _type_applicant(app, pilot, bad, "ZS", "13812345678")
        assert _note(screen, "id-number") == expected  # as soon as the 18th digit is typed
        await _pick_matter(app, pilot, "gljt")  # 高龄津贴
        assert screen.matter is not None and screen.matter.code == "elderly-allowance"
        _fill_form(screen)
        before = _events(sqlite_hall)
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, IntakeScreen)
        assert _note(screen, "id-number") == expected
        assert screen.query_one("#id-number-note").has_class("-error")
        assert screen.focused is screen.query_one("#id-number")
        assert _events(sqlite_hall) == before
        assert screen.last_receipt is None
        assert not list((tmp_path / "receipts").glob("*"))  # and no receipt either


async def test_a_missing_material_is_shown_by_the_checklist_and_nothing_is_stored(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    app = _app(sqlite_hall, tmp_path / "receipts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _login(app, pilot)
        await _type_applicant(app, pilot, org_code(random.Random(8)), "XAHK", "02988886666")
        await _pick_matter(app, pilot, "kblg")
        _fill_form(screen, skip="security-plan")
        before = _events(sqlite_hall)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert isinstance(app.screen, IntakeScreen)
        material = HOTEL.material("security-plan")
        assert material is not None
        expected = translate("error.material.missing", "zh_CN", material=material.name.model_dump())
        assert _note(screen, "materials") == expected
        assert screen.focused is screen.query_one("#mat-security-plan")
        assert _events(sqlite_hall) == before
        # Ticking it and submitting again is all it takes.
        screen.query_one("#mat-security-plan", Checkbox).value = True
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        assert _events(sqlite_hall) == before + 1


async def test_a_stored_applicant_is_found_and_filled_in_masked(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    stored = request_for("hotel-open").applicant
    with writing(sqlite_hall.engine) as session:
        intake.accept(session, actor=sqlite_hall.clerk, request=request_for("hotel-open"), now=NOW)
    app = _app(sqlite_hall, tmp_path / "receipts")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _login(app, pilot)
        for text in ("xahk", stored.id_number):  # pinyin initials, then the whole ID number
            await pilot.press(*text)
            await _settle(app, pilot)
            assert "1" in _note(screen, "found")
            await pilot.press("enter")
            assert screen.stored is not None and screen.stored.id_masked == mask_id(
                stored.id_number
            )
            number = screen.query_one("#id-number", Input)
            assert number.value == mask_id(stored.id_number) and number.disabled
            assert screen.query_one("#phone", Input).value == mask_phone("029-88886666")
            assert screen.query_one("#name", Input).value == stored.name
            await pilot.press("escape")
            assert screen.stored is None and screen.query_one("#find", Input).value == ""

        await pilot.press(*"xahk")
        await _settle(app, pilot)
        await pilot.press("enter", "ctrl+r")
        await pilot.pause()
        await pilot.press(*"申请人要求核对", "enter")
        await pilot.pause()
        assert screen.query_one("#id-number", Input).value == stored.id_number
        with reading(sqlite_hall.engine) as session:
            entries = audit.entries(session, actor=sqlite_hall.auditor)
        assert (entries[0].actor, entries[0].action, entries[0].subject) == (
            "clerk",
            "reveal",
            mask_id(stored.id_number),
        )

        # Collect once: the stored applicant goes into a second application untouched.
        await _pick_matter(app, pilot, "kblg")
        _fill_form(screen)
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        view = app.bench.case(app.screen.issued.document.tracking_no)
        numbers = applicants.open_numbers(view.applicant, applicants.data_key(sqlite_hall.clerk))
        assert numbers == applicants.Numbers(stored.id_number, "029-88886666")


async def test_departments_are_named_in_the_operators_language(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    settings = load_settings(key_dir=sqlite_hall.key_dir, language="en", documents_dir=tmp_path)
    app = build_app(settings, engine=sqlite_hall.engine, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _login(app, pilot)
        await _type_applicant(app, pilot, org_code(random.Random(5)), "XAHK", "02988886666")
        await _pick_matter(app, pilot, "kblg")
        table = screen.query_one("#fanout", DataTable)
        fire = "County Fire and Rescue Brigade"
        assert str(table.get_row("fire")[3]) == fire
        assert str(table.get_row("police")[2]) == translate("ui.intake.waits", "en", tasks=fire)
        # Wide: the fan-out stays in sight while the checklist takes the focus.
        assert screen.query_one("#intake-right").scroll_offset.y == 0
        assert isinstance(screen.focused, Checkbox)


# ── snapshots: a fixed clock, a fresh office, no blinking cursor ───────────────────────
SNAPSHOT_SIZES = [(80, 24), (120, 40)]
APPLICANT = ("91610102MA6U0Q0X84", "西安好客旅馆有限公司", "02988886666")
"""A fixed organisation (code, name, phone), so every run draws the same screen."""


def _snapshot_app(hall: Hall, language: str) -> WorkstationApp:
    # Relative: the receipt's note shows the same path whatever the temporary directory.
    settings = load_settings(
        key_dir=hall.key_dir,
        language=language,
        documents_dir=Path("receipts"),
        cursor_blink=False,
    )
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


async def _hotel_picked(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, WorkstationApp)
    await _login(app, pilot)
    await _type_applicant(app, pilot, APPLICANT[0], APPLICANT[1], APPLICANT[2])
    await _pick_matter(app, pilot, "kblg")
    await _settle(app, pilot)


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_intake_snapshot(
    snap_compare: Callable[..., bool],
    sqlite_hall: Hall,
    size: tuple[int, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app = _snapshot_app(sqlite_hall, "zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=_hotel_picked)


def test_intake_snapshot_in_english(
    snap_compare: Callable[..., bool],
    sqlite_hall: Hall,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app = _snapshot_app(sqlite_hall, "en")
    assert snap_compare(app, terminal_size=(120, 40), run_before=_hotel_picked)


@pytest.mark.parametrize("size", SNAPSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_receipt_snapshot(
    snap_compare: Callable[..., bool],
    size: tuple[int, int],
    sqlite_hall: Hall,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)

    async def accepted(pilot: Pilot[None]) -> None:
        await _hotel_picked(pilot)
        app, screen = pilot.app, pilot.app.screen
        assert isinstance(app, WorkstationApp) and isinstance(screen, IntakeScreen)
        _fill_form(screen, skip="floor-plan")
        screen.query_one("#promise-floor-plan", Input).value = "2026-11-20"
        await pilot.press("f9")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        # The form behind resets and scrolls back while the receipt opens: let it come to rest.
        await pilot.wait_for_scheduled_animations()
        await _settle(app, pilot)

    app = _snapshot_app(sqlite_hall, "zh_CN")
    assert snap_compare(app, terminal_size=size, run_before=accepted)


async def test_the_clerk_refuses_with_a_reason_and_hands_over_the_notice(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    app = _app(sqlite_hall, tmp_path / "papers")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _login(app, pilot)
        await _type_applicant(app, pilot, person_id(random.Random(8)), "ZS", "13812345678")
        await _pick_matter(app, pilot, "gljt")  # 高龄津贴
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("enter")  # an empty reason is refused beside the field
        await pilot.pause()
        assert "理由" in str(app.screen.query_one(".small-dialog-error", Static).render())
        await pilot.press(*"未满八十周岁", "enter")
        await _settle(app, pilot)
        assert isinstance(app.screen, ReceiptScreen)
        shown = str(app.screen.query_one("#receipt-text", Static).render())
        assert "不予受理通知书" in shown and "未满八十周岁" in shown
        number = app.screen.issued.document.tracking_no
        assert app.bench.case(number).application.status == "refused"
        assert (tmp_path / "papers" / f"refusal-{number}-zh_CN.txt").exists()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.matter is None
