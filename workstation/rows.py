"""Where the projector reads and writes projection rows: the live session, or memory.

Live, every event is projected through the session's ORM objects, beside the services that
read them. A rebuild replays the whole log into empty tables, where nothing else reads until
it ends: there the same handlers fold the events into plain rows held in dicts, written once
per table by Core executemany. ORM objects cost ~80 µs each to build and a flush per query;
a plain row costs ~1 µs (bench/RESULTS.md, rebuild). ``rebuild --check`` compares the two.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from operator import itemgetter
from typing import Any, Protocol, TypeVar, cast

from pydantic_core import PydanticUndefined
from sqlalchemy import Connection, Executable, Table, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import PROJECTIONS, ApplicationMaterial, CaseEvent, Office, Task, TaskTally

M = TypeVar("M")

_LATEST = "caseorder.latest"
"""Where a session keeps the latest order key of each case it read or placed an event of."""


def latest_key(session: Session, tracking_no: str) -> str | None:
    """The order key of the last event applied to an application (None if it has none)."""
    known: dict[str, str | None] = session.info.setdefault(_LATEST, {})
    if tracking_no not in known:
        query = select(func.max(CaseEvent.order_key)).where(
            col(CaseEvent.tracking_no) == tracking_no
        )
        known[tracking_no] = session.scalar(query)
    return known[tracking_no]


def forget_latest(session: Session) -> None:
    """Drop what ``latest_key`` remembers (after case events were deleted in bulk)."""
    session.info.pop(_LATEST, None)


class Rows(Protocol):
    """What a projection handler may do with projection rows."""

    log: Session
    """The session holding the signed events (to replay a case or admit a held event)."""

    def get(self, model: type[M], key: Any) -> M | None:
        """The row of ``model`` with primary key ``key`` (a tuple for composite keys)."""

    def add(self, model: type[M], **values: Any) -> M:
        """A new row of ``model``; columns not given take the model's defaults."""

    def put(self, model: type[M], **values: Any) -> None:
        """The row with these values, replacing every column of one with the same key."""

    def delete(self, row: object) -> None:
        """Remove ``row``."""

    def flush(self) -> None:
        """Send what is pending, where rows later read need it (live only)."""

    def tasks_of(self, tracking_no: str) -> list[Task]:
        """The tasks of one application."""

    def materials_of(self, tracking_no: str) -> list[ApplicationMaterial]:
        """The materials of one application."""

    def case_events(self, tracking_no: str) -> list[CaseEvent]:
        """The events placed in one case, in their agreed order."""

    def local_office(self) -> Office | None:
        """The office this database belongs to (None before its genesis)."""

    def latest(self, tracking_no: str) -> str | None:
        """The order key of the last event placed in a case (None if none)."""

    def placed(self, tracking_no: str, key: str) -> None:
        """Note that an event with order key ``key`` was placed in a case."""

    def tally(self, department: str, left: str | None, entered: str | None) -> None:
        """A task of ``department`` left one state (None: it is new) for another (None: gone)."""

    def settle(self) -> None:
        """Store what the event changed that is kept apart from its rows (the task tally)."""


class SessionRows:
    """Rows as the session's ORM objects: the live projections."""

    def __init__(self, session: Session, log: Session | None = None) -> None:
        self.session, self.log = session, log or session
        self._tally: Counter[tuple[str, str]] = Counter()

    def get(self, model: type[M], key: Any) -> M | None:
        """The row of ``model`` with primary key ``key``."""
        return self.session.get(model, key)

    def add(self, model: type[M], **values: Any) -> M:
        """A new row of ``model``, added to the session."""
        row = model(**values)
        self.session.add(row)
        return row

    def put(self, model: type[M], **values: Any) -> None:
        """The row with these values, merged over one with the same key."""
        self.session.merge(model(**values))

    def delete(self, row: object) -> None:
        """Delete ``row`` at the next flush."""
        self.session.delete(row)

    def flush(self) -> None:
        """Flush the session."""
        self.session.flush()

    def tasks_of(self, tracking_no: str) -> list[Task]:
        """The tasks of one application, read (after a flush) from the database."""
        return list(self.session.scalars(select(Task).where(col(Task.tracking_no) == tracking_no)))

    def materials_of(self, tracking_no: str) -> list[ApplicationMaterial]:
        """The materials of one application."""
        query = select(ApplicationMaterial).where(
            col(ApplicationMaterial.tracking_no) == tracking_no
        )
        return list(self.session.scalars(query))

    def case_events(self, tracking_no: str) -> list[CaseEvent]:
        """The events placed in one case, in their agreed order."""
        query = (
            select(CaseEvent)
            .where(col(CaseEvent.tracking_no) == tracking_no)
            .order_by(col(CaseEvent.order_key))
        )
        return list(self.session.scalars(query))

    def local_office(self) -> Office | None:
        """The office marked local."""
        query = select(Office).where(col(Office.local) == True)  # noqa: E712
        return self.session.scalars(query).first()

    def latest(self, tracking_no: str) -> str | None:
        """The latest order key of a case, remembered by the session."""
        return latest_key(self.session, tracking_no)

    def placed(self, tracking_no: str, key: str) -> None:
        """Keep the session's latest order key of the case up to date."""
        known = self.session.info.get(_LATEST, {})
        if tracking_no in known:
            known[tracking_no] = max(known[tracking_no] or "", key)

    def tally(self, department: str, left: str | None, entered: str | None) -> None:
        """Count the move, to be stored by ``settle``."""
        if left is not None:
            self._tally[(department, left)] -= 1
        if entered is not None:
            self._tally[(department, entered)] += 1

    def settle(self) -> None:
        """Add the event's moves to the stored tally, each in one statement that adds (two
        writers never read and write back the same count), and drop the counts at zero."""
        moves = [(key, n) for key, n in self._tally.items() if n]
        self._tally.clear()
        if not moves:
            return
        added = [{"department_code": d, "state": s, "n": n} for (d, s), n in moves]
        self.session.execute(_tally_upsert(self.session.get_bind().dialect.name), added)
        if any(n < 0 for _, n in moves):  # only a count that went down can be at zero
            self.session.execute(delete(_TALLY).where(_TALLY.c.n == 0))


_TALLY: Table = TaskTally.__table__  # type: ignore[attr-defined]


def _tally_upsert(dialect: str) -> Executable:
    """Insert a department's count for a state, or add it to the count already there."""
    keys = [_TALLY.c.department_code, _TALLY.c.state]
    if dialect == "postgresql":
        pg = postgresql_insert(_TALLY)
        return pg.on_conflict_do_update(index_elements=keys, set_={"n": _TALLY.c.n + pg.excluded.n})
    lite = sqlite_insert(_TALLY)
    return lite.on_conflict_do_update(index_elements=keys, set_={"n": _TALLY.c.n + lite.excluded.n})


class Row:
    """A projection row held in memory: its columns are its attributes."""

    model: type
    """The SQLModel table the row belongs to."""


class _Shape:
    """How rows of one model are made and found: defaults, key columns, row class."""

    def __init__(self, model: type) -> None:
        table: Table = model.__table__  # type: ignore[attr-defined]
        self.key = itemgetter(*(column.name for column in table.primary_key.columns))
        """A row's key from its columns: the value of a one-column key, else a tuple."""
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Any] = {}
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            if field.default_factory is not None:
                self.factories[name] = field.default_factory
            elif field.default is not PydanticUndefined:
                self.defaults[name] = field.default
        self.row_class: type[Row] = type(f"{model.__name__}Row", (Row,), {"model": model})

    def make(self, values: dict[str, Any]) -> Row:
        fields = {**self.defaults, **values}
        for name, factory in self.factories.items():
            if name not in fields:
                fields[name] = factory()
        row = self.row_class.__new__(self.row_class)
        row.__dict__ = fields
        return row


_SHAPES = {model: _Shape(model) for model in PROJECTIONS}


class MemoryRows:
    """Rows in dicts, for a replay into empty projections; ``write`` stores them all."""

    def __init__(self, log: Session) -> None:
        self.log = log
        self._tables: dict[type, dict[Any, Row]] = {model: {} for model in PROJECTIONS}
        self._of_case: dict[type, defaultdict[str, dict[Any, Row]]] = {
            model: defaultdict(dict) for model in (Task, ApplicationMaterial, CaseEvent)
        }
        self._latest: dict[str, str] = {}

    def get(self, model: type[M], key: Any) -> M | None:
        """The row of ``model`` with primary key ``key``."""
        return cast("M | None", self._tables[model].get(key))

    def add(self, model: type[M], **values: Any) -> M:
        """A new row of ``model``; a key already held is a broken log, as a live insert."""
        shape = _SHAPES[model]
        row = shape.make(values)
        key = shape.key(row.__dict__)
        table = self._tables[model]
        if key in table:
            raise ValueError(f"{model.__name__} {key!r} is already projected")
        table[key] = row
        if model in self._of_case:
            self._of_case[model][row.__dict__["tracking_no"]][key] = row
        return cast("M", row)

    def put(self, model: type[M], **values: Any) -> None:
        """The row with these values, replacing every column of one with the same key."""
        shape = _SHAPES[model]
        row = self._tables[model].get(shape.key(values))
        if row is None:
            self.add(model, **values)
        else:
            row.__dict__.update(shape.make(values).__dict__)

    def delete(self, row: object) -> None:
        """Forget ``row``."""
        model = cast(Row, row).model
        key = _SHAPES[model].key(row.__dict__)
        del self._tables[model][key]
        if model in self._of_case:
            del self._of_case[model][row.__dict__["tracking_no"]][key]

    def flush(self) -> None:
        """Nothing to send until ``write``."""

    def tasks_of(self, tracking_no: str) -> list[Task]:
        """The tasks of one application."""
        return cast("list[Task]", list(self._of_case[Task][tracking_no].values()))

    def materials_of(self, tracking_no: str) -> list[ApplicationMaterial]:
        """The materials of one application."""
        held = self._of_case[ApplicationMaterial][tracking_no].values()
        return cast("list[ApplicationMaterial]", list(held))

    def case_events(self, tracking_no: str) -> list[CaseEvent]:
        """The events placed in one case, in their agreed order."""
        held = self._of_case[CaseEvent][tracking_no]
        return cast("list[CaseEvent]", [held[key] for key in sorted(held)])

    def local_office(self) -> Office | None:
        """The office marked local."""
        found = (row for row in self._tables[Office].values() if row.__dict__["local"])
        return cast("Office | None", next(found, None))

    def latest(self, tracking_no: str) -> str | None:
        """The latest order key of a case (everything placed went through ``placed``)."""
        return self._latest.get(tracking_no)

    def placed(self, tracking_no: str, key: str) -> None:
        """Keep the latest order key of the case."""
        known = self._latest.get(tracking_no)
        if known is None or key > known:
            self._latest[tracking_no] = key

    def tally(self, department: str, left: str | None, entered: str | None) -> None:
        """Nothing: ``write`` counts the tasks themselves, so a rebuild checks the live tally."""

    def settle(self) -> None:
        """Nothing to store until ``write``."""

    def write(self, connection: Connection) -> None:
        """Insert every row held, parents first, one executemany per table."""
        tasks = (row.__dict__ for row in self._tables[Task].values())
        counted = Counter((task["department_code"], task["state"]) for task in tasks)
        self._tables[TaskTally] = {}
        for (department, state), n in counted.items():
            self.add(TaskTally, department_code=department, state=state, n=n)
        for model in PROJECTIONS:
            values = [row.__dict__ for row in self._tables[model].values()]
            if values:
                connection.execute(insert(model.__table__), values)  # type: ignore[attr-defined]
