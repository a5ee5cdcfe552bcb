"""Working-day arithmetic: official data, loaded schedules, the weekend fallback, bad files."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workstation.errors import InvalidInput
from workstation.workdays import (
    Due,
    WorkCalendar,
    YearSchedule,
    bundled_schedule,
    load_schedule_file,
    parse_schedule,
)

SCHEDULE_2027 = """
year = 2027
holidays = [
    ["2027-01-01", "2027-01-03"],
    "2027-06-09",
    ["2027-10-01", "2027-10-07"],
]
workdays = ["2027-09-26", 2027-10-09]
"""


def days(first: date, last: date) -> list[date]:
    """Every date from first to last inclusive."""
    return [first + timedelta(n) for n in range((last - first).days + 1)]


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    """A calendar with nothing loaded: the package, then weekends."""
    return WorkCalendar()


@pytest.fixture(scope="module")
def calendar_2027() -> WorkCalendar:
    """A calendar with a 2027 schedule loaded."""
    return WorkCalendar([parse_schedule(SCHEDULE_2027, source="test-2027")])


# --- official data from chinese_calendar -------------------------------------------------------


def test_package_data_for_2026_national_day_as_published() -> None:
    # The State Council notice for 2026: 国庆 Oct 1–7; Sep 20 (Sun) and Oct 10 (Sat) are worked.
    # (Mid-Autumn is separate in 2026, Sep 25–27, so National Day is not an 8-day run.)
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert chinese_calendar.is_holiday(d)
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    weekend_workdays = [d for d in days(date(2026, 1, 1), date(2026, 12, 31)) if d.weekday() >= 5]
    made_up = [d for d in weekend_workdays if chinese_calendar.is_workday(d)]
    assert date(2026, 9, 20) in made_up
    assert date(2026, 10, 10) in made_up


def test_2026_national_day_week(calendar: WorkCalendar) -> None:
    for d in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert not calendar.is_workday(d), d
    assert calendar.is_workday(date(2026, 10, 8))  # Thursday after the holiday
    assert calendar.is_workday(date(2026, 10, 9))
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, make-up workday
    assert not calendar.is_workday(date(2026, 10, 11))  # ordinary Sunday
    assert calendar.is_workday(date(2026, 9, 20))  # Sunday, make-up workday
    assert calendar.covers(2026)
    # From the last working day before the holiday, the next working day is Oct 8.
    assert calendar.add_workdays(date(2026, 9, 30), 1) == Due(date(2026, 10, 8), False)
    assert calendar.add_workdays(date(2026, 9, 30), 3) == Due(date(2026, 10, 10), False)
    assert calendar.workdays_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_add_workdays_across_spring_festival_2026(calendar: WorkCalendar) -> None:
    # 春节 2026: Feb 15–23 off; Feb 14 (Sat) and Feb 28 (Sat) worked.
    assert calendar.add_workdays(date(2026, 2, 12), 1) == Due(date(2026, 2, 13), False)
    assert calendar.add_workdays(date(2026, 2, 12), 2) == Due(date(2026, 2, 14), False)
    assert calendar.add_workdays(date(2026, 2, 12), 3) == Due(date(2026, 2, 24), False)
    # Starting inside the holiday: the holiday days are not counted.
    assert calendar.add_workdays(date(2026, 2, 18), 1) == Due(date(2026, 2, 24), False)
    # Feb 24–27 (4) + Feb 28 (Sat, worked) = 5 working days after Feb 23.
    assert calendar.add_workdays(date(2026, 2, 23), 5) == Due(date(2026, 2, 28), False)
    assert calendar.workdays_between(date(2026, 2, 13), date(2026, 2, 28)) == 6


def test_matches_chinese_calendar_for_every_day_it_knows(calendar: WorkCalendar) -> None:
    for d in days(date(2004, 1, 1), date(2026, 12, 31)):
        assert calendar.is_workday(d) == chinese_calendar.is_workday(d), d


# --- fallback ----------------------------------------------------------------------------------


def test_2028_falls_back_to_weekends_and_is_estimated(calendar: WorkCalendar) -> None:
    assert not calendar.covers(2028)
    assert not calendar.covers(2027)
    for d in days(date(2028, 1, 1), date(2028, 12, 31)):
        assert calendar.is_workday(d) == (d.weekday() < 5), d
    # 2028-01-05 is a Wednesday: Thu, Fri, Mon.
    assert calendar.add_workdays(date(2028, 1, 5), 3) == Due(date(2028, 1, 10), True)
    # 2028-10-02 would be a holiday in China, but without data it is an ordinary Monday.
    assert calendar.add_workdays(date(2028, 9, 29), 1) == Due(date(2028, 10, 2), True)


def test_estimated_only_when_counted_days_reach_an_uncovered_year(
    calendar: WorkCalendar,
) -> None:
    assert not calendar.add_workdays(date(2026, 12, 28), 3).estimated  # Dec 29–31
    crossing = calendar.add_workdays(date(2026, 12, 28), 4)
    assert crossing == Due(date(2027, 1, 1), True)  # Friday; in fact 元旦, but unknown
    # Starting on Dec 31 of an uncovered year counts nothing in that year.
    assert not calendar.add_workdays(date(2003, 12, 31), 1).estimated
    assert calendar.add_workdays(date(2003, 12, 30), 1) == Due(date(2003, 12, 31), True)
    assert calendar.add_workdays(date(2030, 5, 6), 0) == Due(date(2030, 5, 6), False)


# --- loaded schedules --------------------------------------------------------------------------


def test_loaded_2027_schedule_is_official_and_honoured(calendar_2027: WorkCalendar) -> None:
    assert calendar_2027.covers(2027)
    assert not calendar_2027.covers(2028)
    assert not calendar_2027.is_workday(date(2027, 1, 1))  # holiday on a Friday
    assert not calendar_2027.is_workday(date(2027, 6, 9))  # single-day holiday
    assert not calendar_2027.is_workday(date(2027, 10, 4))  # Monday inside a range
    assert calendar_2027.is_workday(date(2027, 10, 9))  # Saturday, make-up workday
    assert calendar_2027.is_workday(date(2027, 9, 26))  # Sunday, make-up workday
    assert calendar_2027.is_workday(date(2027, 10, 8))
    assert not calendar_2027.is_workday(date(2027, 10, 10))
    # Sep 30 (Thu) → next working days: Oct 8 (Fri), Oct 9 (Sat).
    assert calendar_2027.add_workdays(date(2027, 9, 30), 1) == Due(date(2027, 10, 8), False)
    assert calendar_2027.add_workdays(date(2027, 9, 30), 2) == Due(date(2027, 10, 9), False)
    # Across New Year from 2026 (package) into 2027 (schedule): 元旦 is skipped.
    assert calendar_2027.add_workdays(date(2026, 12, 30), 2) == Due(date(2027, 1, 4), False)
    # Counting on into 2028 is estimated again.
    assert calendar_2027.add_workdays(date(2027, 12, 30), 2).estimated


def test_without_the_schedule_the_same_count_differs(calendar: WorkCalendar) -> None:
    assert calendar.add_workdays(date(2027, 9, 30), 1) == Due(date(2027, 10, 1), True)


def test_loaded_schedule_wins_over_the_package() -> None:
    override = YearSchedule(
        2026, holidays=frozenset({date(2026, 10, 8)}), workdays=frozenset({date(2026, 10, 11)})
    )
    cal = WorkCalendar([override])
    assert not cal.is_workday(date(2026, 10, 8))
    assert cal.is_workday(date(2026, 10, 11))
    # The override replaces the package's year entirely: Oct 1 (Thu) is now a working day.
    assert cal.is_workday(date(2026, 10, 1))
    assert cal.covers(2026)


def test_later_schedule_for_the_same_year_replaces_the_earlier() -> None:
    first = YearSchedule(2030, frozenset({date(2030, 1, 1)}), frozenset())
    second = YearSchedule(2030, frozenset({date(2030, 1, 2)}), frozenset())
    cal = WorkCalendar([first]).with_schedule(second)
    assert cal.schedules == (second,)
    assert cal.is_workday(date(2030, 1, 1))
    assert not cal.is_workday(date(2030, 1, 2))


def test_bundled_2027_demo_schedule_validates() -> None:
    schedule = bundled_schedule(2027)
    assert schedule is not None
    assert schedule.year == 2027
    assert date(2027, 10, 1) in schedule.holidays
    assert date(2027, 2, 6) in schedule.holidays  # 春节 (正月初一)
    assert all(d.weekday() >= 5 for d in schedule.workdays)
    assert bundled_schedule(2031) is None
    cal = WorkCalendar([schedule])
    assert cal.covers(2027)
    assert not cal.add_workdays(date(2027, 3, 1), 30).estimated


def test_load_schedule_file(tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(SCHEDULE_2027, "utf-8")
    schedule = load_schedule_file(path)
    assert schedule == parse_schedule(SCHEDULE_2027, source="x")
    assert len(schedule.holidays) == 3 + 1 + 7
    assert schedule.workdays == frozenset({date(2027, 9, 26), date(2027, 10, 9)})


def test_to_dict_round_trip() -> None:
    schedule = parse_schedule(SCHEDULE_2027, source="x")
    data = schedule.to_dict()
    assert data["year"] == 2027
    assert data["holidays"][:3] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert data["holidays"] == sorted(data["holidays"])
    assert data["workdays"] == ["2027-09-26", "2027-10-09"]
    assert YearSchedule.from_dict(data) == schedule
    cal = WorkCalendar([YearSchedule.from_dict(data)])
    assert cal.add_workdays(date(2027, 9, 30), 1) == Due(date(2027, 10, 8), False)


def test_from_dict_validates_like_a_file() -> None:
    data = {"year": 2027, "holidays": ["2027-10-01"], "workdays": ["2027-10-01"]}
    with pytest.raises(InvalidInput) as info:
        YearSchedule.from_dict(data, source="event 42")
    assert info.value.key == "error.calendar.workday_not_weekend"
    assert info.value.params["source"] == "event 42"


def test_year_schedule_refuses_inconsistent_data() -> None:
    with pytest.raises(InvalidInput) as info:
        YearSchedule(2027, frozenset({date(2027, 10, 9)}), frozenset({date(2027, 10, 9)}))
    assert info.value.key == "error.calendar.overlap"
    with pytest.raises(InvalidInput) as info:
        YearSchedule(2027, frozenset({date(2026, 10, 9)}), frozenset())
    assert info.value.key == "error.calendar.outside_year"


# --- bad schedule files ------------------------------------------------------------------------

BAD_FILES = [
    pytest.param(
        'year = 2027\nholidays = ["2028-01-01"]\n',
        "error.calendar.outside_year",
        "holidays #1",
        id="holiday-outside-year",
    ),
    pytest.param(
        'year = 2027\nholidays = [["2027-12-30", "2028-01-02"]]\n',
        "error.calendar.outside_year",
        "holidays #1",
        id="range-outside-year",
    ),
    pytest.param(
        'year = 2027\nholidays = []\nworkdays = ["2027-10-09", "2026-10-10"]\n',
        "error.calendar.outside_year",
        "workdays #2",
        id="workday-outside-year",
    ),
    pytest.param(
        'year = 2027\nholidays = []\nworkdays = ["2027-10-08"]\n',
        "error.calendar.workday_not_weekend",
        "workdays #1",
        id="weekday-make-up-day",
    ),
    pytest.param(
        'year = 2027\nholidays = [["2027-10-01", "2027-10-10"]]\nworkdays = ["2027-10-09"]\n',
        "error.calendar.overlap",
        "workdays #1",
        id="holiday-and-workday",
    ),
    pytest.param(
        'year = 2027\nholidays = ["2027-02-30"]\n',
        "error.calendar.bad_date",
        "holidays #1",
        id="no-such-day",
    ),
    pytest.param(
        'year = 2027\nholidays = ["2027-1-1"]\n',
        "error.calendar.bad_date",
        "holidays #1",
        id="not-iso",
    ),
    pytest.param(
        'year = 2027\nholidays = ["2027-01-01", "20270102"]\n',
        "error.calendar.bad_date",
        "holidays #2",
        id="compact-date",
    ),
    pytest.param(
        'year = 2027\nholidays = ["2027-W01-1"]\n',
        "error.calendar.bad_date",
        "holidays #1",
        id="week-date",
    ),
    pytest.param(
        "year = 2027\nholidays = [2027-01-01T08:00:00]\n",
        "error.calendar.bad_date",
        "holidays #1",
        id="datetime",
    ),
    pytest.param(
        "year = 2027\nholidays = [20270101]\n",
        "error.calendar.bad_date",
        "holidays #1",
        id="number",
    ),
    pytest.param(
        'year = 2027\nholidays = [["2027-10-07", "2027-10-01"]]\n',
        "error.calendar.bad_range",
        "holidays #1",
        id="reversed-range",
    ),
    pytest.param(
        'year = 2027\nholidays = [["2027-10-01", "2027-10-02", "2027-10-03"]]\n',
        "error.calendar.bad_entry",
        "holidays #1",
        id="three-element-range",
    ),
    pytest.param(
        'year = 2027\nholidays = "2027-10-01"\n',
        "error.calendar.bad_entry",
        "holidays",
        id="holidays-not-a-list",
    ),
    pytest.param(
        'year = "2027"\nholidays = []\n',
        "error.calendar.bad_year",
        "year",
        id="year-is-text",
    ),
    pytest.param(
        "year = true\nholidays = []\n",
        "error.calendar.bad_year",
        "year",
        id="year-is-bool",
    ),
    pytest.param(
        'holidays = ["2027-10-01"]\n',
        "error.calendar.missing_key",
        "year",
        id="no-year",
    ),
    pytest.param(
        'year = 2027\nholiday = ["2027-10-01"]\n',
        "error.calendar.unknown_key",
        "holiday",
        id="typo-in-key",
    ),
]


@pytest.mark.parametrize(("text", "key", "entry"), BAD_FILES)
def test_bad_schedule_names_source_and_entry(text: str, key: str, entry: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_schedule(text, source="notice-2027.toml")
    assert info.value.key == key
    assert info.value.params["source"] == "notice-2027.toml"
    assert info.value.params["entry"] == entry


def test_bad_toml_names_source() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_schedule('year = 2027\nholidays = ["2027-10-01"\n', source="broken.toml")
    assert info.value.key == "error.calendar.bad_toml"
    assert info.value.params["source"] == "broken.toml"
    assert info.value.params["detail"]


def test_bad_date_reports_the_offending_value() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_schedule('year = 2027\nholidays = [["2027-10-01", "2027-13-01"]]\n', source="s")
    assert info.value.params["value"] == "2027-13-01"


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(InvalidInput) as info:
        load_schedule_file(missing)
    assert info.value.key == "error.calendar.file_not_found"
    assert info.value.params["source"] == str(missing)

    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"# \xe9\nyear = 2027\nholidays = []\n")
    with pytest.raises(InvalidInput) as info:
        load_schedule_file(latin)
    assert info.value.key == "error.calendar.not_utf8"
    assert info.value.params["source"] == str(latin)

    bad = tmp_path / "bad.toml"
    bad.write_text('year = 2027\nholidays = []\nworkdays = ["2027-10-08"]\n', "utf-8")
    with pytest.raises(InvalidInput) as info:
        load_schedule_file(bad)
    assert info.value.params["source"] == str(bad)


# --- counting ----------------------------------------------------------------------------------


def test_add_workdays_edges(calendar: WorkCalendar) -> None:
    saturday = date(2025, 3, 8)
    assert calendar.add_workdays(saturday, 0) == Due(saturday, False)
    assert calendar.add_workdays(saturday, 1) == Due(date(2025, 3, 10), False)
    with pytest.raises(ValueError):
        calendar.add_workdays(saturday, -1)


def test_workdays_between_and_until(calendar: WorkCalendar) -> None:
    monday, friday = date(2025, 3, 10), date(2025, 3, 14)
    assert calendar.workdays_between(monday, friday) == 4
    assert calendar.workdays_between(friday, monday) == 0
    assert calendar.workdays_between(monday, monday) == 0
    assert calendar.workdays_until(monday, friday) == 4
    assert calendar.workdays_until(friday, friday) == 0
    assert calendar.workdays_until(date(2025, 3, 18), friday) == -2  # Mon 17, Tue 18 past due
    # Over a whole span of years, including fallback years on both sides.
    assert calendar.workdays_between(date(2002, 12, 31), date(2028, 12, 31)) == sum(
        calendar.is_workday(d) for d in days(date(2003, 1, 1), date(2028, 12, 31))
    )


dates_2024_2028 = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))
both_calendars = st.sampled_from(
    [WorkCalendar(), WorkCalendar([parse_schedule(SCHEDULE_2027, source="test")])]
)


@settings(max_examples=300, deadline=None)
@given(cal=both_calendars, start=dates_2024_2028, n=st.integers(min_value=0, max_value=60))
def test_workdays_between_inverts_add_workdays(cal: WorkCalendar, start: date, n: int) -> None:
    due = cal.add_workdays(start, n)
    assert cal.workdays_between(start, due.date) == n
    if n > 0:
        assert cal.is_workday(due.date)
        # The due date is the first date reaching n: one day earlier is one short.
        assert cal.workdays_between(start, due.date - timedelta(1)) == n - 1
    else:
        assert due.date == start
    assert due.estimated == any(
        not cal.covers(year) for year in {d.year for d in days(start + timedelta(1), due.date)}
    )


@settings(max_examples=200, deadline=None)
@given(
    cal=both_calendars,
    a=st.dates(min_value=date(2002, 1, 1), max_value=date(2030, 12, 31)),
    span=st.integers(min_value=-30, max_value=800),
)
def test_workdays_between_counts_working_days(cal: WorkCalendar, a: date, span: int) -> None:
    b = a + timedelta(span)
    forward = sum(cal.is_workday(d) for d in days(a + timedelta(1), b))  # empty when b <= a
    backward = sum(cal.is_workday(d) for d in days(b + timedelta(1), a))
    assert cal.workdays_between(a, b) == forward
    assert cal.workdays_between(b, a) == backward
    assert cal.workdays_until(a, b) == forward - backward
    assert cal.workdays_until(b, a) == backward - forward
