"""What every command shares: settings, the database, the acting operator, output, errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NoReturn

import typer
from sqlalchemy import Engine
from sqlmodel import Session

from workstation.db import make_engine, reading, upgrade, writing
from workstation.errors import (
    AccountLocked,
    AuthenticationFailed,
    ConfigError,
    PermissionDenied,
    WorkstationError,
)
from workstation.i18n import LANGUAGES, translate
from workstation.services import audit
from workstation.services.auth import Actor, login
from workstation.services.office import local_office
from workstation.settings import Settings, load_settings


@dataclass
class Context:
    """Built once per command from the settings; opens the database only when asked."""

    settings: Settings
    _actor: Actor | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        """The database, created or upgraded to the newest schema on first use."""
        engine = make_engine(self.settings.database_url)
        upgrade(engine)
        return engine

    def now(self) -> datetime:
        """The office's current time (aware)."""
        return datetime.now().astimezone()

    def say(self, key: str, **params: Any) -> None:
        """Print one message in the operator's language."""
        typer.echo(translate(key, self.settings.language, **params))

    def text(self, key: str, **params: Any) -> str:
        """One message in the operator's language, as a string."""
        return translate(key, self.settings.language, **params)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (committed whole, or not at all)."""
        with writing(self.engine) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session."""
        with reading(self.engine) as session:
            yield session

    @property
    def actor(self) -> Actor:
        """The operator named in ONEWINDOW_OPERATOR, logged in with ONEWINDOW_PASSWORD."""
        if self._actor is None:
            username = os.environ.get("ONEWINDOW_OPERATOR", "")
            password = os.environ.get("ONEWINDOW_PASSWORD", "")
            if not username or not password:
                self.fail_key("cli.need_credentials")
            with self.read() as session:
                local_office(session)
                self._actor = login(
                    session, key_dir=self.settings.key_dir, username=username,
                    password=password, now=self.now(),
                )  # fmt: skip
        return self._actor

    def fail_key(self, key: str, **params: Any) -> NoReturn:
        """Print a translated error line and stop with exit code 1."""
        typer.echo(self.text("cli.error", message=self.text(key, **params)), err=True)
        raise typer.Exit(1)

    def fail(self, error: WorkstationError) -> NoReturn:
        """Print ``error`` in the operator's language, audit refusals, stop with exit code 1."""
        self.audit_refusal(error)
        typer.echo(self.text("cli.error", message=error.message(self.settings.language)), err=True)
        raise typer.Exit(1)

    def audit_refusal(self, error: WorkstationError) -> None:
        """Put a refused permission or a failed login on the audit trail (others are not)."""
        if not isinstance(error, PermissionDenied | AuthenticationFailed):
            return
        who = self._actor.username if self._actor else os.environ.get("ONEWINDOW_OPERATOR", "?")
        if isinstance(error, AccountLocked):
            return  # a try while locked is not one more wrong password
        action = "login_failed" if isinstance(error, AuthenticationFailed) else "refused"
        try:
            with writing(self.engine) as session:
                audit.record(session, actor=who[:40], action=action, detail=error.key)
        except Exception:
            pass


_current: Context | None = None


def get() -> Context:
    """The context of the running command, built on first use (never at import)."""
    global _current
    if _current is None:
        try:
            _current = Context(load_settings())
        except ConfigError as error:
            # The settings are broken, but the language asked for may still be a good one.
            wanted = os.environ.get("ONEWINDOW_LANGUAGE", "")
            language = wanted if wanted in LANGUAGES else LANGUAGES[0]
            message = error.message(language)
            typer.echo(translate("cli.error", language, message=message), err=True)
            raise typer.Exit(2) from None
    return _current


def reset() -> None:
    """Forget the context (tests run several commands in one process)."""
    global _current
    if _current is not None and "engine" in _current.__dict__:
        _current.engine.dispose()
    _current = None


@contextmanager
def guarded(*, login: bool = False) -> Iterator[Context]:
    """Run a command body; any WorkstationError becomes one clear line and exit code 1.

    With ``login`` the operator is logged in first, so the slow password check never runs
    inside a write transaction that other terminals are waiting for.
    """
    ctx = get()
    try:
        if login:
            ctx.actor  # noqa: B018 — logs in
        yield ctx
    except WorkstationError as error:
        ctx.fail(error)
