"""The actions behind the commands: each runs one write transaction and says what it did.

The single commands (workstation.cli.work) print what an action returns; ``onewindow batch``
(workstation.cli.batch) runs the same functions line after line, one login for all.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from workstation.catalog.schema import Matter
from workstation.cli.context import Context
from workstation.cli.docs import file_paper
from workstation.errors import InvalidInput
from workstation.services import cases, intake, tasks
from workstation.services.applicants import ApplicantInput


@dataclass(frozen=True)
class Done:
    """What one committed action did: the case or task it acted on, and the lines saying so."""

    subject: str
    lines: list[str]


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


def _date(value: str, material: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("error.field.date", field=material) from None


def do_accept(
    ctx: Context,
    *,
    matter: str,
    id_number: str,
    name: str,
    kind: str = "person",
    phone: str = "",
    address: str = "",
    received: list[str] | None = None,
    all_required: bool = False,
    defer: list[str] | None = None,
    field: list[str] | None = None,
) -> Done:
    """一窗受理 in one transaction: the application, its tasks and its materials, or nothing."""
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
    return Done(result.tracking_no, _fan_out_lines(ctx, spec, result))


def _fan_out_lines(ctx: Context, spec: Matter, result: intake.IntakeResult) -> list[str]:
    lang = ctx.settings.language
    lines = [ctx.text("cli.accepted", tracking_no=result.tracking_no, due=result.fan_out.due)]
    for planned in result.fan_out.tasks:
        task_name = spec.task(planned.code).name.get(lang)
        if planned.opens_at_once:
            lines.append(
                ctx.text(
                    "cli.task_opens", department=planned.department, task=task_name, due=planned.due
                )
            )
        else:
            lines.append(
                ctx.text(
                    "cli.task_waits",
                    department=planned.department,
                    task=task_name,
                    due=planned.due,
                    waits=", ".join(planned.waits_for),
                )
            )
    for code, promised in result.owed.items():
        material = spec.material(code)
        name = material.name.get(lang) if material else code
        lines.append(ctx.text("cli.owed", material=name, promised=promised))
    if result.fan_out.estimated:
        lines.append(ctx.text("cli.estimated"))
    return lines


def do_refuse(
    ctx: Context,
    *,
    matter: str,
    id_number: str,
    name: str,
    reason: str,
    kind: str = "person",
    phone: str = "",
) -> Done:
    """不予受理 on the record, and the notice of refusal filed for the applicant."""
    with ctx.write() as session:
        number = intake.refuse(
            session,
            actor=ctx.actor,
            matter_code=matter,
            reason=reason,
            applicant=_applicant(kind, id_number, name, phone, ""),
            now=ctx.now(),
        )
    lines = [ctx.text("cli.refused", tracking_no=number, reason=reason)]
    # file_paper says where it saved the notice; collect that instead of letting it print, so
    # the caller decides how the lines are shown (a batch prints one line per action).
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        file_paper(ctx, "refusal", number)  # the 不予受理通知书 the applicant takes home
    return Done(number, lines + said.getvalue().splitlines())


def do_claim(ctx: Context, *, task: str) -> Done:
    """Claim a task for the lease the settings give."""
    with ctx.write() as session:
        row = tasks.claim(
            session, actor=ctx.actor, task_id=task, now=ctx.now(), hours=ctx.settings.claim_hours
        )
        until = row.claim_expires
    shown = f"{until.astimezone():%Y-%m-%d %H:%M}" if until else ""
    return Done(row.id, [ctx.text("cli.claimed", task=row.id, until=shown)])


def do_release(ctx: Context, *, task: str) -> Done:
    """Give a claimed task back."""
    with ctx.write() as session:
        row = tasks.release(session, actor=ctx.actor, task_id=task, now=ctx.now())
    return Done(row.id, [ctx.text("cli.released", task=row.id)])


def do_reassign(ctx: Context, *, task: str, to: str) -> Done:
    """Hand a task to another officer."""
    with ctx.write() as session:
        row = tasks.reassign(
            session,
            actor=ctx.actor,
            task_id=task,
            to=to,
            now=ctx.now(),
            hours=ctx.settings.claim_hours,
        )
    return Done(row.id, [ctx.text("cli.reassigned", task=row.id, to=to)])


def do_approve(ctx: Context, *, task: str, permit: str = "") -> Done:
    """Approve a task; say what opens and whether the case is complete."""
    with ctx.write() as session:
        opened = tasks.approve(
            session, actor=ctx.actor, task_id=task, permit_no=permit, now=ctx.now()
        )
        row = tasks.get_task(session, task)
        application = tasks.application_of(session, row)
        status, number = application.status, application.tracking_no
    lines = [ctx.text("cli.approved", task=row.id)]
    if opened:
        lines.append(ctx.text("cli.opens", tasks=", ".join(opened)))
    if status == "completed":
        lines.append(ctx.text("cli.completed", tracking_no=number))
    return Done(row.id, lines)


def do_reject(ctx: Context, *, task: str, reason: str) -> Done:
    """Reject a task; the application ends."""
    with ctx.write() as session:
        tasks.reject(session, actor=ctx.actor, task_id=task, reason=reason, now=ctx.now())
        row = tasks.get_task(session, task)
    return Done(row.id, [ctx.text("cli.rejected", task=row.id)])


def do_supplement(ctx: Context, *, task: str, material: list[str], reason: str) -> Done:
    """补正: ask for materials."""
    with ctx.write() as session:
        tasks.request_supplement(
            session,
            actor=ctx.actor,
            task_id=task,
            materials=list(_split(material)),
            reason=reason,
            now=ctx.now(),
        )
        row = tasks.get_task(session, task)
    return Done(row.id, [ctx.text("cli.supplement_requested", task=row.id)])


def do_supplement_received(ctx: Context, *, task: str) -> Done:
    """The applicant brought the supplement."""
    with ctx.write() as session:
        cases.record_supplement(session, actor=ctx.actor, task_id=task, now=ctx.now())
        row = tasks.get_task(session, task)
    return Done(row.id, [ctx.text("cli.supplement_recorded", task=row.id)])


def do_material_received(ctx: Context, *, tracking_no: str, material: str) -> Done:
    """A promised 容缺 material came in."""
    with ctx.write() as session:
        cases.record_material(
            session, actor=ctx.actor, tracking_no=tracking_no, material=material, now=ctx.now()
        )
    return Done(tracking_no, [ctx.text("cli.material_recorded", material=material)])


def do_withdraw(ctx: Context, *, tracking_no: str, reason: str) -> Done:
    """撤回: the applicant withdraws."""
    with ctx.write() as session:
        cases.withdraw(
            session, actor=ctx.actor, tracking_no=tracking_no, reason=reason, now=ctx.now()
        )
    return Done(tracking_no, [ctx.text("cli.withdrawn", tracking_no=tracking_no)])


def do_deliver(ctx: Context, *, tracking_no: str) -> Done:
    """出件: hand the result over."""
    with ctx.write() as session:
        cases.deliver(session, actor=ctx.actor, tracking_no=tracking_no, now=ctx.now())
    return Done(tracking_no, [ctx.text("cli.delivered", tracking_no=tracking_no)])


def do_rate(ctx: Context, *, tracking_no: str, score: int, comment: str = "") -> Done:
    """好差评: the applicant's rating."""
    with ctx.write() as session:
        cases.rate(
            session,
            actor=ctx.actor,
            tracking_no=tracking_no,
            score=score,
            comment=comment,
            now=ctx.now(),
        )
    return Done(tracking_no, [ctx.text("cli.rated", score=score)])


ACTIONS: dict[str, Callable[..., Done]] = {
    "accept": do_accept,
    "refuse": do_refuse,
    "claim": do_claim,
    "release": do_release,
    "reassign": do_reassign,
    "approve": do_approve,
    "reject": do_reject,
    "supplement": do_supplement,
    "supplement-received": do_supplement_received,
    "material-received": do_material_received,
    "withdraw": do_withdraw,
    "deliver": do_deliver,
    "rate": do_rate,
}
"""Every action by its command name; its keyword parameters are the command's options."""
