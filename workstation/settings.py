"""The one settings class: ``ONEWINDOW_*`` environment, then ``config.toml``, then defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from workstation import paths
from workstation.errors import ConfigError


class Settings(BaseSettings):
    """Everything an operator or installer may configure."""

    model_config = SettingsConfigDict(
        env_prefix="ONEWINDOW_", extra="ignore", validate_default=True
    )

    office_code: str = ""
    """This workstation's office; empty = whatever office the database was initialised for."""
    database_url: str = ""
    """Any SQLAlchemy URL; empty = a SQLite file in the user data dir."""
    upstream_url: str = ""
    """The hub of the level above (http/https); empty = none."""
    key_dir: Path = Field(default_factory=lambda: paths.data_dir() / "keys")
    """Where operators' encrypted private keys live (never in the synced database)."""
    language: Literal["zh_CN", "en"] = "zh_CN"
    """Language of the UI and of every message."""
    catalog_path: Path | None = None
    """Catalog directory to publish; empty = the demo catalog shipped with the program."""
    printer: str = ""
    """``lp`` destination for receipts; empty = save them as files only."""
    documents_dir: Path = Field(default_factory=lambda: paths.data_dir() / "documents")
    """Where printed documents (receipts, notices) are saved as text files."""
    cursor_blink: bool = True
    """Blink the text cursor; turn off on slow remote terminals (and for screenshots)."""
    claim_hours: int = Field(default=4, ge=1, le=72)
    """How long a claim on a task lasts before anyone in the department may take it."""
    due_soon_days: int = Field(default=2, ge=0, le=30)
    """Working days before the due date at which a task turns yellow."""
    idle_lock_minutes: float = Field(default=10, ge=0, le=480)
    """Minutes without a key press or click after which the workstation locks (0: never)."""

    @field_validator("office_code")
    @classmethod
    def _office_code(cls, value: str) -> str:
        if value and not re.fullmatch(r"[0-9A-Z]{4,20}", value):
            raise ValueError("4 to 20 digits or capital letters, e.g. 610102001")
        return value

    @field_validator("upstream_url")
    @classmethod
    def _upstream(cls, value: str) -> str:
        if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
            raise ValueError("an http:// or https:// address, or empty")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if value and not re.fullmatch(r"[a-z][a-z0-9+]*://\S*", value):
            raise ValueError(
                "an SQLAlchemy URL such as sqlite:///path.db or postgresql+psycopg://…"
            )
        return value

    @field_validator("catalog_path")
    @classmethod
    def _catalog(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{paths.data_dir() / 'onewindow.db'}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then environment, then the TOML file in the user config dir."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=paths.config_file()),
        )


def load_settings(**overrides: object) -> Settings:
    """Build the settings once at start; a bad value becomes one ConfigError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "?"
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(setting=f"ONEWINDOW_{name.upper()}", reason=reason) from None
    except ValueError as exc:  # a broken config.toml
        raise ConfigError(setting=str(paths.config_file()), reason=str(exc)) from None
