"""What the app holds (`Renkei`), and the one accessor views and CLI commands reach it by.

Its own module, so the app, the CLI and the web pages all import it and none imports another
back (bot.app builds it; nothing here builds anything)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.inbound import Inbound
from config import Settings


@dataclass(frozen=True)
class Renkei:
    """What the app holds, reachable from views and CLI commands as `current_renkei()`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime]
    inbound: Inbound
    line_replies: Executor  # where LINE answers are sent from (bot.line)


def current_renkei() -> Renkei:
    return current_app.extensions["renkei"]  # type: ignore[no-any-return]
