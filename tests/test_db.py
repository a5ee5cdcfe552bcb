"""The database: migrations match the models, SQLite is set for power cuts and two terminals."""

from __future__ import annotations

import multiprocessing
import random
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text
from sqlmodel import SQLModel

from models import SCHEMA_HEAD, Event
from tests.conftest import NOW, PASSWORD, Hall
from tests.factories import request_for
from workstation.db import alembic_config, make_engine, reading, schema_version, writing
from workstation.services import intake
from workstation.services.auth import login
from workstation.verify import verify_log


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], "a model changed without an Alembic migration"
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_the_schema_head_is_the_newest_migration(sqlite_engine: Engine) -> None:
    """Starting skips Alembic when the database is at ``SCHEMA_HEAD``: it must be the head."""
    script = ScriptDirectory.from_config(alembic_config(sqlite_engine))
    assert script.get_current_head() == SCHEMA_HEAD == schema_version(sqlite_engine)


def test_sqlite_is_set_for_power_cuts_and_two_terminals(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        pragma = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }


def test_write_transactions_begin_immediate(sqlite_engine: Engine) -> None:
    statements: list[str] = []
    from sqlalchemy import event

    event.listen(sqlite_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with writing(sqlite_engine) as session:
        session.execute(text("SELECT 1"))
    with reading(sqlite_engine) as session:
        session.execute(text("SELECT 1"))
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]


def _clerk_accepts(db_url: str, key_dir: str, count: int, seed: int) -> int:
    engine = make_engine(db_url)
    with reading(engine) as session:
        clerk = login(session, key_dir=Path(key_dir), username="clerk", password=PASSWORD)
    rng = random.Random(seed)
    for _ in range(count):
        with writing(engine) as session:
            intake.accept(
                session, actor=clerk, request=request_for("medical-insurance", rng=rng), now=NOW
            )
    engine.dispose()
    return count


def test_two_terminals_on_one_file_never_see_database_locked(sqlite_hall: Hall) -> None:
    url = sqlite_hall.engine.url.render_as_string()
    with reading(sqlite_hall.engine) as session:
        before = session.scalar(select(func.count()).select_from(Event))
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        done = pool.starmap(
            _clerk_accepts, [(url, str(sqlite_hall.key_dir), 40, s) for s in (1, 2)]
        )
    assert done == [40, 40]
    with reading(sqlite_hall.engine) as session:
        seqs = list(session.scalars(select(Event.seq).order_by(Event.seq)))
        assert len(seqs) == before + 80
        assert seqs == list(range(1, len(seqs) + 1))
        assert verify_log(session).ok
