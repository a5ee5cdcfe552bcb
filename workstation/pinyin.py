"""Pinyin initials for quick search (张三 → zs, 开办旅馆 → kblg)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def initials(text: str) -> str:
    """Lower-case pinyin initials of the Chinese characters; other letters and digits kept."""
    letters = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for part in letters for ch in part.lower() if ch.isalnum())[:100]
