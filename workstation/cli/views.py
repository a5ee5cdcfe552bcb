"""Read-only commands: a case, a department queue, the supervisor's overview, the audit log."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

import typer

from workstation.cli.context import guarded
from workstation.services import audit, cases, intake, status, supervision


def show(tracking_no: Annotated[str, typer.Argument(help="Tracking number.")]) -> None:
    """办件详情: the case, its tasks, materials and signed timeline (personal data masked)."""
    with guarded(login=True) as ctx:
        lang = ctx.settings.language
        with ctx.read() as session:
            view = cases.case_view(session, actor=ctx.actor, tracking_no=tracking_no)
            spec = intake.matter(session, view.application.matter_code)
        app = view.application
        ctx.say(
            "cli.case_header",
            tracking_no=app.tracking_no,
            matter=spec.name.get(lang),
            status=f"status.{app.status}",
            applicant=view.applicant.name,
            id=view.applicant.id_masked,
            due=app.due_date or "-",
        )
        for task in view.tasks:
            decided = f"{task.decided_by} {task.permit_no}".strip() if task.decided_by else ""
            ctx.say(
                "cli.case_task",
                state=ctx.text(f"state.{task.state}"),
                department=task.department_code,
                task=spec.task(task.task_code).name.get(lang),
                due=task.due_date or "-",
                decided=decided,
            )
        for row in view.materials:
            material = spec.material(row.material_code)
            ctx.say(
                "cli.case_material",
                material=material.name.get(lang) if material else row.material_code,
                status=ctx.text(f"material.{row.status}"),
            )
        for event in view.events:
            ctx.say(
                "cli.case_event", seq=event.seq, ts=event.ts, type=event.type, actor=event.actor
            )


def queue(
    department: Annotated[str, typer.Argument(help="Department code.")],
    view: Annotated[str, typer.Option(help="all, mine, unclaimed, overdue, supplement.")] = "all",
    search: Annotated[str, typer.Option(help="Tracking number prefix.")] = "",
    page: Annotated[int, typer.Option(min=1, help="Page number.")] = 1,
    size: Annotated[int, typer.Option(min=1, max=500, help="Rows per page.")] = 50,
) -> None:
    """部门队列: a department's open tasks, soonest due first, with their lights."""
    with guarded(login=True) as ctx:
        with ctx.read() as session:
            result = supervision.queue(
                session,
                actor=ctx.actor,
                department=department,
                now=ctx.now(),
                view=view,
                search=search,
                offset=(page - 1) * size,
                limit=size,
                soon_days=ctx.settings.due_soon_days,
            )
            total = supervision.queue_size(
                session,
                actor=ctx.actor,
                department=department,
                now=ctx.now(),
                view=view,
                search=search,
            )
        if not result.tasks:
            ctx.say("cli.no_tasks")
            return
        for task in result.tasks:
            ctx.say(
                "cli.queue_line",
                light=ctx.text(f"light.{result.lights[task.id]}"),
                due=task.due_date or "-",
                task=task.id,
                state=ctx.text(f"state.{task.state}"),
                claimed=task.claimed_by or "",
            )
        first = (page - 1) * size + 1
        ctx.say("cli.queue_total", total=total, first=first, last=first + len(result.tasks) - 1)


def overview(
    days: Annotated[int, typer.Option(min=1, max=366, help="Window in days.")] = 30,
) -> None:
    """督查: backlog, overdue and due-soon per department, handling time, throughput."""
    with guarded(login=True) as ctx:
        with ctx.read() as session:
            result = supervision.overview(
                session,
                actor=ctx.actor,
                now=ctx.now(),
                days=days,
                soon_days=ctx.settings.due_soon_days,
            )
        for load in result.departments:
            ctx.say(
                "cli.overview_line",
                department=load.department,
                backlog=load.backlog,
                overdue=load.overdue,
                soon=load.due_soon,
                paused=load.waiting_supplement,
                avg="-" if load.average_days is None else load.average_days,
            )
        total = sum(n for _, n in result.throughput)
        ctx.say("cli.throughput", days=days, total=total, average=round(total / days, 1))


def audit_log(
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    since: Annotated[str, typer.Option(help="Only from this day on (YYYY-MM-DD).")] = "",
) -> None:
    """The audit trail (auditors): logins, refusals, looks at personal data and why."""
    with guarded() as ctx, ctx.read() as session:
        start = None
        if since:
            try:
                start = datetime.combine(date.fromisoformat(since), time(), ctx.now().tzinfo)
            except ValueError:
                ctx.fail_key("error.field.date", field="--since")
        for entry in audit.entries(session, actor=ctx.actor, limit=limit, since=start):
            typer.echo(
                f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<12} {entry.action:<14} "
                f"{entry.subject} {entry.detail}"
            )


def track(
    tracking_no: Annotated[str, typer.Argument(help="Tracking number on the receipt.")],
    code: Annotated[str, typer.Option(help="The access code printed on the receipt.")],
) -> None:
    """The status an applicant may see (no personal data), offline from this office's data."""
    with guarded() as ctx:
        language = ctx.settings.language
        pick = 0 if language.startswith("zh") else 1
        with ctx.write() as session:  # a wrong code is counted, so the next guess waits
            found = status.look_up(session, tracking_no, code, now=ctx.now())
        if found is None:
            ctx.fail_key("error.track.unknown")
        ctx.say(
            "cli.track_header",
            tracking_no=found.tracking_no,
            matter=found.matter[pick],
            status=f"status.{found.status}",
            accepted=found.accepted,
            due=found.due or "-",
        )
        for task in found.tasks:
            ctx.say(
                "cli.track_task",
                department=task.department[pick],
                state=f"state.{task.state}",
                due=task.due or "-",
                decided=task.decided or "-",
            )


def register(app: typer.Typer) -> None:
    """Attach the read-only commands to ``app``."""
    app.command()(show)
    app.command()(track)
    app.command()(queue)
    app.command()(overview)
    app.command("audit")(audit_log)
