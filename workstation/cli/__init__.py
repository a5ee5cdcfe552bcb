"""The ``onewindow`` command: set-up, integrity checks and every action, scriptable."""

from __future__ import annotations

import typer

from workstation.cli import context, integrity, setup, views, work

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
views.register(app)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """With no command: open the workstation (the screens arrive with their own issue)."""
    context.reset()
    if ctx.invoked_subcommand is None:
        context.get().say("cli.tui_pending")


def main() -> None:
    """Console-script entry point."""
    app()
