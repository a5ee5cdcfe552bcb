"""`onewindow hub` serves this office to the offices below; `onewindow sync` pushes up once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The sync modules (FastAPI, httpx, uvicorn) load inside the commands that use them: every
# other command, and the workstation itself, starts without them.
from workstation import officekey
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
        pulled = client.pull(ctx.engine, ctx.settings, clock=ctx.now)
        ctx.say("cli.sync_pulled", events=pulled, url=ctx.settings.upstream_url)


bundle_app = typer.Typer(help="Sync by file, where there is no link (a USB stick).")


@bundle_app.command("export")
def bundle_export(
    out: Annotated[Path, typer.Option(help="The bundle file to write.")],
) -> None:
    """Write everything the level above has not receipted yet into one signed file."""
    from sync import bundle
    from sync.outgoing import next_batch

    with guarded() as ctx:
        with ctx.read() as session:
            key = officekey.load(ctx.settings.key_dir, local_office(session).code)
            batch = next_batch(session, key, limit=None)
        if batch is None:
            ctx.say("cli.bundle_nothing")
            return
        bundle.write_bundle(out, batch)
        ctx.say("cli.bundle_written", path=str(out), events=len(batch.events))


@bundle_app.command("import")
def bundle_import(
    path: Annotated[Path, typer.Argument(help="A bundle from an office below.")],
) -> None:
    """Check and apply a bundle exactly like a push; write the signed receipt beside it."""
    from sync import bundle
    from sync.receive import ForkRefused, accept, record_fork

    with guarded() as ctx:
        batch = bundle.read_bundle(path)
        try:
            with ctx.write() as session:
                key = officekey.load(ctx.settings.key_dir, local_office(session).code)
                done = accept(session, batch, office_key=key)
        except ForkRefused as fork:
            with ctx.write() as session:
                record_fork(session, fork, ctx.now())
            raise
        out = bundle.receipt_path(path)
        bundle.write_receipt(out, done.receipt)
        ctx.say("cli.bundle_imported", stored=done.stored, skipped=done.skipped, receipt=str(out))


@bundle_app.command("receipt")
def bundle_receipt(
    path: Annotated[Path, typer.Argument(help="The receipt the level above wrote.")],
) -> None:
    """Take the level above's receipt for a bundle: those events are no longer provisional."""
    from sync import bundle
    from sync.outgoing import take_receipt

    with guarded() as ctx:
        receipt = bundle.read_receipt(path)
        with ctx.write() as session:
            covered = take_receipt(session, receipt, now=ctx.now())
        ctx.say("cli.bundle_receipted", events=covered, office=receipt.receiver)


def register(app: typer.Typer) -> None:
    """Add the sync commands to ``app``."""
    app.command()(hub)
    app.command()(sync)
    app.add_typer(bundle_app, name="bundle")
