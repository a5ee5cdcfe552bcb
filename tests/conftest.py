"""Shared fixtures: a real SQLite file and a real PostgreSQL schema, an office, a fixed clock."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from workstation import crypto
from workstation.catalog import load_catalog
from workstation.crypto import Signer
from workstation.db import make_engine, reading, upgrade, writing
from workstation.services import office
from workstation.services.auth import Actor, login

PG_URL = os.environ.get("ONEWINDOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL server the suite uses (trust auth, database ``test``)."""
CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHINA)
"""A Monday morning in the office; tests never read the real clock."""
PASSWORD = "secret-pass"
OFFICE = office.OfficeSpec("610102001", "西一路街道便民服务中心", "township")
COUNTY = office.OfficeSpec("610102", "新城区", "county")


def pytest_configure(config: pytest.Config) -> None:
    """Cheaper scrypt for test keys (the production cost is asserted in test_crypto)."""
    crypto.SCRYPT_N = 2**10


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own config and data never decide a result."""
    monkeypatch.setenv("ONEWINDOW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ONEWINDOW_DATA_DIR", str(tmp_path / "data"))
    for name in list(os.environ):
        if name.startswith("ONEWINDOW_") and name not in (
            "ONEWINDOW_CONFIG_DIR",
            "ONEWINDOW_DATA_DIR",
            "ONEWINDOW_TEST_PG",
        ):
            monkeypatch.delenv(name)


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_URL} is not reachable ({exc.__class__.__name__})"


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run, or None; with CI=true a missing server fails."""
    reason = _postgres_available()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    return reason


def _pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: a SQLite file, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'office.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    reason = request.getfixturevalue("postgres_reason")
    if reason:
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True)
    admin.execute(f"CREATE SCHEMA {schema}")
    eng = make_engine(_pg_schema_url(schema))
    try:
        upgrade(eng)
        yield eng
    finally:
        eng.dispose()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file only (for tests that edit the file behind the app's back)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'office.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


DEPARTMENT_OFFICERS = {
    "market": "o-market",
    "health": "o-health",
    "fire": "o-fire",
    "police": "o-police",
    "quality": "o-quality",
    "tax": "o-tax",
    "village-committee": "o-village",
    "township-civil": "o-civil",
    "county-civil": "o-county",
}


@dataclass
class Hall:
    """An initialised township office with one operator of every role, all logged in."""

    engine: Engine
    key_dir: Path
    admin: Actor
    clerk: Actor
    supervisor: Actor
    auditor: Actor
    officers: dict[str, Actor]
    """Department code → an officer of that department."""

    def officer(self, department: str) -> Actor:
        """The officer of ``department``."""
        return self.officers[department]


def clerk_signer(code: str) -> Signer:
    """The clerk's key of test office ``code``, the same in every run."""
    seed = hashlib.sha256(f"onewindow-test-clerk:{code}".encode()).digest()
    return Signer(Ed25519PrivateKey.from_private_bytes(seed))


def open_hall(engine: Engine, key_dir: Path, *, code: str = "") -> Hall:
    """Initialise the office (``code``, or the usual one), publish the demo catalog, register
    and log in every operator."""
    spec = office.OfficeSpec(code, f"{OFFICE.name}（{code}）", OFFICE.level) if code else OFFICE
    with writing(engine) as session:
        admin = office.init_office(
            session,
            key_dir=key_dir,
            office=spec,
            parent=COUNTY,
            admin_username="admin",
            admin_name="管理员",
            admin_password=PASSWORD,
            now=NOW,
        )
        office.publish_catalog(session, actor=admin, catalog=load_catalog(), now=NOW)
        people = [
            ("clerk", "王芳", "clerk", []),
            ("super", "李督查", "supervisor", []),
            ("audit", "赵审计", "auditor", []),
        ]
        people += [
            (user, f"{dep}审批员", "officer", [dep]) for dep, user in DEPARTMENT_OFFICERS.items()
        ]
        for username, name, role, deps in people:
            office.add_operator(
                session,
                # The access code on a receipt comes from the clerk's key: fixed, so the
                # receipt snapshots do not change from run to run.
                signer=clerk_signer(spec.code) if username == "clerk" else None,
                actor=admin,
                key_dir=key_dir,
                username=username,
                name=name,
                role=role,
                departments=deps,
                password=PASSWORD,
                now=NOW,
            )
    with reading(engine) as session:

        def who(username: str) -> Actor:
            return login(session, key_dir=key_dir, username=username, password=PASSWORD)

        return Hall(
            engine,
            key_dir,
            admin,
            who("clerk"),
            who("super"),
            who("audit"),
            {dep: who(user) for dep, user in DEPARTMENT_OFFICERS.items()},
        )


@pytest.fixture
def hall(engine: Engine, tmp_path: Path) -> Hall:
    """An office ready for work, on SQLite and on PostgreSQL."""
    return open_hall(engine, tmp_path / "keys")


@pytest.fixture
def sqlite_hall(sqlite_engine: Engine, tmp_path: Path) -> Hall:
    """An office ready for work, on a SQLite file only."""
    return open_hall(sqlite_engine, tmp_path / "keys")


@pytest.fixture
def township(tmp_path: Path) -> Hall:
    """A township office on its own SQLite file, for the levels above it (the parametrised
    ``engine``) to sync with."""
    engine = make_engine(f"sqlite:///{tmp_path / 'township.db'}")
    upgrade(engine)
    return open_hall(engine, tmp_path / "township-keys")
