"""One settings class: environment over config.toml over defaults; bad values fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from workstation import paths
from workstation.errors import ConfigError
from workstation.settings import load_settings


def test_defaults_live_in_the_user_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'onewindow.db'}"
    assert settings.key_dir == tmp_path / "data" / "keys"
    assert settings.language == "zh_CN"
    assert settings.upstream_url == ""
    assert settings.catalog_path is None


def test_config_file_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    paths.config_dir().mkdir(parents=True)
    paths.config_file().write_text(
        'language = "en"\noffice_code = "610102001"\nupstream_url = "https://county.example/"\n',
        "utf-8",
    )
    settings = load_settings()
    assert (settings.language, settings.office_code) == ("en", "610102001")
    assert settings.upstream_url == "https://county.example"
    monkeypatch.setenv("ONEWINDOW_LANGUAGE", "zh_CN")
    monkeypatch.setenv("ONEWINDOW_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    settings = load_settings()
    assert settings.language == "zh_CN"
    assert settings.database_url == "postgresql+psycopg://u@127.0.0.1/x"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ONEWINDOW_LANGUAGE", "fr"),
        ("ONEWINDOW_OFFICE_CODE", "bad code"),
        ("ONEWINDOW_UPSTREAM_URL", "ftp://county"),
        ("ONEWINDOW_DATABASE_URL", "not a url"),
        ("ONEWINDOW_CATALOG_PATH", "/no/such/dir"),
        ("ONEWINDOW_CLAIM_HOURS", "0"),
    ],
)
def test_a_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert raised.value.params["setting"] == name
    message = raised.value.message("en")
    assert name in message and "\n" not in message


def test_a_broken_config_file_is_named() -> None:
    paths.config_dir().mkdir(parents=True)
    paths.config_file().write_text("language = \n", "utf-8")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(paths.config_file()) in raised.value.message("zh_CN")
