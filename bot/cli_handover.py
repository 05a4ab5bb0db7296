"""`renkei handover AGREEMENT_KEY --format md`: the chat's 引継ぎ summary as a Markdown file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.renkei import current_renkei
from handlers.handover_doc import as_markdown, as_text, handover_sections
from storage.models import Agreement


@click.command("handover", help="Write the handover summary (引継ぎ資料) of an agreement.")
@click.argument("agreement_key")
@click.option("--format", "fmt", type=click.Choice(["md", "text"]), default="md", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: handover-AGREEMENT_KEY.md); '-' prints it.",
)
@with_appcontext
def handover_command(agreement_key: str, fmt: str, output: Path | None) -> None:
    r = current_renkei()
    today = r.clock().astimezone(r.settings.tz).date()
    with r.sessions() as session:
        agreement = session.scalar(select(Agreement).where(Agreement.key == agreement_key))
        if agreement is None:
            raise click.ClickException(f"no agreement with key {agreement_key!r}")
        sections = handover_sections(session, agreement, today=today, tz=r.settings.tz)
        title = f"引継ぎ資料：{agreement.title}（{today:%Y/%m/%d}時点）"
    document = as_markdown(title, sections) if fmt == "md" else as_text(title, sections) + "\n"
    if output is not None and str(output) == "-":
        click.echo(document, nl=False)
        return
    path = output or Path(f"handover-{agreement_key}.{'md' if fmt == 'md' else 'txt'}")
    path.write_text(document, encoding="utf-8")
    click.echo(f"wrote {path}")
