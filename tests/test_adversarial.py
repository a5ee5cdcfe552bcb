"""Adversarial text everywhere a person types: a clear refusal, or exactly what was typed.

Control characters, emoji, very long strings, mixed widths, right-to-left marks, SQL-like
text and lone surrogates go into every free-text field of intake and of the case actions,
and into the command line's arguments. Each either is refused with a message in both
languages and changes nothing, or is stored as typed (trimmed, NFC); never a traceback.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from models import Applicant, Application, Task
from tests.campaign import Tally, size, summary
from tests.conftest import NOW, Hall, open_hall
from tests.factories import request_for
from tests.levels import events
from workstation.cli import app
from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import WorkstationError
from workstation.services import cases, intake, tasks

NASTY = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), max_size=600),
    st.sampled_from([
        "'; DROP TABLE application; --", "Robert'); DELETE FROM event;--", "%s%s%n", "\x00",
        "\u202egnp.exe", "מחלקה\u200f", "😀" * 30, "Ａ" * 150, "\ud800", "　", "\t\n",
        "a\u0301" * 5, "名" * 501, "<script>alert(1)</script>", "{office}", "{{}}",
    ]),
)  # fmt: skip
"""What a careless or hostile person might type."""
CHECKS = settings(
    max_examples=size("ONEWINDOW_FUZZ_EXAMPLES", 40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


TALLY = Tally()


@pytest.fixture(scope="module", autouse=True)
def _campaign(request: pytest.FixtureRequest) -> Iterator[Tally]:
    yield from summary("adversarial-text", TALLY, request)


def cleaned(text: str) -> str:
    """What a text field stores for ``text``: NFC, trimmed."""
    return unicodedata.normalize("NFC", text).strip()


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Hall:
    """One office on SQLite for the whole module (each example adds its own case)."""
    root = tmp_path_factory.mktemp("adversarial")
    engine = make_engine(f"sqlite:///{root / 'hall.db'}")
    upgrade(engine)
    return open_hall(engine, root / "keys")


def refused_or(hall: Hall, action: Any) -> Any:
    """Run ``action`` in one transaction; None (and nothing changed) if it was refused."""
    before = events(hall.engine)
    try:
        with writing(hall.engine) as session:
            return action(session)
    except WorkstationError as error:
        assert error.message("zh_CN") and error.message("en")
        assert "{" not in error.message("en"), "every parameter of the message is filled"
        assert events(hall.engine) == before
        return None


@CHECKS
@given(name=NASTY, address=NASTY, hotel_name=NASTY)
def test_intake_fields(hall: Hall, name: str, address: str, hotel_name: str) -> None:
    TALLY.trials += 1
    request = request_for("hotel-open", rng=random.Random(len(name) * 7 + len(address)))
    request = replace(
        request,
        applicant=replace(request.applicant, name=name, address=address),
        form={**request.form, "hotel-name": hotel_name},
    )

    def accept(session: Any) -> str:
        return intake.accept(session, actor=hall.clerk, request=request, now=NOW).tracking_no

    number = refused_or(hall, accept)
    if number is None:
        return
    with reading(hall.engine) as session:
        application = session.get(Application, number)
        assert application is not None
        applicant = session.get(Applicant, application.applicant_id)
        assert applicant is not None
        assert (applicant.name, applicant.address) == (cleaned(name), cleaned(address))
        assert application.form["hotel-name"] == cleaned(hotel_name)


@CHECKS
@given(reason=NASTY, comment=NASTY, permit=NASTY)
def test_case_action_texts(hall: Hall, reason: str, comment: str, permit: str) -> None:
    TALLY.trials += 1
    with writing(hall.engine) as session:
        request = request_for("hotel-open", rng=random.Random(len(reason) + 13 * len(permit)))
        number = intake.accept(session, actor=hall.clerk, request=request, now=NOW).tracking_no
    market, health = hall.officer("market"), hall.officer("health")

    def approve(session: Any) -> None:
        tasks.approve(session, actor=market, task_id=f"{number}/licence", permit_no=permit, now=NOW)

    def supplement(session: Any) -> None:
        tasks.request_supplement(
            session, actor=health, task_id=f"{number}/health", materials=["hygiene-rules"],
            reason=reason, now=NOW,
        )  # fmt: skip

    def withdraw(session: Any) -> None:
        cases.withdraw(session, actor=hall.clerk, tracking_no=number, reason=comment, now=NOW)

    refused_or(hall, approve)
    refused_or(hall, supplement)
    with reading(hall.engine) as session:
        licence, hygiene = (
            session.get(Task, f"{number}/licence"),
            session.get(Task, f"{number}/health"),
        )
        assert licence is not None and hygiene is not None
        if licence.state == "approved":
            assert licence.permit_no == cleaned(permit)
        if hygiene.state == "supplement":
            assert hygiene.reason == cleaned(reason)
    refused_or(hall, withdraw)
    with reading(hall.engine) as session:
        application = session.get(Application, number)
        assert application is not None
        if application.status == "withdrawn":
            assert application.reason == cleaned(comment)


@settings(max_examples=size("ONEWINDOW_FUZZ_EXAMPLES", 40) * 5 // 8, deadline=None)
@given(first=NASTY, second=NASTY)
def test_command_line_arguments(first: str, second: str, tmp_path_factory: Any) -> None:
    TALLY.trials += 1
    root: Path = tmp_path_factory.mktemp("cli")
    env = {
        "ONEWINDOW_DATABASE_URL": f"sqlite:///{root / 'office.db'}",
        "ONEWINDOW_KEY_DIR": str(root / "keys"),
    }
    for args in (
        ["show", first],
        ["track", first, "--code", second],
        ["doc", "verify", "--qr", first],
        ["doc", "verify", str(root / (first[:40] or "x").replace("/", "_").replace("\x00", ""))],
        ["queue", first],
        ["catalog", "check", str(root / "nowhere")],
    ):
        if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for a in args for ch in a):
            continue  # a process cannot even receive these as arguments
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
