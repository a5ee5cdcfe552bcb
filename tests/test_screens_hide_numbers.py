"""No screen shows a whole ID or phone number unless someone revealed it, with a reason.

Every role visits every screen it may open, on a hall holding a person's and a company's
application, and every stored snapshot of the suite is read too: neither holds any
applicant's ID or phone number in full. The scan is shown to work: after a reveal the
number is found on the screen it was revealed on.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from sqlmodel import select

from models import Applicant
from screens.app import ALLOWED, WorkstationApp
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from tests.test_tui_case import make_app, open_case, settle
from workstation.db import reading, writing
from workstation.services import applicants, intake

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
ROLES = {
    "clerk": "clerk",
    "officer": "o-fire",
    "supervisor": "super",
    "admin": "admin",
    "auditor": "audit",
}
"""A user of each role."""
WHOLE_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def text_of(svg: str) -> str:
    """The characters an SVG screenshot shows, in order, tags dropped (a number split over
    two styled runs is whole again)."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def numbers_in_clear(hall: Hall) -> list[str]:
    """Every stored applicant's ID and phone number, opened with the office's data key."""
    key = applicants.data_key(hall.clerk)
    with reading(hall.engine) as session:
        people = list(session.scalars(select(Applicant)))
    opened = [applicants.open_numbers(person, key) for person in people]
    return [n for numbers in opened for n in (numbers.id_number, numbers.phone)]


def accept_both(hall: Hall) -> list[str]:
    """A person's application and a company's; their tracking numbers."""
    numbers = []
    for matter in ("medical-insurance", "hotel-open"):
        with writing(hall.engine) as session:
            accepted = intake.accept(
                session, actor=hall.clerk, request=request_for(matter), now=NOW
            )
        numbers.append(accepted.tracking_no)
    return numbers


def test_no_stored_snapshot_holds_a_whole_number() -> None:
    shots = sorted(SNAPSHOTS.rglob("*.svg"))
    assert len(shots) >= 15, "the snapshots are where the suite keeps them"
    found = {
        shot.name: WHOLE_ID.findall(text) + MOBILE.findall(text)
        for shot in shots
        if (text := text_of(shot.read_text("utf-8")))
    }
    assert {name: hits for name, hits in found.items() if hits} == {}
    case = text_of(next(SNAPSHOTS.rglob("test_case_snapshot*.svg")).read_text("utf-8"))
    assert "*" in case, "the case snapshot shows the applicant's numbers masked"


async def test_every_screen_of_every_role_hides_the_numbers(sqlite_hall: Hall) -> None:
    hall = sqlite_hall
    tracking = accept_both(hall)
    secrets = numbers_in_clear(hall)
    assert len(secrets) == 4
    seen: dict[str, list[str]] = {}
    for role, user in ROLES.items():
        app = make_app(hall)
        async with app.run_test(size=(120, 40)) as pilot:
            app.bench.login(user, PASSWORD)
            for screen in ALLOWED[role]:
                app.action_go(screen)
                await settle(pilot)
                seen[f"{role} {screen}"] = shown_numbers(app, secrets)
            for number in tracking if "case" in ALLOWED[role] else ():
                await open_case(pilot, user, number)
                seen[f"{role} case {number}"] = shown_numbers(app, secrets)
    assert {where: found for where, found in seen.items() if found} == {}
    cases = sum("case" in ALLOWED[role] for role in ROLES) * len(tracking)
    assert len(seen) == sum(len(ALLOWED[role]) for role in ROLES) + cases

    app = make_app(hall)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_case(pilot, "clerk", tracking[-1])
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press(*"核对", "enter")
        await settle(pilot)
        revealed = shown_numbers(app, secrets)
    assert len(revealed) == 2, "after a reveal the scan finds the company's numbers"


def shown_numbers(app: WorkstationApp, secrets: list[str]) -> list[str]:
    """The whole numbers in ``secrets`` the current screen shows."""
    text = text_of(app.export_screenshot())
    return [secret for secret in secrets if secret in text]
