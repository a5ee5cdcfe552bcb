"""Commands that set an office up: init, operators, catalog, holidays, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workstation.catalog import load_catalog
from workstation.cli.context import guarded
from workstation.services import enrolment, office
from workstation.services.auth import ROLES
from workstation.workdays import load_schedule_file

operator_app = typer.Typer(help="Operators of this office.", no_args_is_help=True)
catalog_app = typer.Typer(help="The matter catalog.", no_args_is_help=True)
calendar_app = typer.Typer(help="Official holiday schedules.", no_args_is_help=True)

PasswordOption = Annotated[
    str,
    typer.Option(
        envvar="ONEWINDOW_NEW_PASSWORD",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="Password (or ONEWINDOW_NEW_PASSWORD).",
    ),
]


def init(
    code: Annotated[str, typer.Option(help="Office code, e.g. 610102001.")],
    name: Annotated[str, typer.Option(help="Office name.")],
    level: Annotated[str, typer.Option(help="village/township/county/city/province.")] = "township",
    parent_code: Annotated[str, typer.Option(help="Upstream office code.")] = "",
    parent_name: Annotated[str, typer.Option(help="Upstream office name.")] = "",
    parent_level: Annotated[str, typer.Option(help="Upstream office level.")] = "county",
    admin: Annotated[str, typer.Option(help="User name of the first administrator.")] = "admin",
    admin_name: Annotated[str, typer.Option(help="Full name of the administrator.")] = "管理员",
    password: PasswordOption = "",
) -> None:
    """Set up this database for an office, with its first administrator and the catalog."""
    with guarded() as ctx:
        catalog = load_catalog(ctx.settings.catalog_path)
        parent = (
            office.OfficeSpec(parent_code, parent_name or parent_code, parent_level)
            if parent_code
            else None
        )
        with ctx.write() as session:
            actor = office.init_office(
                session,
                key_dir=ctx.settings.key_dir,
                office=office.OfficeSpec(code, name, level),
                parent=parent,
                admin_username=admin,
                admin_name=admin_name,
                admin_password=password,
                now=ctx.now(),
            )
            enrolment.register_office_key(
                session, actor=actor, key_dir=ctx.settings.key_dir, now=ctx.now()
            )
            count = office.publish_catalog(session, actor=actor, catalog=catalog, now=ctx.now())
        ctx.say("cli.initialised", office=code, name=name, admin=admin, matters=count)


@operator_app.command("add")
def operator_add(
    username: Annotated[str, typer.Argument(help="Log-in name, e.g. wangfang.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    department: Annotated[
        list[str] | None, typer.Option(help="Department code (officers).")
    ] = None,
    password: PasswordOption = "",
) -> None:
    """Register an operator with a new signing key (as an administrator)."""
    with guarded() as ctx:
        actor = ctx.actor
        with ctx.write() as session:
            operator = office.add_operator(
                session,
                actor=actor,
                key_dir=ctx.settings.key_dir,
                username=username,
                name=name,
                role=role,
                departments=list(department or []),
                password=password,
                now=ctx.now(),
            )
        ctx.say(
            "cli.operator_added", username=username, role=f"role.{role}", key_id=operator.key_id
        )


@operator_app.command("revoke")
def operator_revoke(
    username: Annotated[str, typer.Argument(help="Log-in name of the operator.")],
    reason: Annotated[str, typer.Option(help="Why (a lost key, a person who left…).")],
) -> None:
    """Revoke an operator's key: what it signs afterwards is held for review (administrator)."""
    with guarded() as ctx:
        actor = ctx.actor
        with ctx.write() as session:
            office.revoke_operator(
                session, actor=actor, username=username, reason=reason, now=ctx.now()
            )
        ctx.say("cli.operator_revoked", username=username)


@catalog_app.command("check")
def catalog_check(path: Annotated[Path, typer.Argument(help="A catalog directory.")]) -> None:
    """Validate a catalog directory without changing anything."""
    with guarded() as ctx:
        catalog = load_catalog(path)
        ctx.say(
            "cli.catalog_ok", departments=len(catalog.departments), matters=len(catalog.matters)
        )


@catalog_app.command("publish")
def catalog_publish(
    path: Annotated[
        Path | None, typer.Argument(help="Catalog directory (default: setting).")
    ] = None,
) -> None:
    """Publish a catalog to this office (as an administrator)."""
    with guarded() as ctx:
        catalog = load_catalog(path or ctx.settings.catalog_path)
        actor = ctx.actor
        with ctx.write() as session:
            count = office.publish_catalog(session, actor=actor, catalog=catalog, now=ctx.now())
        ctx.say("cli.catalog_published", matters=count)


@calendar_app.command("load")
def calendar_load(
    path: Annotated[Path, typer.Argument(help="A holiday schedule TOML file.")],
) -> None:
    """Load a year's official holiday schedule (as an administrator)."""
    with guarded() as ctx:
        schedule = load_schedule_file(path)
        actor = ctx.actor
        with ctx.write() as session:
            office.load_calendar(session, actor=actor, schedule=schedule, now=ctx.now())
        ctx.say(
            "cli.calendar_loaded",
            year=schedule.year,
            holidays=len(schedule.holidays),
            workdays=len(schedule.workdays),
        )


def demo(
    tui: Annotated[bool, typer.Option("--tui/--no-tui", help="Open the workstation after.")] = True,
    seed: Annotated[int, typer.Option(help="Seed of the generated applications.")] = 2026,
    applications: Annotated[int, typer.Option(help="How many applications.")] = 300,
) -> None:
    """Seed a demo township office: every role, the demo catalog, applications in every state."""
    from workstation import demo as demo_data

    with guarded() as ctx:
        result = demo_data.seed(
            ctx.engine, key_dir=ctx.settings.key_dir, seed=seed, count=applications, now=ctx.now()
        )
        if result.created:
            ctx.say("cli.demo_done", applications=result.applications, events=result.events)
        else:
            ctx.say("cli.demo_exists", events=result.events)
        ctx.say("cli.demo_operators", password=demo_data.PASSWORD)
        for username, name, role in result.operators:
            ctx.say(
                "cli.demo_operator", username=username, role=ctx.text(f"role.{role}"), name=name
            )
    if tui:
        from workstation.cli import open_workstation

        open_workstation()


def register(app: typer.Typer) -> None:
    """Attach the set-up commands to ``app``."""
    app.command()(init)
    app.command()(demo)
    app.add_typer(operator_app, name="operator")
    app.add_typer(catalog_app, name="catalog")
    app.add_typer(calendar_app, name="calendar")
