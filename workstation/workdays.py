"""Working-day arithmetic for due dates: Chinese public holidays, make-up workdays, fallbacks.

Which calendar answers for a given year, first match wins:

1. a loaded :class:`YearSchedule` for that year (the administrator's file, or plain data that
   travelled between offices in an event body);
2. the ``chinesecalendar`` package (official data, 2004–2026 in version 1.11);
3. plain weekends (Monday–Friday work).  Such a year is *not covered*: every due date counted
   through it carries ``estimated=True`` so the screens can say so.

A schedule file is TOML::

    year = 2027
    holidays = [
        ["2027-01-01", "2027-01-03"],   # an inclusive range
        "2027-06-09",                   # or a single day
    ]
    workdays = ["2027-01-31"]           # make-up working days; each a Saturday or Sunday

Dates may be quoted strings or bare TOML dates.  ``workdays`` may be left out; any other key is
refused so that a typo (``holiday = …``) cannot silently drop the holidays.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import chinese_calendar

from workstation.errors import InvalidInput

__all__ = [
    "Due",
    "WorkCalendar",
    "YearSchedule",
    "bundled_schedule",
    "load_schedule_file",
    "parse_schedule",
]

MIN_YEAR = 1900
"""Earliest year a schedule may describe."""

MAX_YEAR = 2199
"""Latest year a schedule may describe."""

_KEYS = frozenset({"year", "holidays", "workdays"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class YearSchedule:
    """One year's official arrangement: holidays and make-up working days (调休上班)."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def __post_init__(self) -> None:
        _check_schedule(self.year, self.holidays, self.workdays, "YearSchedule")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for an event body: the year and sorted lists of ISO dates."""
        return {
            "year": self.year,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "data") -> YearSchedule:
        """Rebuild a schedule from :meth:`to_dict` output, validating it like a file."""
        return _schedule_from_mapping(data, source)


@dataclass(frozen=True)
class Due:
    """A computed due date; ``estimated`` when a counted day lay in a year without official data."""

    date: dt.date
    estimated: bool


def parse_schedule(text: str, *, source: str) -> YearSchedule:
    """Parse and validate the TOML text of a schedule; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("error.calendar.bad_toml", source=source, detail=str(exc)) from None
    return _schedule_from_mapping(data, source)


def load_schedule_file(path: Path) -> YearSchedule:
    """Read and validate a schedule file."""
    source = str(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise InvalidInput("error.calendar.file_not_found", source=source) from None
    except UnicodeDecodeError:
        raise InvalidInput("error.calendar.not_utf8", source=source) from None
    except OSError as exc:
        detail = exc.strerror or type(exc).__name__
        raise InvalidInput("error.calendar.unreadable", source=source, detail=detail) from None
    return parse_schedule(text, source=source)


@cache
def bundled_schedule(year: int) -> YearSchedule | None:
    """The schedule shipped as ``workstation/calendar_data/{year}.toml``, if there is one."""
    resource = resources.files("workstation.calendar_data").joinpath(f"{year}.toml")
    if not resource.is_file():
        return None
    text = resource.read_text("utf-8")
    return parse_schedule(text, source=f"workstation/calendar_data/{year}.toml")


class WorkCalendar:
    """Answers "is this a working day" and counts working days, caching one table per year."""

    def __init__(self, schedules: Iterable[YearSchedule] = ()) -> None:
        # A later schedule for the same year replaces an earlier one (a corrected notice).
        self._schedules: dict[int, YearSchedule] = {s.year: s for s in schedules}
        self._years: dict[int, _Year] = {}

    @property
    def schedules(self) -> tuple[YearSchedule, ...]:
        """The loaded schedules, ordered by year (for storing them)."""
        return tuple(self._schedules[y] for y in sorted(self._schedules))

    def with_schedule(self, schedule: YearSchedule) -> WorkCalendar:
        """A new calendar with ``schedule`` added (replacing any schedule of the same year)."""
        return WorkCalendar([*self._schedules.values(), schedule])

    def covers(self, year: int) -> bool:
        """Whether official data for ``year`` is known (a loaded schedule or the package)."""
        return year in self._schedules or _package_covers(year)

    def is_workday(self, d: dt.date) -> bool:
        """Whether ``d`` is a working day."""
        info = self._year(d.year)
        return info.flags[d.toordinal() - info.first] == 1

    def add_workdays(self, start: dt.date, days: int) -> Due:
        """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        if days == 0:
            return Due(start, estimated=False)
        info = self._year(start.year)
        pos = start.toordinal() - info.first + 1  # cum[pos] counts working days up to start
        remaining = days
        estimated = False
        while True:
            if not info.official and pos < len(info.flags):
                estimated = True
            left = info.cum[-1] - info.cum[pos]
            if remaining <= left:
                target = info.cum[pos] + remaining
                index = bisect_left(info.cum, target, pos + 1)
                return Due(dt.date.fromordinal(info.first + index - 1), estimated)
            remaining -= left
            info = self._year(info.year + 1)
            pos = 0

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """The number of working days ``d`` with ``a < d <= b`` (0 when ``b <= a``)."""
        if b <= a:
            return 0
        first, last = self._year(a.year), self._year(b.year)
        count = (
            last.cum[b.toordinal() - last.first + 1] - first.cum[a.toordinal() - first.first + 1]
        )
        for year in range(a.year, b.year):
            count += self._year(year).cum[-1]
        return count

    def workdays_until(self, today: dt.date, due: dt.date) -> int:
        """Working days left until ``due``; negative: working days already past it."""
        if due >= today:
            return self.workdays_between(today, due)
        return -self.workdays_between(due, today)

    def _year(self, year: int) -> _Year:
        info = self._years.get(year)
        if info is None:
            info = self._years[year] = self._build_year(year)
        return info

    def _build_year(self, year: int) -> _Year:
        first = dt.date(year, 1, 1)
        length = 366 if _is_leap(year) else 365
        days = [first + dt.timedelta(n) for n in range(length)]
        schedule = self._schedules.get(year)
        if schedule is not None:
            flags = [
                d in schedule.workdays or (d.weekday() < 5 and d not in schedule.holidays)
                for d in days
            ]
            official = True
        elif _package_covers(year):
            flags = [bool(chinese_calendar.is_workday(d)) for d in days]
            official = True
        else:
            flags = [d.weekday() < 5 for d in days]
            official = False
        cum = [0]
        for flag in flags:
            cum.append(cum[-1] + flag)
        return _Year(year, first.toordinal(), bytes(flags), tuple(cum), official)


@dataclass(frozen=True, slots=True)
class _Year:
    year: int
    first: int  # ordinal of January 1
    flags: bytes  # 1 for a working day, indexed by day of year from 0
    cum: tuple[int, ...]  # cum[i]: working days among the first i days; len(flags) + 1 items
    official: bool


@cache
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _schedule_from_mapping(data: Mapping[str, Any], source: str) -> YearSchedule:
    if not isinstance(data, Mapping):
        raise _error("bad_entry", source, "-", data)
    for key in data:
        if key not in _KEYS:
            raise InvalidInput("error.calendar.unknown_key", source=source, entry=str(key))
    for key in ("year", "holidays"):
        if key not in data:
            raise InvalidInput("error.calendar.missing_key", source=source, entry=key)
    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool) or not MIN_YEAR <= year <= MAX_YEAR:
        raise _error("bad_year", source, "year", year, min=MIN_YEAR, max=MAX_YEAR)
    holidays: set[dt.date] = set()
    for entry, value in _entries(data["holidays"], "holidays", source):
        holidays.update(_holiday_dates(value, entry, year, source))
    workdays: set[dt.date] = set()
    for entry, value in _entries(data.get("workdays", []), "workdays", source):
        day = _date(value, entry, year, source)
        if day.weekday() < 5:
            raise _error("workday_not_weekend", source, entry, day)
        if day in holidays:
            raise _error("overlap", source, entry, day)
        workdays.add(day)
    return YearSchedule(year, frozenset(holidays), frozenset(workdays))


def _entries(value: Any, key: str, source: str) -> list[tuple[str, Any]]:
    if not isinstance(value, list | tuple):
        raise _error("bad_entry", source, key, value)
    return [(f"{key} #{n}", item) for n, item in enumerate(value, start=1)]


def _holiday_dates(value: Any, entry: str, year: int, source: str) -> list[dt.date]:
    if not isinstance(value, list | tuple):
        return [_date(value, entry, year, source)]
    if len(value) not in (1, 2):
        raise _error("bad_entry", source, entry, value)
    first = _date(value[0], entry, year, source)
    last = _date(value[-1], entry, year, source)
    if last < first:
        raise _error("bad_range", source, entry, value)
    return [first + dt.timedelta(n) for n in range((last - first).days + 1)]


def _date(value: Any, entry: str, year: int, source: str) -> dt.date:
    day: dt.date | None = None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            day = None
    if day is None:
        raise _error("bad_date", source, entry, value)
    if day.year != year:
        raise _error("outside_year", source, entry, day, year=year)
    return day


def _error(reason: str, source: str, entry: str, value: Any, **extra: Any) -> InvalidInput:
    return InvalidInput(
        f"error.calendar.{reason}", source=source, entry=entry, value=_show(value), **extra
    )


def _check_schedule(
    year: int, holidays: frozenset[dt.date], workdays: frozenset[dt.date], source: str
) -> None:
    for key, days in (("holidays", holidays), ("workdays", workdays)):
        for day in sorted(days):
            if day.year != year:
                raise _error("outside_year", source, key, day, year=year)
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise _error("workday_not_weekend", source, "workdays", day)
        if day in holidays:
            raise _error("overlap", source, "workdays", day)


def _show(value: Any) -> str:
    if isinstance(value, str | dt.date):
        return str(value)
    return repr(value)
