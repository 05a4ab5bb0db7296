"""`renkei login-link CONTACT_KEY [--next PATH]`: a one-time sign-in URL, for operators and tests."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.renkei import current_renkei
from storage.db import transaction
from storage.models import Contact
from storage.web_access import LOGIN_LINK_TTL, issue_login_link, safe_next


@click.command("login-link", help="Print a one-time sign-in URL for the web (15 minutes).")
@click.argument("contact_key")
@click.option("--next", "next_path", default="/", help="Where to land after signing in (a path).")
@with_appcontext
def login_link_command(contact_key: str, next_path: str) -> None:
    r = current_renkei()
    if safe_next(next_path) != next_path:
        raise click.ClickException(
            f"--next must be a path of this site, like /agreements/KEY: {next_path!r}"
        )
    with transaction(r.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.key == contact_key))
        if contact is None or not contact.active:
            raise click.ClickException(f"no active contact with the key {contact_key!r}")
        token = issue_login_link(session, contact, now=r.clock(), next_path=next_path)
        name = contact.name
    minutes = int(LOGIN_LINK_TTL.total_seconds() // 60)
    click.echo(f"{r.settings.public_base_url}/login/{token}")
    click.echo(f"(valid for {minutes} minutes, once; signs in as {name})", err=True)
