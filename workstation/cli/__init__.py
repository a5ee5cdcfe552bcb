"""The ``onewindow`` command: set-up, integrity checks and every action, scriptable."""

from __future__ import annotations

import typer

from workstation.cli import batch, context, docs, integrity, offices, setup, syncing, views, work
from workstation.services.office import local_office

app = typer.Typer(
    name="onewindow",
    help="One-Window Workstation (一窗通): one-window intake and signed parallel approval.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
setup.register(app)
integrity.register(app)
work.register(app)
batch.register(app)
views.register(app)
offices.register(app)
syncing.register(app)
docs.register(app)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """With no command: open the workstation on this office's database."""
    context.reset()
    if ctx.invoked_subcommand is None:
        open_workstation()


def open_workstation() -> None:
    """Run the Textual workstation (refuses clearly when no office is set up yet)."""
    from workstation.app import build_app

    with context.guarded() as ctx:
        with ctx.read() as session:
            local_office(session)
        build_app(ctx.settings, engine=ctx.engine).run()


def main() -> None:
    """Console-script entry point."""
    app()
