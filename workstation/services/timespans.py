"""Date arithmetic the database does for the dashboard: days between two times, the local day.

SQLite keeps times as UTC text and PostgreSQL as ``timestamptz``; each has its own functions.
Summing in SQL spares the dashboard a Python pass (and a datetime conversion) over every
decision of the window: ~66,000 rows at a county (bench/RESULTS.md, dashboard).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement[float]):
    """``later - earlier`` in days, fractional."""

    type = Float()
    inherit_cache = True


class local_day(FunctionElement[Any]):
    """The calendar day of a UTC time at an offset of ``seconds`` east (a literal integer)."""

    type = Date()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(days_between, "postgresql")
def _days_postgres(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)"


@compiles(local_day, "sqlite")
def _day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at, seconds = (compiler.process(arg, literal_binds=True) for arg in element.clauses)
    return f"date({at}, ({seconds}) || ' seconds')"


@compiles(local_day, "postgresql")
def _day_postgres(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    at, seconds = (compiler.process(arg, literal_binds=True) for arg in element.clauses)
    return f"CAST(timezone('UTC', {at}) + make_interval(secs => {seconds}) AS DATE)"
