"""Engines and transactions: SQLite made safe for power cuts and two terminals, or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

import models
from workstation.errors import Conflict, StorageFull

if TYPE_CHECKING:
    from alembic.config import Config

WRITE_LOCK_KEY = 0x6F6E6577  # "onew"
"""PostgreSQL advisory lock taken by every write transaction of the workstation."""
BUSY_TIMEOUT_MS = 30_000
"""How long a writer waits for another terminal's transaction before giving up."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, synchronous=FULL, foreign keys and a busy wait."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level, so that we, not pysqlite, decide how BEGIN looks.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the lock at BEGIN, where the busy timeout applies, instead of failing
        # with "database is locked" when a deferred read transaction tries to upgrade.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_sqlite(engine: Engine) -> bool:
    """True when ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for queries; nothing it does is committed."""
    with Session(engine) as session:
        yield session


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """One write transaction: committed whole at the end, or rolled back whole on error.

    Writers are serialised before they read anything, so a decision is always taken on the
    latest committed state (no lost update) and sequence numbers never collide: SQLite begins
    with BEGIN IMMEDIATE; PostgreSQL takes a transaction-scoped advisory lock first.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    try:
        # Objects stay readable after the commit: callers report what they just wrote.
        with (
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
            holding_loaded(session),
        ):
            if not is_sqlite(engine):
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
            yield session
    except OperationalError as error:
        if _disk_full(error):
            # The transaction was rolled back whole: say so in words, not as a traceback.
            raise StorageFull() from None
        if _busy(error):
            # Another terminal held the write lock for the whole busy timeout (it waits, it
            # does not fail at once); nothing was saved. Say so in words, never as SQLite's
            # "database is locked".
            raise Conflict("error.busy", seconds=BUSY_TIMEOUT_MS // 1000) from None
        raise


@contextmanager
def holding_loaded(session: Session) -> Iterator[None]:
    """Keep every object ``session`` loads or stores in memory until the block ends.

    The identity map holds clean objects only weakly, so a transaction that checks and applies
    thousands of events would read the same office, operator, task and chain head back from
    the database for every one of them. A write transaction holds what it touched anyway.
    """
    kept: list[object] = []

    def keep(_session: Session, instance: object) -> None:
        kept.append(instance)

    names = ("loaded_as_persistent", "pending_to_persistent", "detached_to_persistent")
    for name in names:
        event.listen(session, name, keep)
    try:
        yield
    finally:
        for name in names:
            event.remove(session, name, keep)


def _busy(error: OperationalError) -> bool:
    """SQLite's SQLITE_BUSY or SQLITE_LOCKED, after the busy timeout ran out."""
    original = error.orig
    if getattr(original, "sqlite_errorname", "").startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return True
    return "database is locked" in str(original)


def _disk_full(error: OperationalError) -> bool:
    """SQLite's SQLITE_FULL, or PostgreSQL's disk_full (SQLSTATE 53100)."""
    original = error.orig
    if getattr(original, "sqlite_errorname", "") == "SQLITE_FULL":
        return True
    return getattr(original, "sqlstate", "") == "53100" or "disk is full" in str(original)


def alembic_config(engine: Engine) -> Config:
    """Alembic configuration pointing at the migrations shipped in ``models/migrations``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(models.__file__).parent / "migrations"))
    # ConfigParser treats % as interpolation; URLs may hold %-escapes (search_path options).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


PROJECTIONS_CHANGED = "0011"
"""The newest migration that changed what the projections hold: older databases replay."""


def schema_version(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty one)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (run at every start)."""
    # A database already at the newest migration is the common case: answer it without
    # loading Alembic, which would add a fifth of a second to every start.
    before = schema_version(engine)
    if before == models.SCHEMA_HEAD:
        return
    from alembic import command

    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if before is not None and before < PROJECTIONS_CHANGED:
        from workstation import rebuild

        with writing(engine) as session:
            rebuild.rebuild_in_place(session)
