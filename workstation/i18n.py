"""UI and error strings: one TOML catalog per language under ``workstation/locales``."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("zh_CN", "en")
"""Languages the workstation speaks; the first is the default."""


@cache
def _catalog(language: str) -> dict[str, str]:
    text = resources.files("workstation.locales").joinpath(f"{language}.toml").read_text("utf-8")
    flat: dict[str, str] = {}

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for name, value in node.items():
            key = f"{prefix}.{name}" if prefix else name
            if isinstance(value, dict):
                walk(key, value)
            else:
                flat[key] = str(value)

    walk("", tomllib.loads(text))
    return flat


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(key: str, language: str = "zh_CN", /, **params: Any) -> str:
    """The message for ``key`` in ``language``, falling back to English, then to the key."""
    template = _catalog(language).get(key) or _catalog("en").get(key) or key
    # A parameter may itself name a message (``state="state.open"``); translate it too.
    values = {name: _localise(value, language) for name, value in params.items()}
    return template.format_map(_Lenient(values))


def _localise(value: Any, language: str) -> Any:
    # A parameter may name a message ("state.open") or carry a name in both languages.
    if isinstance(value, str) and value in _catalog("en"):
        return translate(value, language)
    if isinstance(value, dict) and {"zh", "en"} <= value.keys():
        return value["zh"] if language.startswith("zh") else value["en"]
    return value


def keys(language: str) -> frozenset[str]:
    """Every message key the catalog of ``language`` defines (for completeness tests)."""
    return frozenset(_catalog(language))
