"""One catalog per language, the same keys in each, and every key the code uses is there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workstation.errors import InvalidInput
from workstation.i18n import LANGUAGES, keys, translate

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = (
    "error",
    "verify",
    "cli",
    "rebuild",
    "role",
    "state",
    "status",
    "light",
    "right",
    "kind",
    "ui",
    "nav",
    "level",
)


def _keys_in_code() -> set[str]:
    words = "|".join(PREFIXES)
    pattern = re.compile(rf'"((?:{words})\.[a-z_]+(?:\.[a-z_]+)*)"')
    found: set[str] = set()
    for package in ("workstation", "sync", "screens"):
        for path in (ROOT / package).rglob("*.py"):
            found |= set(pattern.findall(path.read_text("utf-8")))
    return found


def test_languages_have_the_same_keys() -> None:
    assert keys("zh_CN") == keys("en")


def test_every_key_the_code_names_is_translated() -> None:
    used = _keys_in_code()
    assert len(used) > 100
    for language in LANGUAGES:
        missing = sorted(used - keys(language))
        assert missing == [], f"{language} lacks {missing}"


@pytest.mark.parametrize("prefix", ["role", "state", "status"])
def test_every_value_of_a_vocabulary_is_translated(prefix: str) -> None:
    from workstation.services.auth import ROLES

    expected = {
        "role": set(ROLES),
        "state": {"waiting", "open", "supplement", "approved", "rejected", "closed"},
        "status": {"refused", "in_progress", "completed", "rejected", "withdrawn", "delivered"},
    }[prefix]
    for language in LANGUAGES:
        assert {
            k.split(".", 1)[1] for k in keys(language) if k.startswith(prefix + ".")
        } >= expected


def test_parameters_name_messages_and_bilingual_names() -> None:
    error = InvalidInput("error.field.required", field={"zh": "旅馆名称", "en": "Hotel name"})
    assert error.message("zh_CN") == "请填写“旅馆名称”。"
    assert error.message("en") == "Please fill in “Hotel name”."
    assert translate("error.task.decided", "en", by="li", state="state.approved") == (
        "li has already decided this task (approved); it cannot be decided twice."
    )
