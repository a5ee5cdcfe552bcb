"""Status by tracking number: with the receipt's access code, and never personal data.

At the hub (a real ``onewindow hub`` process on loopback) and offline at the township.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from models import Applicant, Application
from sync.client import push
from tests.conftest import NOW, Hall
from tests.factories import request_for
from tests.levels import link, open_county, running_hub
from workstation.db import reading, writing
from workstation.services import intake, status, tasks
from workstation.services.applicants import ApplicantInput
from workstation.services.status import FREE_TRIES, TooManyTries
from workstation.settings import load_settings


def accepted(hall: Hall, now: datetime) -> tuple[str, str, ApplicantInput]:
    """A hotel case at the window, its licence approved; number, access code, applicant."""
    with writing(hall.engine) as session:
        number = intake.accept(
            session, actor=hall.clerk, request=request_for("hotel-open"), now=now
        ).tracking_no
        tasks.approve(
            session, actor=hall.officer("market"), task_id=f"{number}/licence",
            permit_no="91610102MA0001", now=now,
        )  # fmt: skip
    with reading(hall.engine) as session:
        application = session.get(Application, number)
        assert application is not None and application.access_code is not None
        assert session.get(Applicant, application.applicant_id) is not None
        return number, application.access_code, request_for("hotel-open").applicant


def get(url: str, **params: str) -> httpx.Response:
    """One public lookup (a loaded machine may take a while to answer)."""
    return httpx.get(url, params=params, timeout=30)


def wrong(code: str) -> str:
    """Another code of the same length."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_the_code_opens_the_status_and_guesses_wait(hall: Hall) -> None:
    number, code, _ = accepted(hall, NOW)

    def ask(given: str, at: datetime) -> status.PublicStatus | None:
        with writing(hall.engine) as session:
            return status.look_up(session, number, given, now=at)

    found = ask(code, NOW)
    assert found is not None and found.status == "in_progress"
    states = {t.department[0]: t.state for t in found.tasks}
    assert states["县市场监督管理局"] == "approved" and len(states) >= 5
    assert ask(wrong(code), NOW) is None
    assert ask(code, NOW) is not None  # a right code after a slip still works, and resets
    for _ in range(FREE_TRIES):
        assert ask(wrong(code), NOW) is None
    try:
        ask(code, NOW + timedelta(seconds=5))
        raise AssertionError("a number guessed at too often must wait")
    except TooManyTries as wait:
        assert wait.seconds == 25
    assert ask(code, NOW + timedelta(seconds=31)) is not None
    assert ask("6101020012611029999990", NOW) is None  # a number with a bad check character
    assert ask(number, NOW) is None  # no code at all


def test_the_hub_answers_the_public_and_never_with_personal_data(
    engine: Engine, tmp_path: Path, township: Hall
) -> None:
    keys = tmp_path / "county-keys"
    link(engine, open_county(engine, keys), keys, township)
    now = datetime.now(UTC)
    number, code, applicant = accepted(township, now)
    with running_hub(engine, keys) as url:
        settings = load_settings(key_dir=township.key_dir, upstream_url=url)
        push(township.engine, settings, clock=lambda: datetime.now(UTC))
        answers = [get(f"{url}/track/{number}", code=code)]
        assert answers[0].status_code == 200
        body = answers[0].json()
        assert (body["tracking_no"], body["status"]) == (number, "in_progress")
        assert body["matter"] == {"zh_CN": "开办旅馆", "en": "Opening a hotel"}
        assert {t["state"] for t in body["tasks"]} >= {"approved", "open", "waiting"}
        for _ in range(FREE_TRIES):
            answers.append(get(f"{url}/track/{number}", code=wrong(code)))
            assert answers[-1].status_code == 404
            assert set(answers[-1].json()) == {"error", "message"}
        answers.append(get(f"{url}/track/{number}", code=code))
        assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) > 0
        answers.append(get(f"{url}/track/61010200126110200000009", code="1"))
        answers.append(get(f"{url}/track/{number}"))
        assert [a.status_code for a in answers[-2:]] == [404, 429]
    private = [v for v in (applicant.id_number, applicant.name, applicant.phone) if v]
    assert len(private) >= 2  # the ID number and the name at least
    for answer in answers:
        text = json.dumps(answer.json(), ensure_ascii=False) + str(answer.headers)
        assert not [value for value in private if value in text]
