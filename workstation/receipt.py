"""受理回执: the receipt an applicant takes home, as text for an 80-column receipt printer."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from workstation.catalog.schema import Matter
from workstation.documents.columns import cells as cells
from workstation.documents.columns import centre, item
from workstation.documents.columns import qr_lines as qr_lines
from workstation.documents.columns import wrap as wrap
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


def receipt_text(receipt: Receipt, language: str, *, qr: bool = True, width: int = WIDTH) -> str:
    """The receipt as plain text, no line wider than ``width`` columns (wide characters: 2).

    ``width`` is the printer's 80 columns; a screen narrower than that may ask for less.
    """

    def t(key: str, **params: object) -> str:
        return translate(f"ui.intake.receipt.{key}", language, **params)

    rule, thin = "=" * width, "-" * width
    lines = [
        rule,
        *(centre(x, width) for x in wrap(t("title", office=receipt.office), width)),
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
            lines += item(name, right, width)
            lines += [
                "    " + x for x in wrap(t("waits", tasks="、".join(task.waits_for)), width - 4)
            ]
        else:
            lines += item(name, t("due_on", due=task.due.isoformat()), width)
    lines += [thin, t("owed")]
    for name, promised in receipt.owed:
        lines += item(name, t("promised", date=promised.isoformat()), width)
    if not receipt.owed:
        lines.append("  " + t("none_owed"))
    lines.append(thin)
    if qr:
        code = qr_lines(receipt.tracking_no)
        margin = " " * ((width - max(cells(x) for x in code)) // 2)
        lines += [(margin + x).rstrip() for x in code]
    lines += [centre(x, width) for x in wrap(t("scan"), width)]
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
