"""`renkei contacts`, `renkei agreements` (who is linked where, in which role) and
`renkei forget CONTACT_KEY` (a person's data removed; their records stay, attributed to 退職者)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.renkei import current_renkei as _renkei
from storage.db import transaction
from storage.models import (
    Agreement,
    AgreementContact,
    ChatIdentity,
    Contact,
    InviteAttempt,
    InviteCode,
    Organization,
)

FORGOTTEN_NAME = "退職者"
ROLE_NAMES = {"primary": "主担当", "secondary": "副担当"}


def register(app: Flask) -> None:
    app.cli.add_command(contacts)
    app.cli.add_command(agreements)
    app.cli.add_command(forget)


def _linked(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for contact_id, platform, external_id in session.execute(
        select(ChatIdentity.contact_id, ChatIdentity.platform, ChatIdentity.external_id).order_by(
            ChatIdentity.platform, ChatIdentity.external_id
        )
    ):
        out.setdefault(contact_id, []).append(f"{platform}:{external_id}")
    return out


def _roles(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for contact_id, agreement_key, role in session.execute(
        select(AgreementContact.contact_id, Agreement.key, AgreementContact.role)
        .join(Agreement, Agreement.id == AgreementContact.agreement_id)
        .order_by(Agreement.key, AgreementContact.role)
    ):
        out.setdefault(contact_id, []).append(f"{agreement_key}({ROLE_NAMES.get(role, role)})")
    return out


@click.command(help="List contacts: organization, linked chat accounts, agreements and roles.")
@with_appcontext
def contacts() -> None:
    r = _renkei()
    with r.sessions() as session:
        linked, roles = _linked(session), _roles(session)
        rows = session.execute(
            select(Contact, Organization.key)
            .join(Organization, Organization.id == Contact.organization_id)
            .order_by(Organization.key, Contact.key)
        ).all()
        if not rows:
            click.echo("no contacts (import an agreement file first: renkei import FILE)")
            return
        for contact, organization in rows:
            state = "" if contact.active else " [inactive]"
            accounts = ", ".join(linked.get(contact.id, [])) or "not linked (renkei invite KEY)"
            click.echo(f"{contact.key}\t{contact.name}\t{organization}{state}")
            click.echo(f"  accounts:   {accounts}")
            click.echo(f"  agreements: {', '.join(roles.get(contact.id, [])) or '-'}")


@click.command(help="List agreements: their contacts by side and role, and where each is linked.")
@with_appcontext
def agreements() -> None:
    r = _renkei()
    with r.sessions() as session:
        linked = _linked(session)
        found = session.scalars(select(Agreement).order_by(Agreement.key)).all()
        if not found:
            click.echo("no agreements (import an agreement file first: renkei import FILE)")
            return
        for agreement in found:
            click.echo(f"{agreement.key}\t{agreement.title}")
            click.echo(
                f"  term: {agreement.starts_on} – {agreement.ends_on}"
                f"  slack: {agreement.slack_channel or '-'}  line group: {agreement.line_group or '-'}"
            )
            for row in sorted(
                agreement.contacts, key=lambda c: (c.organization_id, c.role != "primary")
            ):
                contact = row.contact
                accounts = ", ".join(linked.get(contact.id, [])) or "not linked"
                click.echo(
                    f"  {ROLE_NAMES.get(row.role, row.role)}\t{contact.key}\t{contact.name}"
                    f"\t{accounts}"
                )


@click.command(help="Forget a person: chat accounts, e-mail and name removed; records stay.")
@click.argument("contact_key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def forget(contact_key: str, yes: bool) -> None:
    """Their activities, tasks and KPI values remain, shown as 退職者 (the agreement's history
    is the organizations', not the person's)."""
    r = _renkei()
    with transaction(r.sessions) as session:
        contact = session.scalar(select(Contact).where(Contact.key == contact_key))
        if contact is None:
            raise click.ClickException(f"no contact with key {contact_key!r}")
        if not yes:
            click.confirm(
                f"Forget {contact.key} ({contact.name}): chat accounts, e-mail and name?",
                abort=True,
            )
        identities = session.scalars(
            select(ChatIdentity).where(ChatIdentity.contact_id == contact.id)
        ).all()
        for identity in identities:
            session.execute(
                delete(InviteAttempt).where(
                    InviteAttempt.platform == identity.platform,
                    InviteAttempt.external_id == identity.external_id,
                )
            )
            session.delete(identity)
        session.execute(delete(InviteCode).where(InviteCode.contact_id == contact.id))
        contact.name = FORGOTTEN_NAME
        contact.email = None
        contact.active = False  # no reminders are aimed at nobody
    click.echo(
        f"{contact_key}: forgotten ({len(identities)} chat account(s) unlinked, e-mail and name "
        f"removed; records stay as {FORGOTTEN_NAME}). Remove the person from the agreement file "
        "too, or the next import brings the name back."
    )
