"""`onewindow hub` serves this office to the offices below; `onewindow sync` pushes up once."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from sync import client
from workstation.cli.context import guarded
from workstation.services.office import local_office


def hub(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8470,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Hub processes.")] = 1,
) -> None:
    """Serve this office's database to the offices enrolled below it (HTTP, signed requests)."""
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
    """One round with the level above: push everything it has not receipted yet."""
    with guarded() as ctx:
        report = client.push(ctx.engine, ctx.settings, clock=ctx.now)
        ctx.say(
            "cli.sync_pushed",
            batches=report.batches,
            events=report.events,
            url=ctx.settings.upstream_url,
        )


def register(app: typer.Typer) -> None:
    """Add the sync commands to ``app``."""
    app.command()(hub)
    app.command()(sync)
