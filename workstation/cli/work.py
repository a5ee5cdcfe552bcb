"""Scriptable actions: accept, refuse, claim, decide, supplement, deliver, rate, withdraw.

The operator and password come from ONEWINDOW_OPERATOR and ONEWINDOW_PASSWORD, so the whole
flow can be scripted and tested without a screen.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from workstation.catalog.schema import Matter
from workstation.cli.context import Context, guarded
from workstation.cli.docs import file_paper
from workstation.errors import InvalidInput
from workstation.services import cases, intake, tasks
from workstation.services.applicants import ApplicantInput

ListOption = Annotated[list[str] | None, typer.Option()]


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("error.cli.pair", option=what, value=item)
        pairs[key.strip()] = value
    return pairs


def _split(items: list[str] | None) -> tuple[str, ...]:
    return tuple(code.strip() for item in items or [] for code in item.split(",") if code.strip())


def _applicant(kind: str, id_number: str, name: str, phone: str, address: str) -> ApplicantInput:
    return ApplicantInput(kind=kind, id_number=id_number, name=name, phone=phone, address=address)


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
    with guarded(login=True) as ctx:
        deferred = {code: _date(value, code) for code, value in _pairs(defer, "--defer").items()}
        codes = _split(received)
        with ctx.write() as session:
            if all_required:
                spec = intake.matter(session, matter)
                codes += tuple(
                    m.code
                    for m in spec.materials
                    if m.required and m.code not in deferred and m.code not in codes
                )
            request = intake.IntakeRequest(
                applicant=_applicant(kind, id_number, name, phone, address),
                matter_code=matter,
                received=codes,
                deferred=deferred,
                form=_pairs(field, "--field"),
            )
            result = intake.accept(session, actor=ctx.actor, request=request, now=ctx.now())
            spec = intake.matter(session, matter)
        _print_fan_out(ctx, spec, result)


def _date(value: str, material: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("error.field.date", field=material) from None


def _print_fan_out(ctx: Context, spec: Matter, result: intake.IntakeResult) -> None:
    lang = ctx.settings.language
    ctx.say("cli.accepted", tracking_no=result.tracking_no, due=result.fan_out.due)
    for planned in result.fan_out.tasks:
        task_name = spec.task(planned.code).name.get(lang)
        if planned.opens_at_once:
            ctx.say(
                "cli.task_opens", department=planned.department, task=task_name, due=planned.due
            )
        else:
            ctx.say(
                "cli.task_waits",
                department=planned.department,
                task=task_name,
                due=planned.due,
                waits=", ".join(planned.waits_for),
            )
    for code, promised in result.owed.items():
        material = spec.material(code)
        ctx.say(
            "cli.owed", material=material.name.get(lang) if material else code, promised=promised
        )
    if result.fan_out.estimated:
        ctx.say("cli.estimated")


def refuse(
    matter: Annotated[str, typer.Option(help="Matter code.")],
    id_number: Annotated[str, typer.Option("--id", help="Resident ID or credit code.")],
    name: Annotated[str, typer.Option(help="Applicant's name.")],
    reason: Annotated[str, typer.Option(help="Why the application is not accepted.")],
    kind: Annotated[str, typer.Option(help="person or organisation.")] = "person",
    phone: Annotated[str, typer.Option(help="Phone.")] = "",
) -> None:
    """不予受理: refuse to accept, with the reason, on the record."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            number = intake.refuse(
                session,
                actor=ctx.actor,
                matter_code=matter,
                reason=reason,
                applicant=_applicant(kind, id_number, name, phone, ""),
                now=ctx.now(),
            )
        ctx.say("cli.refused", tracking_no=number, reason=reason)
        file_paper(ctx, "refusal", number)  # the 不予受理通知书 the applicant takes home


TaskArg = Annotated[str, typer.Argument(help="Task: <tracking number>/<task code>.")]
TrackingArg = Annotated[str, typer.Argument(help="Tracking number.")]


def claim(task: TaskArg) -> None:
    """Claim a task of your department for a while (the lease is a setting)."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            row = tasks.claim(
                session,
                actor=ctx.actor,
                task_id=task,
                now=ctx.now(),
                hours=ctx.settings.claim_hours,
            )
            until = row.claim_expires
        ctx.say(
            "cli.claimed", task=task, until=f"{until.astimezone():%Y-%m-%d %H:%M}" if until else ""
        )


def release(task: TaskArg) -> None:
    """Give a claimed task back to its department."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            tasks.release(session, actor=ctx.actor, task_id=task, now=ctx.now())
        ctx.say("cli.released", task=task)


def reassign(task: TaskArg, to: Annotated[str, typer.Option(help="Officer's user name.")]) -> None:
    """Hand a task to another officer of its department (supervisors)."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            tasks.reassign(
                session,
                actor=ctx.actor,
                task_id=task,
                to=to,
                now=ctx.now(),
                hours=ctx.settings.claim_hours,
            )
        ctx.say("cli.reassigned", task=task, to=to)


def approve(
    task: TaskArg,
    permit: Annotated[str, typer.Option(help="Permit or licence number, where required.")] = "",
) -> None:
    """Approve a task; dependent tasks open, and the case completes when all are approved."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            opened = tasks.approve(
                session, actor=ctx.actor, task_id=task, permit_no=permit, now=ctx.now()
            )
            application = tasks.application_of(session, tasks.get_task(session, task))
            status, number = application.status, application.tracking_no
        ctx.say("cli.approved", task=task)
        if opened:
            ctx.say("cli.opens", tasks=", ".join(opened))
        if status == "completed":
            ctx.say("cli.completed", tracking_no=number)


def reject(task: TaskArg, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """Reject a task with a reason; the application ends."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            tasks.reject(session, actor=ctx.actor, task_id=task, reason=reason, now=ctx.now())
        ctx.say("cli.rejected", task=task)


def supplement(
    task: TaskArg,
    material: Annotated[list[str], typer.Option(help="Material code(s) asked for.")],
    reason: Annotated[str, typer.Option(help="What is wrong or missing.")],
) -> None:
    """补正: ask the applicant for materials; the task's clock stops."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            tasks.request_supplement(
                session,
                actor=ctx.actor,
                task_id=task,
                materials=list(_split(material)),
                reason=reason,
                now=ctx.now(),
            )
        ctx.say("cli.supplement_requested", task=task)


def supplement_received(task: TaskArg) -> None:
    """Record that the applicant brought what a department asked for (clerks)."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            cases.record_supplement(session, actor=ctx.actor, task_id=task, now=ctx.now())
        ctx.say("cli.supplement_recorded", task=task)


def material_received(
    tracking_no: TrackingArg, material: Annotated[str, typer.Argument(help="Material code.")]
) -> None:
    """Record a 容缺 material that was promised at intake (clerks)."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            cases.record_material(
                session, actor=ctx.actor, tracking_no=tracking_no, material=material, now=ctx.now()
            )
        ctx.say("cli.material_recorded", material=material)


def withdraw(tracking_no: TrackingArg, reason: Annotated[str, typer.Option(help="Why.")]) -> None:
    """撤回: the applicant withdraws; open tasks close."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            cases.withdraw(
                session, actor=ctx.actor, tracking_no=tracking_no, reason=reason, now=ctx.now()
            )
        ctx.say("cli.withdrawn", tracking_no=tracking_no)


def deliver(tracking_no: TrackingArg) -> None:
    """出件: hand the result to the applicant (refused while materials are owed)."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            cases.deliver(session, actor=ctx.actor, tracking_no=tracking_no, now=ctx.now())
        ctx.say("cli.delivered", tracking_no=tracking_no)


def rate(
    tracking_no: TrackingArg,
    score: Annotated[int, typer.Argument(help="1 to 5.")],
    comment: Annotated[str, typer.Option(help="The applicant's comment.")] = "",
) -> None:
    """好差评: record the applicant's rating after delivery."""
    with guarded(login=True) as ctx:
        with ctx.write() as session:
            cases.rate(
                session,
                actor=ctx.actor,
                tracking_no=tracking_no,
                score=score,
                comment=comment,
                now=ctx.now(),
            )
        ctx.say("cli.rated", score=score)


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
