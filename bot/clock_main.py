"""The `clock:` process on its own (`python -m bot.clock_main`; `renkei clock` is an alias):
settings, the database and one sender per platform. No web app, no Flask, no webhook models,
no matplotlib: charts are drawn by the web process when first fetched (bot.charts_web)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import ClockWorker, build_scheduler, holder_id
from bot.senders import LineSender, LocalSender, Sender, SlackSender, line_api, slack_sender_client
from config import Settings, SettingsError, load_settings
from storage.db import make_engine, make_session_factory
from storage.lease import make_guard

log = logging.getLogger(__name__)
# SQLite keeps each connection's prepared statements; the planner binds hundreds of ids per IN
# list, and every list length is a statement of its own: the driver's 128 per connection were
# a good part of the ~33 MB the clock kept after each Monday (bench/RESULTS.md finding 16).
# The clock's statements are not hot: a few prepared suffice.
CLOCK_PREPARED_STATEMENTS = 16


def utc_now() -> datetime:
    return datetime.now(UTC)


def senders_for(settings: Settings) -> dict[str, Sender]:
    """A sender per configured platform; the local log is always there (logging only: a
    clock that kept what it sent would grow with every week it runs)."""
    senders: dict[str, Sender] = {"local": LocalSender(keep=False)}
    if settings.line_enabled:
        api = line_api(settings.line_api_endpoint, settings.line_channel_access_token)
        senders["line"] = LineSender(api, public_base_url=settings.public_base_url)
    if settings.slack_enabled:
        client = slack_sender_client(settings.slack_api_url, settings.slack_bot_token)
        senders["slack"] = SlackSender(client, public_base_url=settings.public_base_url)
    return senders


def run_clock(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Blocks until Ctrl-C or SIGTERM, then hands the guard back."""
    guard = make_guard(engine, sessions, holder=holder_id())
    worker = ClockWorker(
        sessions=sessions, guard=guard, senders=senders_for(settings), tz=settings.tz, clock=clock
    )
    scheduler = build_scheduler(engine, timezone=settings.timezone, worker=worker)
    # honcho and process managers stop the clock with SIGTERM: make it a clean stop too.
    with contextlib.suppress(ValueError):  # not the main thread (tests): leave signals alone
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("clock started; Ctrl-C to stop", file=sys.stderr)
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):  # Ctrl-C is a normal stop
            scheduler.start()
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)  # a send in progress is finished and recorded
        worker.stop()  # a standby clock takes over at once instead of after the lease
        print("clock stopped", file=sys.stderr)


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"renkei: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = make_engine(settings.database_url, prepared_statements=CLOCK_PREPARED_STATEMENTS)
    run_clock(settings, engine, make_session_factory(engine))


if __name__ == "__main__":
    main()
