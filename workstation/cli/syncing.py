"""`onewindow hub` serves this office to the offices below; `onewindow sync` pushes up once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The sync modules (FastAPI, httpx, uvicorn) load inside the commands that use them: every
# other command, and the workstation itself, starts without them.
from workstation.cli.context import guarded
from workstation.services.office import local_office


def hub(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8470,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Hub processes.")] = 1,
) -> None:
    """Serve this office's database to the offices enrolled below it (HTTP, signed requests)."""
    import uvicorn

    with guarded() as ctx:
        with ctx.read() as session:
            here = local_office(session)  # an office is set up here before it serves others
        ctx.say("cli.hub_listening", office=here.code, url=f"http://{host}:{port}", workers=workers)
    uvicorn.run(
        "sync.hub:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


def sync() -> None:
    """One round with the level above: push what it has not receipted, pull what it holds for us."""
    from sync import client

    with guarded() as ctx:
        report = client.push(ctx.engine, ctx.settings, clock=ctx.now)
        ctx.say(
            "cli.sync_pushed",
            batches=report.batches,
            events=report.events,
            url=ctx.settings.upstream_url,
        )
        if report.held:
            ctx.say("cli.sync_held", events=report.held)
        pulled = client.pull(ctx.engine, ctx.settings, clock=ctx.now)
        ctx.say("cli.sync_pulled", events=pulled, url=ctx.settings.upstream_url)


bundle_app = typer.Typer(help="Sync by file, where there is no link (a USB stick).")


@bundle_app.command("export")
def bundle_export(
    out: Annotated[Path, typer.Option(help="The bundle file to write.")],
    below: Annotated[
        str, typer.Option("--for", help="At a hub: the office below the bundle is for.")
    ] = "",
    after: Annotated[
        int, typer.Option(help="With --for: the position that office has already pulled to.")
    ] = 0,
) -> None:
    """Write what the level above has not receipted (or, --for, what an office below is owed)."""
    from sync import bundle

    with guarded() as ctx:
        if below:
            events = bundle.export_for_below(ctx.engine, ctx.settings.key_dir, below, out, after)
        else:
            events = bundle.export_bundle(ctx.engine, ctx.settings.key_dir, out)
        if not events:
            ctx.say("cli.bundle_nothing")
            return
        ctx.say("cli.bundle_written", path=str(out), events=events)


@bundle_app.command("import")
def bundle_import(
    path: Annotated[Path, typer.Argument(help="A bundle from an office below or above.")],
) -> None:
    """Check and apply a bundle exactly like a push or a pull (a receipt goes back down)."""
    from sync import bundle

    with guarded() as ctx:
        done = bundle.import_bundle(ctx.engine, ctx.settings.key_dir, path, ctx.now())
        if done.receipt is None:
            ctx.say("cli.bundle_pulled", stored=done.stored, skipped=done.skipped)
        else:
            ctx.say(
                "cli.bundle_imported",
                stored=done.stored,
                skipped=done.skipped,
                receipt=str(done.receipt),
            )
        if done.held:
            ctx.say("cli.sync_held", events=done.held)


@bundle_app.command("receipt")
def bundle_receipt(
    path: Annotated[Path, typer.Argument(help="The receipt the level above wrote.")],
) -> None:
    """Take the level above's receipt for a bundle: those events are no longer provisional."""
    from sync import bundle

    with guarded() as ctx:
        covered, office = bundle.take_bundle_receipt(ctx.engine, path, ctx.now())
        ctx.say("cli.bundle_receipted", events=covered, office=office)


def register(app: typer.Typer) -> None:
    """Add the sync commands to ``app``."""
    app.command()(hub)
    app.command()(sync)
    app.add_typer(bundle_app, name="bundle")
