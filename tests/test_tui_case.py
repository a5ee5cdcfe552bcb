"""办件详情 in the TUI: a clerk opens a hotel case, records what arrives, delivers and rates."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from screens.app import WorkstationApp
from screens.case import CaseScreen
from screens.dialogs.receipt import ReceiptScreen
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from workstation import tracking
from workstation.app import build_app
from workstation.db import reading, writing
from workstation.i18n import translate
from workstation.identity import mask_id
from workstation.services import applicants, audit, cases, intake, tasks
from workstation.services.cases import CaseView
from workstation.settings import load_settings

OWED = "floor-plan"
"""The one 容缺 material the applicant promises to bring later."""
OWED_ZH = "旅馆平面布局图及客房分布图"
HOTEL_ORDER = (
    ("market", "licence", "L-91610102MA0001"),
    ("health", "health", "卫公证字〔2026〕第061号"),
    ("fire", "fire", "消检字〔2026〕第118号"),
    ("police", "police", "特行字〔2026〕第007号"),
    ("quality", "quality", ""),
    ("tax", "tax", ""),
)
"""(department, task, permit number) in an order the routing allows."""


def accept_hotel(hall: Hall, *, defer: bool) -> str:
    """Accept a hotel application at NOW, with only ``OWED`` deferred if ``defer``."""
    request = request_for("hotel-open", defer=True)
    deferred = {OWED: request.deferred[OWED]} if defer else {}
    received = request.received + tuple(code for code in request.deferred if code not in deferred)
    request = replace(request, received=received, deferred=deferred)
    with writing(hall.engine) as s:
        return intake.accept(s, actor=hall.clerk, request=request, now=NOW).tracking_no


def approve_all(hall: Hall, number: str) -> None:
    """Every task approved by its department's officer, predecessors first."""
    for department, task, permit in HOTEL_ORDER:
        with writing(hall.engine) as s:
            tasks.approve(
                s,
                actor=hall.officer(department),
                task_id=f"{number}/{task}",
                permit_no=permit,
                now=NOW,
            )


def view_of(hall: Hall, number: str) -> CaseView:
    """The case as the services see it."""
    with reading(hall.engine) as s:
        return cases.case_view(s, actor=hall.clerk, tracking_no=number)


def plain(renderable: Any) -> str:
    """What a Static shows, as plain text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def shown(app: WorkstationApp, selector: str) -> str:
    """The plain text of the Static ``selector`` on the current screen."""
    return plain(app.screen.query_one(selector, Static).content)


async def settle(pilot: Pilot[None]) -> None:
    """Wait for the workers and the messages they posted."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_case(pilot: Pilot[None], user: str, number: str) -> CaseScreen:
    """Log in as ``user``, switch to the case screen (F4) and open ``number``.

    The login goes through the workbench, as the login screen's worker does, so that these
    tests depend on the login and case screens only, not on the role's home screen.
    """
    app = pilot.app
    assert isinstance(app, WorkstationApp)
    app.bench.login(user, PASSWORD)
    app.action_go("case")
    await pilot.pause()
    await pilot.press("f4")  # already there: F4 on the case screen keeps it
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen)
    await pilot.press(*number, "enter")
    await settle(pilot)
    return screen


def make_app(hall: Hall, language: str = "zh_CN") -> WorkstationApp:
    """The workstation on the hall's database, in ``language``, at NOW."""
    settings = load_settings(key_dir=hall.key_dir, language=language)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW)


def column(table: DataTable[Any], key: str) -> list[str]:
    """The plain text of one column of ``table``."""
    return [plain(cell).strip() for cell in table.get_column(key)]


async def test_clerk_delivers_and_rates_a_hotel_case(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=True)
    approve_all(hall, number)
    typo = number[:5] + ("1" if number[5] != "1" else "2") + number[6:]
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, "clerk", typo)
        # A one-character typo is caught by the check character, beside the field.
        assert shown(app, "#case-lookup-error").strip() == translate(
            "error.tracking.check", "zh_CN", value=typo
        )
        assert not screen.query_one("#case-body").display
        await pilot.press("escape", "escape", *number.lower(), "enter")
        await settle(pilot)
        assert shown(app, "#case-lookup-error").strip() == ""
        summary = shown(app, "#case-summary")
        assert number in summary and "开办旅馆" in summary and "已办结" in summary

        # Six tasks approved, the owed material listed.
        task_table = screen.query_one("#case-tasks", DataTable)
        assert column(task_table, "state") == ["已通过"] * 6
        assert column(task_table, "department")[0] == "县市场监督管理局"
        assert "L-91610102MA0001" in column(task_table, "permit")
        materials = screen.query_one("#case-materials", DataTable)
        names, statuses = column(materials, "material"), column(materials, "material_status")
        assert dict(zip(names, statuses, strict=True))[OWED_ZH] == "容缺待补"
        assert not screen.check_action("rate", ())

        # 出件 is refused while the material is owed; the reason shows beside the actions.
        await pilot.press("f8")
        await settle(pilot)
        assert shown(app, "#case-message").strip() == translate(
            "error.deliver.owed", "zh_CN", materials=OWED_ZH
        )
        assert view_of(hall, number).application.status == "completed"

        await pilot.press("f7")  # the one owed material arrived
        await settle(pilot)
        assert not screen.check_action("material", ())
        await pilot.press("f8")
        await settle(pilot)
        assert view_of(hall, number).application.status == "delivered"
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("5", "enter", *"很方便", "enter")
        await settle(pilot)

        view = view_of(hall, number)
        assert view.application.status == "delivered"
        assert view.application.rating == 5
        assert view.application.rating_comment == "很方便"
        assert not screen.check_action("rate", ())

        # The timeline: every signed event of the case, each verified.
        events = screen.query_one("#case-events", DataTable)
        assert column(events, "seq") == [str(e.seq) for e in view.events]
        assert len(view.events) == 1 + 6 + 1 + 1 + 1
        assert column(events, "verified") == ["✔"] * len(view.events)


async def test_id_is_masked_until_revealed_and_the_reveal_is_audited(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=False)
    person = view_of(hall, number).applicant
    id_number = applicants.open_numbers(person, applicants.data_key(hall.clerk)).id_number
    app = make_app(hall)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(pilot, "clerk", number)
        summary = shown(app, "#case-summary")
        assert mask_id(id_number) in summary and id_number not in summary
        assert "029-****6666" in summary
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("escape")  # no reason, no look
        await settle(pilot)
        assert id_number not in shown(app, "#case-summary")
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press(*"核对户籍信息", "enter")
        await settle(pilot)
        summary = shown(app, "#case-summary")
        assert id_number in summary and "029-88886666" in summary
        assert not screen.check_action("reveal", ())
    with reading(hall.engine) as s:
        entries = audit.entries(s, actor=hall.auditor)
    looks = [(e.actor, e.subject, e.detail) for e in entries if e.action == "reveal"]
    assert looks == [("clerk", mask_id(id_number), "核对户籍信息")]


async def test_clerk_records_a_supplement_and_the_task_reopens(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=False)
    with writing(hall.engine) as s:
        tasks.request_supplement(
            s,
            actor=hall.officer("health"),
            task_id=f"{number}/health",
            materials=["hygiene-rules"],
            reason="缺少消毒记录",
            now=NOW,
        )
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, "clerk", number)
        assert "待补正" in column(screen.query_one("#case-tasks", DataTable), "state")
        assert screen.check_action("supplement", ())
        assert not screen.check_action("deliver", ())
        await pilot.press("f6")
        await settle(pilot)
        health = {t.task_code: t for t in view_of(hall, number).tasks}["health"]
        assert health.state == "open" and health.requested == []
        assert not screen.check_action("supplement", ())
        assert "恢复办理" in shown(app, "#case-message")


async def test_withdraw_asks_for_a_reason(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=False)
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, "clerk", number)
        await pilot.press("f10")
        await pilot.pause()
        await pilot.press("enter")  # an empty reason is refused in the dialog
        await pilot.pause()
        assert app.screen is not screen
        await pilot.press(*"申请人不再开办", "enter")
        await settle(pilot)
        assert app.screen is screen
        view = view_of(hall, number)
        assert view.application.status == "withdrawn"
        assert view.application.reason == "申请人不再开办"
        assert not screen.check_action("withdraw", ())


async def test_supervisor_reads_but_neither_acts_nor_reveals(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=False)
    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, "super", number)
        assert number in shown(app, "#case-summary")
        assert view_of(hall, number).applicant.id_masked in shown(app, "#case-summary")
        for action in ("reveal", "withdraw", "supplement", "material", "deliver", "rate"):
            assert not screen.check_action(action, ()), action
        # A well-formed number of no case here says so beside the field.
        unknown = tracking.make("610102001", NOW.date(), 999_999)
        await pilot.press("escape", "escape", *unknown, "enter")
        await settle(pilot)
        assert shown(app, "#case-lookup-error").strip() == translate(
            "error.application.unknown", "zh_CN", tracking_no=unknown
        )
        assert not screen.query_one("#case-body").display


async def test_an_officer_reads_the_case_in_english(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=True)
    app = make_app(hall, "en")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_case(pilot, "o-police", number)
        summary = shown(app, "#case-summary")
        assert "Opening a hotel" in summary and "in progress" in summary
        task_table = screen.query_one("#case-tasks", DataTable)
        rows = dict(zip(column(task_table, "task"), column(task_table, "waits"), strict=True))
        assert rows["Special-trade permit for the hotel business"] == (
            "Fire-safety check before a public gathering place opens"
        )
        assert column(task_table, "state").count("waiting") == 3
        names = column(task_table, "task")
        departments = dict(zip(names, column(task_table, "department"), strict=True))
        assert departments["Special-trade permit for the hotel business"] == (
            "County Public Security Bureau (Public Order Brigade)"
        )
        materials = screen.query_one("#case-materials", DataTable)
        assert "owed" in " ".join(column(materials, "material_status")).lower()
        assert screen.check_action("reveal", ())  # officers may see personal data, audited
        assert not screen.check_action("material", ())  # only the window records materials


SIZES = [(80, 24), (120, 40)]


def snapshot_app(hall: Hall) -> tuple[WorkstationApp, str]:
    """A hotel case with one material owed and tasks approved, in 补正, claimed and waiting."""
    number = accept_hotel(hall, defer=True)
    with writing(hall.engine) as s:
        tasks.approve(
            s,
            actor=hall.officer("market"),
            task_id=f"{number}/licence",
            permit_no="L-91610102MA0001",
            now=NOW + timedelta(minutes=20),
        )
    with writing(hall.engine) as s:
        tasks.request_supplement(
            s,
            actor=hall.officer("health"),
            task_id=f"{number}/health",
            materials=["hygiene-rules"],
            reason="缺少消毒记录",
            now=NOW + timedelta(minutes=45),
        )
    with writing(hall.engine) as s:
        tasks.claim(
            s, actor=hall.officer("fire"), task_id=f"{number}/fire", now=NOW + timedelta(hours=1)
        )
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", cursor_blink=False)
    return build_app(settings, engine=hall.engine, clock=lambda: NOW), number


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_case_snapshot(
    snap_compare: Callable[..., bool], sqlite_hall: Hall, size: tuple[int, int]
) -> None:
    """The clerk opens the hotel case from the keyboard: login, F4, the number, Enter.

    At 80×24 the summary and materials fill the screen, so three Tabs move to the tasks table
    (state and task name first, the department beside them).
    """
    app, number = snapshot_app(sqlite_hall)

    async def open_by_keyboard(pilot: Pilot[None]) -> None:
        await pilot.press(*"clerk", "enter", *PASSWORD, "enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press(*number, "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CaseScreen)
        assert number in shown(app, "#case-summary")
        if size[1] < 40:
            await pilot.press("tab", "tab", "tab")  # the body, the materials, the tasks
            await pilot.pause()
            assert app.screen.focused is app.screen.query_one("#case-tasks", DataTable)

    assert snap_compare(app, terminal_size=size, run_before=open_by_keyboard)


async def test_a_task_of_a_bureau_above_with_no_officer_here_shows_as_sent_upstream(
    sqlite_hall: Hall,
) -> None:
    with writing(sqlite_hall.engine) as s:
        request = request_for("medical-insurance")
        number = intake.accept(s, actor=sqlite_hall.clerk, request=request, now=NOW).tracking_no
    app = make_app(sqlite_hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(pilot, "clerk", number)
        table = app.screen.query_one("#case-tasks", DataTable)
        states = [plain(table.get_row_at(row)[0]).strip() for row in range(table.row_count)]
        assert states == ["已报上级"]


async def test_delivery_files_its_receipt_and_any_document_can_be_reprinted(
    sqlite_hall: Hall, tmp_path: Path
) -> None:
    hall = sqlite_hall
    number = accept_hotel(hall, defer=False)
    approve_all(hall, number)
    settings = load_settings(key_dir=hall.key_dir, language="zh_CN", documents_dir=tmp_path)
    app = build_app(settings, engine=hall.engine, clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_case(pilot, "clerk", number)
        await pilot.press("f8")
        await settle(pilot)
        assert view_of(hall, number).application.status == "delivered"
        delivery = tmp_path / f"delivery-{number}-zh_CN.txt"
        assert "送达回执" in delivery.read_text(encoding="utf-8")
        assert str(delivery) in shown(app, "#case-message")

        await pilot.press("ctrl+o")
        await pilot.pause()
        chooser = app.screen.query_one(OptionList)
        labels = [str(chooser.get_option_at_index(i).prompt) for i in range(chooser.option_count)]
        assert labels == ["受理回执", "送达回执"]
        await pilot.press("enter")  # the acceptance receipt, again
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        assert "受理回执" in shown(app, "#receipt-text") and number in shown(app, "#receipt-text")
        assert (tmp_path / f"acceptance-{number}-zh_CN.pdf").exists()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
