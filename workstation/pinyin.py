"""Pinyin initials for quick search (张三 → zs, 开办旅馆 → kblg)."""

from __future__ import annotations


def initials(text: str) -> str:
    """Lower-case pinyin initials of the Chinese characters; other letters and digits kept."""
    # Imported here: its phrase dictionary takes a third of a second to load, which every
    # command and the workstation's start would pay even when nobody searches.
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text, style=Style.FIRST_LETTER)
    # Runs without pinyin come back whole; lower-case them character by character.
    kept = (ch for part in letters for char in part for ch in char.lower() if ch.isalnum())
    return "".join(kept)[:100]
