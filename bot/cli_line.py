"""`renkei line …`: set up the LINE channel from the command line (the rich menu)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from linebot.v3.messaging import ApiClient, ApiException, Configuration, MessagingApiBlob

from bot.line_rich_menu import draw_rich_menu, install_rich_menu
from bot.renkei import current_renkei
from bot.senders import line_api

line_commands = AppGroup("line", help="LINE channel set-up.")


def data_endpoint(api_endpoint: str) -> str:
    """Images go to api-data.line.me; a stand-in API (LINE_API_ENDPOINT) serves both."""
    return api_endpoint.replace("://api.line.me", "://api-data.line.me")


@line_commands.command(
    "rich-menu",
    help="Draw the rich menu (予定・活動・KPI・状況・ダッシュボード・ヘルプ), upload it and make it "
    "every user's default menu; menus of earlier runs are removed.",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the menu's picture to this PNG file.",
)
def rich_menu(save: Path | None) -> None:
    settings = current_renkei().settings
    if not settings.line_enabled:
        raise click.ClickException(
            "LINE is off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN first"
        )
    png = draw_rich_menu()
    if save is not None:
        save.write_bytes(png)
    api = line_api(settings.line_api_endpoint, settings.line_channel_access_token)
    blob = MessagingApiBlob(
        ApiClient(
            Configuration(
                host=data_endpoint(settings.line_api_endpoint),
                access_token=settings.line_channel_access_token,
            )
        )
    )
    try:
        menu_id = install_rich_menu(api, blob, png)
    except ApiException as exc:
        raise click.ClickException(f"LINE refused the rich menu: {exc.status} {exc.body}") from None
    click.echo(f"rich menu {menu_id} is now every user's default menu")
