"""The `renkei` command: part of the app, tested through Flask's CLI runner."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from bot.cli_handover import handover_command
from bot.cli_line import line_commands
from bot.cli_people import register as register_people_commands
from bot.cli_scheduler import register as register_scheduler_commands
from bot.cli_web import login_link_command
from bot.renkei import current_renkei as renkei
from config.demo import DEMO_FILE, render_demo
from handlers.messages import Incoming
from storage.agreement_file import AgreementFileError, parse_agreement_file
from storage.db import transaction, upgrade
from storage.identities import create_invite
from storage.importer import import_agreements
from storage.models import Agreement, Contact

if TYPE_CHECKING:
    from bot.inbound import Inbound


def register_cli(app: Flask) -> None:
    app.cli.add_command(db)
    app.cli.add_command(import_file)
    app.cli.add_command(demo)
    app.cli.add_command(invite)
    app.cli.add_command(chat)
    app.cli.add_command(clock)
    register_scheduler_commands(app)  # reminders preview, outbox list/retry
    app.cli.add_command(handover_command)
    register_people_commands(app)  # contacts, agreements, forget
    app.cli.add_command(login_link_command)
    app.cli.add_command(line_commands)  # renkei line rich-menu


db = AppGroup("db", help="Database commands.")  # its commands run inside the app context


@db.command("upgrade", help="Apply the Alembic migrations (creates the SQLite file if needed).")
def db_upgrade() -> None:
    upgrade(renkei().settings.database_url)
    click.echo("database is up to date")


def _import_text(text: str, source: str) -> None:
    r = renkei()
    try:
        data = parse_agreement_file(text)
        with transaction(r.sessions) as session:
            stats = import_agreements(session, data, tz=r.settings.tz, now=r.clock())
    except AgreementFileError as exc:
        click.echo(f"{source}: not imported, nothing was changed:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from None
    changes = ", ".join(f"{k} {v}" for k, v in sorted(stats.items())) or "no changes"
    click.echo(f"imported {source}: {changes}")


@click.command("import", help="Import an agreement file (YAML); idempotent, all or nothing.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_file(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    _import_text(text, str(path))


@click.command(help="Load the demo agreements, dated relative to today.")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no agreement yet.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Date the demo around this day.")
@with_appcontext
def demo(if_empty: bool, today: datetime | None) -> None:
    r = renkei()
    if if_empty:
        with r.sessions() as session:
            if session.scalar(select(Agreement.id).limit(1)) is not None:
                click.echo("demo data: the database already holds agreements, left as is")
                return
    day = today.date() if today else r.clock().astimezone(r.settings.tz).date()
    _import_text(render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=day), "demo data")


@click.command(help="Print a one-time code that links a LINE or Slack account to a contact.")
@click.argument("contact_key")
@with_appcontext
def invite(contact_key: str) -> None:
    r = renkei()
    with transaction(r.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.key == contact_key))
        if contact is None:
            raise click.ClickException(f"no contact with key {contact_key!r}")
        code = create_invite(session, contact, now=r.clock())
    expires = code.expires_at.astimezone(r.settings.tz)
    click.echo(code.code)
    click.echo(
        f"{contact.name}さんの登録コードです（{expires:%Y/%m/%d %H:%M}まで、1回限り）。"
        f"LINE か Slack でボットに「登録 {code.code}」と送ってもらってください。",
        err=True,
    )


@click.command(help="Talk to the bot as a contact, through the same handlers as LINE and Slack.")
@click.option("--as", "as_", required=True, metavar="CONTACT_KEY", help="Who is talking.")
@click.option("--at", "at", metavar="ISO_DATETIME", help="The handler's 'now' (default: now).")
@click.argument("text", required=False)
@with_appcontext
def chat(as_: str, at: str | None, text: str | None) -> None:
    r = renkei()
    now = _parse_at(at, r.settings.tz) if at else None
    inbound = r.inbound if now is None else type(r.inbound)(r.sessions, r.settings.tz, lambda: now)
    with r.sessions() as session:
        if session.scalar(select(Contact.id).where(Contact.key == as_)) is None:
            raise click.ClickException(f"no contact with key {as_!r} (see the agreement file)")
    if text is not None:
        _say(inbound, as_, text)
        return
    click.echo(f"{as_} として話します。終わるには Ctrl-D か「exit」。", err=True)
    for line in _lines():
        if line.strip() in ("exit", "quit", "終了"):
            break
        if line.strip():
            _say(inbound, as_, line)


def _lines() -> Iterator[str]:
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("あなた> ")
        except EOFError:
            return


def _say(inbound: Inbound, contact_key: str, text: str) -> None:
    reply = inbound.handle(Incoming("local", contact_key, text))
    click.echo(reply.as_text() if reply else "（返答なし）")


def _parse_at(value: str, tz: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO date or datetime", param_hint="--at"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@click.command(help="Run the scheduler process (the Procfile's clock:).")
@with_appcontext
def clock() -> None:
    from bot.clock_main import run_clock

    r = renkei()
    run_clock(r.settings, r.engine, r.sessions, clock=r.clock)
