"""``verify`` and ``rebuild``: the signed log checked, the projections replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workstation import rebuild as replay
from workstation.cli.context import get, guarded
from workstation.verify import cores, verify_log


def verify(
    workers: Annotated[
        int, typer.Option("--workers", min=0, help="Processes checking signatures; 0: all cores.")
    ] = 0,
) -> None:
    """Check every signature, hash and link; exit 0 with a count, or 1 naming the bad event."""
    ctx = get()
    with ctx.read() as session:
        report = verify_log(session, workers=workers or cores())
    if report.problem is None:
        ctx.say("verify.ok", count=report.checked)
        return
    lines = [
        ctx.text(
            "verify.failed",
            origin=problem.origin,
            seq=problem.seq,
            row="-" if problem.row_id is None else problem.row_id,
            reason=ctx.text(problem.reason, **problem.params),
        )
        for problem in report.problems
    ]
    if len(lines) > 1:
        lines.append(ctx.text("verify.failed_count", count=len(lines)))
    for line in lines:
        typer.echo(ctx.text("cli.error", message=line), err=True)
    raise typer.Exit(1)


def rebuild(
    check: Annotated[bool, typer.Option("--check", help="Compare only; change nothing.")] = False,
) -> None:
    """Replay the log into projections (``--check``: into a scratch copy, and compare)."""
    ctx = get()
    if not check:
        with ctx.write() as session:
            count = replay.rebuild_in_place(session)
        ctx.say("rebuild.done", count=count)
        return
    with ctx.read() as session:
        differences = replay.check(session)
        count = session.scalar(replay.event_count()) or 0
    if not differences:
        ctx.say("rebuild.ok", count=count)
        return
    for diff in differences:
        typer.echo(
            ctx.text(
                "rebuild.differs",
                table=diff.table,
                stored=len(diff.only_stored),
                rebuilt=len(diff.only_rebuilt),
            ),
            err=True,
        )
    raise typer.Exit(1)


def backup(
    out: Annotated[Path, typer.Option(help="The backup file to write.")],
) -> None:
    """Back the office's SQLite database up with SQLite's backup API, then check the copy."""
    from workstation import backup as backups

    with guarded() as ctx:
        events = backups.take(ctx.engine, out)
        ctx.say("backup.done", path=str(out), events=events)


def restore(
    path: Annotated[Path, typer.Argument(help="A backup written by onewindow backup.")],
    yes: Annotated[
        bool, typer.Option("--yes", help="Replace the database (close it first).")
    ] = False,
) -> None:
    """Replace the database with a checked backup; nothing changes if the backup is damaged."""
    from workstation import backup as backups

    with guarded() as ctx:
        if not yes:
            ctx.fail_key("backup.confirm")
        events = backups.restore(ctx.engine, path)
        ctx.say("backup.restored", path=str(path), events=events)


def register(app: typer.Typer) -> None:
    """Attach the integrity commands to ``app``."""
    app.command()(verify)
    app.command()(rebuild)
    app.command()(backup)
    app.command()(restore)
