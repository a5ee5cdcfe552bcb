"""Due dates in working days: beyond the holiday data they fall back and say so."""

from __future__ import annotations

from datetime import date, datetime

from models import Application, Task
from tests.conftest import CHINA, Hall
from tests.factories import request_for
from workstation.db import reading, writing
from workstation.services import intake, office
from workstation.workdays import WorkCalendar, bundled_schedule

DECEMBER = datetime(2026, 12, 21, 9, 0, tzinfo=CHINA)
"""Late enough that a 25-working-day limit runs into 2027, which chinese-calendar lacks."""


def _accept(hall: Hall) -> Application:
    with writing(hall.engine) as session:
        result = intake.accept(
            session, actor=hall.clerk, request=request_for("hotel-open"), now=DECEMBER
        )
    with reading(hall.engine) as session:
        application = session.get(Application, result.tracking_no)
        assert application is not None
        return application


def test_a_due_date_in_a_year_without_data_is_marked_estimated(hall: Hall) -> None:
    application = _accept(hall)
    assert application.due_estimated is True
    expected = WorkCalendar().add_workdays(DECEMBER.date(), 25)
    assert (application.due_date, expected.estimated) == (expected.date, True)


def test_loading_the_official_schedule_makes_it_exact(hall: Hall) -> None:
    schedule = bundled_schedule(2027)
    assert schedule is not None
    with writing(hall.engine) as session:
        office.load_calendar(session, actor=hall.admin, schedule=schedule, now=DECEMBER)
    application = _accept(hall)
    expected = WorkCalendar([schedule]).add_workdays(DECEMBER.date(), 25)
    assert application.due_estimated is False
    assert application.due_date == expected.date
    # New Year's Day 2027 (a Friday) is a holiday in the schedule: the date moves on a day.
    assert expected.date > WorkCalendar().add_workdays(DECEMBER.date(), 25).date
    with reading(hall.engine) as session:
        licence = session.get(Task, f"{application.tracking_no}/licence")
        assert licence is not None and licence.due_date is not None
        assert licence.due_date <= date(2027, 1, 31)
