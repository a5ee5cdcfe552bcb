"""``onewindow batch``: many actions in one process, one login, one transaction each.

Input is JSON lines, one action a line: ``{"do": "accept", "matter": "...", "id": "...",
"name": "...", "all-required": true}``, ``{"do": "claim", "task": "..."}``, … The fields are
the options and arguments of the single command of the same name. Output is one JSON line per
action, written and flushed as soon as its transaction has committed, so a line printed is an
action saved: ``{"line": 1, "do": "accept", "ok": true, "subject": "<tracking number>",
"message": "..."}``, or for a refusal ``"ok": false, "error": "<message key>"`` with the
message in the operator's language. A refused action does not stop the batch; the exit code
is 1 when any action was refused.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, TextIO, get_args, get_origin, get_type_hints

import typer

from workstation.cli.actions import ACTIONS, Done
from workstation.cli.context import Context, guarded
from workstation.errors import InvalidInput, WorkstationError

ALIASES = {"id": "id_number"}
"""JSON field → parameter, where the command's option is not the parameter's name."""


def batch(
    file: Annotated[str, typer.Argument(help="A JSON-lines file of actions, or - for stdin.")],
) -> None:
    """Run one action per JSON line as the logged-in operator; print one result line each."""
    with guarded(login=True) as ctx:
        if file == "-":
            refused = run_lines(ctx, sys.stdin, sys.stdout)
        else:
            try:
                stream = Path(file).open(encoding="utf-8")  # noqa: SIM115 — closed below
            except OSError:
                raise InvalidInput("error.batch.file", path=file) from None
            with stream:
                refused = run_lines(ctx, stream, sys.stdout)
    if refused:
        raise typer.Exit(1)


def run_lines(ctx: Context, lines: Iterable[str], out: TextIO) -> int:
    """Run every line, printing each result as soon as it is known; how many were refused."""
    done = refused = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        result = run_line(ctx, number, raw)
        # Flushed at once: whoever reads the output may take a printed line as saved.
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
        if result["ok"]:
            done += 1
        else:
            refused += 1
    typer.echo(ctx.text("batch.summary", done=done, refused=refused), err=True)
    return refused


def run_line(ctx: Context, number: int, raw: str) -> dict[str, Any]:
    """One action: its result, or its refusal in the operator's language (never raised)."""
    result: dict[str, Any] = {"line": number, "do": ""}
    try:
        result["do"], action, fields = parse(raw)
        done: Done = action(ctx, **fields)
    except WorkstationError as error:
        ctx.audit_refusal(error)
        message = error.message(ctx.settings.language)
        return result | {"ok": False, "error": error.key, "message": message}
    return result | {"ok": True, "subject": done.subject, "message": done.lines[0]}


def parse(raw: str) -> tuple[str, Callable[..., Done], dict[str, Any]]:
    """The action a line names, its function and its keyword arguments; InvalidInput if bad."""
    try:
        line = json.loads(raw)
    except ValueError:
        raise InvalidInput("error.batch.json") from None
    if not isinstance(line, dict):
        raise InvalidInput("error.batch.json")
    name = line.get("do")
    if not isinstance(name, str) or name not in ACTIONS:
        raise InvalidInput("error.batch.action", action=str(name), known=", ".join(ACTIONS))
    action = ACTIONS[name]
    parameters = dict(inspect.signature(action).parameters)
    del parameters["ctx"]
    hints = get_type_hints(action)
    fields: dict[str, Any] = {}
    for key, value in line.items():
        if key == "do":
            continue
        param = ALIASES.get(key, key.replace("-", "_"))
        if param not in parameters:
            raise InvalidInput("error.batch.field_unknown", field=key, action=name)
        fields[param] = _convert(value, hints[param], key)
    for param, spec in parameters.items():
        if spec.default is inspect.Parameter.empty and param not in fields:
            shown = next((k for k, v in ALIASES.items() if v == param), param.replace("_", "-"))
            raise InvalidInput("error.batch.field_missing", field=shown, action=name)
    return name, action, fields


def _convert(value: Any, hint: Any, field: str) -> Any:
    """A JSON value as the parameter's type: text, yes/no, a whole number or a list of text."""
    if get_origin(hint) is UnionType:  # ``list[str] | None``
        hint = next(arg for arg in get_args(hint) if arg is not NoneType)
    if hint is str and isinstance(value, str):
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if get_origin(hint) is list:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        # Form fields and 容缺 dates may come as an object, as in {"field": {"code": "v"}}.
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return [f"{key}={item}" for key, item in value.items()]
    kind = {str: "text", bool: "yes_no", int: "number"}.get(hint, "list")
    raise InvalidInput("error.batch.field_type", field=field, expected=f"batch.type.{kind}")


def register(app: typer.Typer) -> None:
    """Attach ``batch`` to ``app``."""
    app.command()(batch)
