"""`renkei …`: the Flask CLI around the app (`create_app`), except `renkei clock`, which runs
the lean clock (`bot.clock_main`) without building the web app."""

from __future__ import annotations

import logging
import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.app import create_app
from config import SettingsError
from storage.db import no_tables


def main() -> None:
    if sys.argv[1:2] == ["clock"]:  # an alias of the `clock:` process's own entry
        from bot.clock_main import main as clock_main

        clock_main()
        return
    # Commands print their own results; only the long-running clock wants the INFO log.
    logging.basicConfig(level=logging.WARNING)
    group = FlaskGroup(
        create_app=lambda: create_app(),
        add_version_option=False,
        help="Renkei: the chat bot that keeps 包括連携協定 alive.",
    )
    try:
        group.main(prog_name="renkei")
    except SettingsError as exc:
        click.echo(f"renkei: {exc}", err=True)
        raise SystemExit(2) from None
    except (OperationalError, ProgrammingError) as exc:
        if not no_tables(exc):
            raise
        click.echo(
            "renkei: データベースにまだテーブルがありません。先に `renkei db upgrade` を実行して"
            "ください（the database has no tables yet: run `renkei db upgrade` first）。",
            err=True,
        )
        raise SystemExit(2) from None
