"""`onewindow office` and `held`: keys, cards, offices enrolled below; events held for review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workstation.cli.context import Context, guarded
from workstation.services import enrolment, held
from workstation.services.enrolment import OfficeCard

office_app = typer.Typer(help="This office's key; the offices enrolled below it.")


@office_app.command("key")
def office_key() -> None:
    """Create this office's sync key and register it (once, as an administrator)."""
    with guarded() as ctx:
        actor = ctx.actor
        with ctx.write() as session:
            key_id = enrolment.register_office_key(
                session, actor=actor, key_dir=ctx.settings.key_dir, now=ctx.now()
            )
        ctx.say("cli.office_key", key_id=key_id)


@office_app.command("card")
def office_card(
    out: Annotated[Path, typer.Option(help="Where to write the card (a small JSON file).")],
) -> None:
    """Write this office's card for the administrator of the level above to enrol."""
    with guarded() as ctx:
        with ctx.read() as session:
            card = enrolment.office_card(session)
        try:
            out.write_text(card.to_json(), "utf-8")
        except OSError as error:
            ctx.fail_key("error.file.write", path=str(out), reason=error.strerror or str(error))
        ctx.say("cli.office_card", path=str(out), code=card.code, key_id=card.key_id)


@office_app.command("enroll")
def office_enroll(
    code: Annotated[str, typer.Argument(help="Code of the office to enrol.")],
    public_key: Annotated[Path, typer.Option(help="The office's card (onewindow office card).")],
) -> None:
    """Enrol an office below this one, from its card (as an administrator)."""
    with guarded() as ctx:
        card = _read_card(ctx, public_key)
        if card.code != code.strip():
            ctx.fail_key("error.office_card.code", code=code, card=card.code)
        actor = ctx.actor
        with ctx.write() as session:
            enrolment.enrol(session, actor=actor, card=card, now=ctx.now())
        ctx.say("cli.office_enrolled", code=card.code, name=card.name, key_id=card.key_id)


@office_app.command("upstream")
def office_upstream(
    card: Annotated[Path, typer.Option(help="The card of the level above (its office card).")],
) -> None:
    """Register the level above: where this office syncs to and its office key."""
    with guarded() as ctx:
        upstream = _read_card(ctx, card)
        actor = ctx.actor
        with ctx.write() as session:
            enrolment.register_upstream(session, actor=actor, card=upstream, now=ctx.now())
        ctx.say("cli.office_upstream", code=upstream.code, name=upstream.name)


def _read_card(ctx: Context, path: Path) -> OfficeCard:
    """An office card from a file; a missing or broken file is said so."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        ctx.fail_key("error.file.read", path=str(path), reason=str(error))
    return OfficeCard.from_json(text)


@office_app.command("revoke")
def office_revoke(
    code: Annotated[str, typer.Argument(help="Code of the enrolled office.")],
    reason: Annotated[str, typer.Option(help="Why (a lost machine, a closed office…).")],
) -> None:
    """Stop accepting an enrolled office's key (as an administrator)."""
    with guarded() as ctx:
        actor = ctx.actor
        with ctx.write() as session:
            enrolment.revoke(session, actor=actor, code=code, reason=reason, now=ctx.now())
        ctx.say("cli.office_revoked", code=code)


@office_app.command("list")
def office_list() -> None:
    """The offices enrolled below this one, with their keys."""
    with guarded() as ctx:
        with ctx.read() as session:
            offices = enrolment.enrolled(session)
        if not offices:
            ctx.say("cli.no_offices")
        for office in offices:
            state = "cli.office_revoked_state" if office.revoked_at else "cli.office_active"
            ctx.say(
                "cli.office_line",
                code=office.code,
                name=office.name,
                level=f"level.{office.level}",
                key_id=office.key_id or "",
                state=state,
            )


held_app = typer.Typer(
    help="Events signed by a revoked key after its revocation, held for review.",
    no_args_is_help=True,
)


@held_app.command("list")
def held_list() -> None:
    """The held events nobody has decided on yet."""
    with guarded(login=True) as ctx:
        with ctx.read() as session:
            rows = held.held_events(session, actor=ctx.actor)
        if not rows:
            ctx.say("cli.held_none")
        for row in rows:
            ctx.say(
                "cli.held_row", origin=row.origin, seq=row.seq, type=row.type,
                actor=row.actor, subject=row.subject or "—",
            )  # fmt: skip


def _decide(origin: str, seq: int, reason: str, *, admit: bool) -> None:
    with guarded() as ctx:
        actor = ctx.actor
        with ctx.write() as session:
            held.decide(
                session, actor=actor, origin=origin, seq=seq, admit=admit, reason=reason,
                now=ctx.now(),
            )  # fmt: skip
        resolution = "held.admitted" if admit else "held.refused"
        ctx.say("cli.held_decided", origin=origin, seq=seq, resolution=resolution)


OriginArg = Annotated[str, typer.Argument(help="Code of the office that made the event.")]
SeqArg = Annotated[int, typer.Argument(help="The event's sequence number in that office.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (for the record).")]


@held_app.command("admit")
def held_admit(origin: OriginArg, seq: SeqArg, reason: ReasonOpt) -> None:
    """Let a held event count from its place (as a supervisor)."""
    _decide(origin, seq, reason, admit=True)


@held_app.command("refuse")
def held_refuse(origin: OriginArg, seq: SeqArg, reason: ReasonOpt) -> None:
    """Keep a held event from ever counting (as a supervisor)."""
    _decide(origin, seq, reason, admit=False)


def register(app: typer.Typer) -> None:
    """Add the office and held-event commands to ``app``."""
    app.add_typer(office_app, name="office")
    app.add_typer(held_app, name="held")
