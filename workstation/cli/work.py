"""Scriptable actions: accept, refuse, claim, decide, supplement, deliver, rate, withdraw.

The operator and password come from ONEWINDOW_OPERATOR and ONEWINDOW_PASSWORD, so the whole
flow can be scripted and tested without a screen. What each action does is in
workstation.cli.actions, shared with ``onewindow batch``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from workstation.cli.actions import (
    Done,
    do_accept,
    do_approve,
    do_claim,
    do_deliver,
    do_material_received,
    do_rate,
    do_reassign,
    do_refuse,
    do_reject,
    do_release,
    do_supplement,
    do_supplement_received,
    do_withdraw,
)
from workstation.cli.context import guarded


def _run(action: Callable[..., Done], **fields: object) -> None:
    """Log in, run one action, print what it did (or one clear error line, exit code 1)."""
    with guarded(login=True) as ctx:
        for line in action(ctx, **fields).lines:
            typer.echo(line)


TaskArg = Annotated[str, typer.Argument(help="Task: <tracking number>/<task code>.")]
TrackingArg = Annotated[str, typer.Argument(help="Tracking number.")]


def accept(
    matter: Annotated[str, typer.Option(help="Matter code, e.g. hotel-open.")],
    id_number: Annotated[str, typer.Option("--id", help="Resident ID or credit code.")],
    name: Annotated[str, typer.Option(help="Applicant's name.")],
    kind: Annotated[str, typer.Option(help="person or organisation.")] = "person",
    phone: Annotated[str, typer.Option(help="Phone.")] = "",
    address: Annotated[str, typer.Option(help="Address.")] = "",
    received: Annotated[
        list[str] | None, typer.Option(help="Materials received (codes, comma-separated).")
    ] = None,
    all_required: Annotated[
        bool, typer.Option(help="Every required material not deferred was received.")
    ] = False,
    defer: Annotated[
        list[str] | None, typer.Option(help="容缺: material=YYYY-MM-DD promised date.")
    ] = None,
    field: Annotated[list[str] | None, typer.Option(help="Form field: code=value.")] = None,
) -> None:
    """一窗受理: accept one application and open its department tasks."""
    _run(
        do_accept,
        matter=matter,
        id_number=id_number,
        name=name,
        kind=kind,
        phone=phone,
        address=address,
        received=received,
        all_required=all_required,
        defer=defer,
        field=field,
    )


def refuse(
    matter: Annotated[str, typer.Option(help="Matter code.")],
    id_number: Annotated[str, typer.Option("--id", help="Resident ID or credit code.")],
    name: Annotated[str, typer.Option(help="Applicant's name.")],
    reason: Annotated[str, typer.Option(help="Why the application is not accepted.")],
    kind: Annotated[str, typer.Option(help="person or organisation.")] = "person",
    phone: Annotated[str, typer.Option(help="Phone.")] = "",
) -> None:
    """不予受理: refuse to accept, with the reason, on the record."""
    _run(
        do_refuse, matter=matter, id_number=id_number, name=name, reason=reason, kind=kind,
        phone=phone,
    )  # fmt: skip


def claim(task: TaskArg) -> None:
    """Claim a task of your department for a while (the lease is a setting)."""
    _run(do_claim, task=task)


def release(task: TaskArg) -> None:
    """Give a claimed task back to its department."""
    _run(do_release, task=task)


def reassign(task: TaskArg, to: Annotated[str, typer.Option(help="Officer's user name.")]) -> None:
    """Hand a task to another officer of its department (supervisors)."""
    _run(do_reassign, task=task, to=to)


def approve(
    task: TaskArg,
    permit: Annotated[str, typer.Option(help="Permit or licence number, where required.")] = "",
) -> None:
    """Approve a task; dependent tasks open, and the case completes when all are approved."""
    _run(do_approve, task=task, permit=permit)


def reject(task: TaskArg, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """Reject a task with a reason; the application ends."""
    _run(do_reject, task=task, reason=reason)


def supplement(
    task: TaskArg,
    material: Annotated[list[str], typer.Option(help="Material code(s) asked for.")],
    reason: Annotated[str, typer.Option(help="What is wrong or missing.")],
) -> None:
    """补正: ask the applicant for materials; the task's clock stops."""
    _run(do_supplement, task=task, material=material, reason=reason)


def supplement_received(task: TaskArg) -> None:
    """Record that the applicant brought what a department asked for (clerks)."""
    _run(do_supplement_received, task=task)


def material_received(
    tracking_no: TrackingArg, material: Annotated[str, typer.Argument(help="Material code.")]
) -> None:
    """Record a 容缺 material that was promised at intake (clerks)."""
    _run(do_material_received, tracking_no=tracking_no, material=material)


def withdraw(tracking_no: TrackingArg, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """撤回: the applicant withdraws; open tasks close."""
    _run(do_withdraw, tracking_no=tracking_no, reason=reason)


def deliver(tracking_no: TrackingArg) -> None:
    """出件: hand the result to the applicant (refused while materials are owed)."""
    _run(do_deliver, tracking_no=tracking_no)


def rate(
    tracking_no: TrackingArg,
    score: Annotated[int, typer.Argument(help="1 to 5.")],
    comment: Annotated[str, typer.Option(help="The applicant's comment.")] = "",
) -> None:
    """好差评: record the applicant's rating after delivery."""
    _run(do_rate, tracking_no=tracking_no, score=score, comment=comment)


def register(app: typer.Typer) -> None:
    """Attach the action commands to ``app``."""
    for command in (
        accept,
        refuse,
        claim,
        release,
        reassign,
        approve,
        reject,
        supplement,
        withdraw,
        deliver,
        rate,
    ):
        app.command()(command)
    app.command("supplement-received")(supplement_received)
    app.command("material-received")(material_received)
