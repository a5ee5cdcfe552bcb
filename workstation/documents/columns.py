"""Text laid out in printer columns: a wide (CJK) character takes two, words stay whole."""

from __future__ import annotations

import unicodedata

import segno


def cells(text: str) -> int:
    """Columns ``text`` takes on a terminal or printer: wide characters count two."""
    return sum(_char_cells(ch) for ch in text)


def _char_cells(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns; words kept whole, CJK split anywhere."""
    lines: list[str] = []
    line, used = "", 0
    for token in _tokens(text):
        size = cells(token)
        if used + size > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            if token.isspace():
                continue
        while size > width:  # a word longer than the line: cut it
            head, rest = _cut(token, width - used)
            lines.append((line + head).rstrip())
            line, used, token, size = "", 0, rest, cells(rest)
        line, used = line + token, used + size
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    # Runs of narrow non-space characters are words; each wide character stands alone.
    tokens: list[str] = []
    for ch in text:
        narrow_word = _char_cells(ch) == 1 and not ch.isspace()
        if tokens and narrow_word and _is_word(tokens[-1]):
            tokens[-1] += ch
        else:
            tokens.append(ch)
    return tokens


def _is_word(token: str) -> bool:
    return not token.isspace() and all(_char_cells(ch) == 1 for ch in token)


def _cut(text: str, width: int) -> tuple[str, str]:
    used = 0
    for index, ch in enumerate(text):
        used += _char_cells(ch)
        if used > width:
            index = max(index, 1)  # always progress, even on a line too narrow for one char
            return text[:index], text[index:]
    return text, ""


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` columns."""
    return text + " " * max(0, width - cells(text))


def centre(text: str, width: int) -> str:
    """``text`` centred in ``width`` columns (no trailing spaces)."""
    return (" " * max(0, (width - cells(text)) // 2) + text).rstrip()


def item(left: str, right: str, width: int, indent: int = 2) -> list[str]:
    """``left`` wrapped after ``indent`` spaces, ``right`` flush right on its first line."""
    room = width - indent - cells(right) - 2
    parts = wrap(left, room)
    lines = [" " * indent + pad(parts[0], room) + "  " + right]
    lines += [" " * indent + part for part in parts[1:]]
    return lines


def qr_lines(text: str) -> list[str]:
    """A QR code of ``text`` in half blocks: two modules a line, dark modules as ink."""
    matrix = [list(row) for row in segno.make(text, micro=False).matrix_iter(border=2)]
    if len(matrix) % 2:
        matrix.append([0] * len(matrix[0]))
    blocks = {(1, 1): "█", (1, 0): "▀", (0, 1): "▄", (0, 0): " "}
    return [
        "".join(blocks[(top, bottom)] for top, bottom in zip(upper, lower, strict=True)).rstrip()
        for upper, lower in zip(matrix[::2], matrix[1::2], strict=True)
    ]
