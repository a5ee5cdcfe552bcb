"""受理回执: the receipt an applicant takes home, as text for an 80-column receipt printer."""

from __future__ import annotations

import subprocess
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import segno

from workstation.catalog.schema import Matter
from workstation.errors import ConfigError
from workstation.i18n import translate
from workstation.services.intake import IntakeResult

WIDTH = 80
"""Columns of the receipt printer; a wide (CJK) character takes two."""


@dataclass(frozen=True)
class ReceiptTask:
    """One department task as the receipt lists it."""

    name: str
    department: str
    """The department's name in the receipt's language."""
    due: date
    waits_for: tuple[str, ...]
    """Names of the tasks it waits for; empty when it opens at once."""


@dataclass(frozen=True)
class Receipt:
    """Everything a receipt says, names already in the operator's language."""

    tracking_no: str
    office: str
    matter: str
    applicant: str
    applicant_id: str
    """Masked: the receipt may be left lying on a counter."""
    clerk: str
    accepted_at: datetime
    due: date
    estimated: bool
    tasks: tuple[ReceiptTask, ...]
    owed: tuple[tuple[str, date], ...]
    """(material name, promised date) of every 容缺 material."""

    @classmethod
    def of(
        cls,
        result: IntakeResult,
        matter: Matter,
        *,
        language: str,
        office: str,
        applicant: str,
        applicant_id: str,
        clerk: str,
        accepted_at: datetime,
        departments: Mapping[str, tuple[str, str]],
    ) -> Receipt:
        """The receipt of an accepted application of ``matter``.

        ``departments`` maps a department code to its (Chinese, English) name; a code it
        does not know is printed as it is.
        """
        pick = 0 if language.startswith("zh") else 1

        def department(code: str) -> str:
            names = departments.get(code)
            return names[pick] if names else code

        def task_name(code: str) -> str:
            return matter.task(code).name.get(language)

        def material_name(code: str) -> str:
            material = matter.material(code)
            return material.name.get(language) if material else code

        tasks = tuple(
            ReceiptTask(
                task_name(t.code),
                department(t.department),
                t.due,
                tuple(task_name(w) for w in t.waits_for),
            )
            for t in result.fan_out.tasks
        )
        owed = tuple((material_name(code), day) for code, day in sorted(result.owed.items()))
        return cls(
            tracking_no=result.tracking_no,
            office=office,
            matter=matter.name.get(language),
            applicant=applicant,
            applicant_id=applicant_id,
            clerk=clerk,
            accepted_at=accepted_at,
            due=result.fan_out.due,
            estimated=result.fan_out.estimated,
            tasks=tasks,
            owed=owed,
        )


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


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cells(text))


def _centre(text: str, width: int) -> str:
    return (" " * max(0, (width - cells(text)) // 2) + text).rstrip()


def _item(left: str, right: str, width: int, indent: int = 2) -> list[str]:
    """``left`` wrapped after ``indent`` spaces, ``right`` flush right on its first line."""
    room = width - indent - cells(right) - 2
    parts = wrap(left, room)
    lines = [" " * indent + _pad(parts[0], room) + "  " + right]
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


def receipt_text(receipt: Receipt, language: str, *, qr: bool = True, width: int = WIDTH) -> str:
    """The receipt as plain text, no line wider than ``width`` columns (wide characters: 2).

    ``width`` is the printer's 80 columns; a screen narrower than that may ask for less.
    """

    def t(key: str, **params: object) -> str:
        return translate(f"ui.intake.receipt.{key}", language, **params)

    rule, thin = "=" * width, "-" * width
    lines = [
        rule,
        *(_centre(x, width) for x in wrap(t("title", office=receipt.office), width)),
        rule,
    ]
    due = receipt.due.isoformat() + (t("estimated") if receipt.estimated else "")
    for label, value in (
        ("tracking", receipt.tracking_no),
        ("matter", receipt.matter),
        ("applicant", f"{receipt.applicant}（{receipt.applicant_id}）"),
        ("accepted", f"{receipt.accepted_at:%Y-%m-%d %H:%M}"),
        ("clerk", receipt.clerk),
        ("due", due),
    ):
        head = t(label) + "："
        parts = wrap(value, width - cells(head))
        lines.append(head + parts[0])
        lines += [" " * cells(head) + part for part in parts[1:]]
    lines += [thin, t("tasks")]
    for task in receipt.tasks:
        name = f"{task.name}（{task.department}）"
        if task.waits_for:
            right = t("due_about", due=task.due.isoformat())
            lines += _item(name, right, width)
            lines += [
                "    " + x for x in wrap(t("waits", tasks="、".join(task.waits_for)), width - 4)
            ]
        else:
            lines += _item(name, t("due_on", due=task.due.isoformat()), width)
    lines += [thin, t("owed")]
    for name, promised in receipt.owed:
        lines += _item(name, t("promised", date=promised.isoformat()), width)
    if not receipt.owed:
        lines.append("  " + t("none_owed"))
    lines.append(thin)
    if qr:
        code = qr_lines(receipt.tracking_no)
        margin = " " * ((width - max(cells(x) for x in code)) // 2)
        lines += [(margin + x).rstrip() for x in code]
    lines += [_centre(x, width) for x in wrap(t("scan"), width)]
    lines.append(rule)
    return "\n".join(lines) + "\n"


def save_receipt(text: str, tracking_no: str, directory: Path) -> Path:
    """Write the receipt to ``directory`` (created if needed); returns the file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"receipt-{tracking_no}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def print_receipt(path: Path, printer: str) -> None:
    """Send a saved receipt to the ``lp`` destination ``printer``; ConfigError if that fails."""
    # No shell; an absolute path can never be taken for an option of lp.
    command = ["lp", "-d", printer, str(path.resolve())]
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        reason = exc.stderr.decode(errors="replace").strip() or f"lp exit {exc.returncode}"
        raise ConfigError(setting="ONEWINDOW_PRINTER", reason=reason) from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(setting="ONEWINDOW_PRINTER", reason=str(exc)) from None
