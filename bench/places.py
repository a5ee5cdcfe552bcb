"""Where a benchmark puts its databases: a SQLite file in a temporary folder, or a schema of
its own on the PostgreSQL server (``ONEWINDOW_BENCH_POSTGRES``, by default the test server),
dropped afterwards."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from workstation.db import make_engine, upgrade

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CACHE = Path(__file__).resolve().parent / ".cache"
"""Big databases grown once and kept between runs (ignored by git)."""


def postgres_url() -> str | None:
    """The PostgreSQL server benchmarks use, or None if none answers."""
    import psycopg

    url = os.environ.get("ONEWINDOW_BENCH_POSTGRES", DEFAULT_POSTGRES)
    try:
        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3).close()
    except psycopg.OperationalError:
        return None
    return url


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite file through the backup API (never a file copy); target."""
    with closing(sqlite3.connect(source)) as old, closing(sqlite3.connect(target)) as new:
        old.backup(new)
    return target


@contextmanager
def folder() -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as name:
        yield Path(name)


@contextmanager
def sqlite_database(where: Path, name: str = "office.db") -> Iterator[Engine]:
    """A migrated, empty SQLite file ``where/name``."""
    engine = make_engine(f"sqlite:///{where / name}")
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def postgres_database() -> Iterator[Engine]:
    """A migrated, empty schema of its own on the PostgreSQL server, dropped afterwards."""
    import psycopg

    url = postgres_url()
    if url is None:
        raise RuntimeError("no PostgreSQL server answers (set ONEWINDOW_BENCH_POSTGRES)")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    engine = make_engine(f"{url}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()
