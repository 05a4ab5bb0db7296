"""The one inbound path every channel shares: dedupe, respond, commit — in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Executable, text
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from handlers.dispatch import respond
from handlers.messages import Incoming, Reply
from handlers.privacy import for_chat
from handlers.registry import surely_writes
from storage.arrival import Arrival, arrive
from storage.db import BLIND_WRITES, WouldWrite, reads_first, transaction
from storage.events import claim, claim_event

log = logging.getLogger(__name__)

# Errors of the database itself, not of the data: unreachable, locked, restarting, or its schema
# not (yet) in place (SQLite calls a missing table an OperationalError, PostgreSQL a
# ProgrammingError). The platform redelivers; an IntegrityError or DataError would fail again.
UNAVAILABLE = (OperationalError, InterfaceError, InternalError, ProgrammingError)

Action = Callable[[Session, datetime], "Reply | None"]
NOT_SAVED_MARK = "システムの問題で処理できませんでした"


class DatabaseUnavailable(Exception):
    """The database could not be reached (or stayed locked) for a platform event.

    The adapters answer 503, so LINE and Slack redeliver the event later; the event id is
    claimed in the same transaction as its writes, so the redelivery is applied exactly once.
    """


def not_saved(text: str) -> Reply:
    """Tell plainly what was not kept, quoting it so it can be sent again as it was."""
    quoted = text if len(text) <= 200 else text[:200] + "…"
    return Reply(
        f"申し訳ありません。{NOT_SAVED_MARK}。次のメッセージは保存されていません：\n「{quoted}」\n"
        "少し時間をおいて、もう一度送ってください。"
    )


@dataclass(frozen=True)
class Inbound:
    sessions: sessionmaker[Session]
    tz: ZoneInfo
    clock: Callable[[], datetime]

    def handle(self, incoming: Incoming, *, event_id: str | None = None) -> Reply | None:
        """The reply for `incoming`, or None for a redelivered event or group chatter.

        The event id is claimed in the same transaction as the command's writes, so a
        redelivery is a no-op and a failure leaves neither the claim nor half a record.

        Most messages only read (予定, 履歴, a question). On SQLite, whose writers take turns
        for the whole file, they are first answered in a transaction that may not write, and
        the event is claimed after it; the first write turns the attempt into the path above.
        PostgreSQL locks rows, not the database: there every message is one transaction.
        """

        def action(session: Session, now: datetime) -> Reply | None:
            return self.respond(session, incoming, now=now)

        try:
            now = self.clock()
            if not self._one_writer or surely_writes(incoming.text):  # 活動, KPI, 完了 write
                return self._in_one(incoming, event_id, now)
            try:
                reply, blind = self._reading(action, now)
            except WouldWrite:  # it writes: redone whole, with the claim, in one transaction
                return self._in_one(incoming, event_id, now)
            return reply if self._claim(incoming.platform, event_id, now, blind) else None
        except DatabaseUnavailable:
            if event_id is not None:
                raise  # the adapter answers 503 and the platform redelivers
            log.exception("database unavailable for a %s message", incoming.platform)
            return not_saved(incoming.text)  # nothing will redeliver it: say so in the chat
        except Exception:
            log.exception("could not handle a %s message (event %s)", incoming.platform, event_id)
            return not_saved(incoming.text)

    def respond(
        self,
        session: Session,
        incoming: Incoming,
        *,
        now: datetime,
        sender: Arrival | None = None,
    ) -> Reply | None:
        """The command's answer, marked private where the group may not see it."""
        reply = respond(session, incoming, now=now, tz=self.tz, sender=sender)
        return for_chat(session, incoming, reply)

    def _in_one(self, incoming: Incoming, event_id: str | None, now: datetime) -> Reply | None:
        """The message in one transaction with the claim of its event (read with the sender)."""
        platform = incoming.platform
        with _unavailable(f"{platform} event {event_id}"), transaction(self.sessions) as session:
            arrival = arrive(
                session,
                platform=platform,
                event_id=event_id,
                now=now,
                external_id=incoming.user_id,
                chat_key=incoming.chat_id or "",
            )
            if not arrival.claimed:
                log.info("%s event %s seen before: acknowledged, not applied", platform, event_id)
                return None
            return self.respond(session, incoming, now=now, sender=arrival)

    @property
    def _engine(self) -> Engine:
        return self.sessions.kw["bind"]  # type: ignore[no-any-return]

    @property
    def _one_writer(self) -> bool:
        return bool(self._engine.dialect.name == "sqlite")

    def _reading(self, action: Action, now: datetime) -> tuple[Reply | None, list[Executable]]:
        """`action` in a transaction that only reads, and the blind writes it left for the
        claim's (storage.db.write_blind); raises WouldWrite at its first other write."""
        with _unavailable("a message"), reads_first(self.sessions) as session:
            reply = action(session, now)
            return reply, list(session.info.get(BLIND_WRITES, ()))

    def _claim(
        self, platform: str, event_id: str | None, now: datetime, blind: list[Executable]
    ) -> bool:
        """Claim the event of an answer that only read, with its blind writes, in a transaction
        of its own (a fraction of a millisecond of SQLite's write lock); False for a
        redelivery, which gets no answer and writes nothing."""
        if event_id is None and not blind:
            return True
        with _unavailable(f"{platform} event {event_id}"), self._engine.begin() as connection:
            if event_id is None or claim(connection, platform=platform, event_id=event_id, now=now):
                for statement in blind:
                    connection.execute(statement)
                return True
        log.info("%s event %s seen before: acknowledged, not answered again", platform, event_id)
        return False

    def once(self, platform: str, event_id: str | None, action: Action) -> Reply | None:
        """Run `action` in one transaction with the claim of `event_id`: a redelivered event
        (a follow, a join, a message) is acknowledged and not applied again. Raises on failure."""
        now = self.clock()
        with _unavailable(f"{platform} event {event_id}"), transaction(self.sessions) as session:
            if event_id is not None and not claim_event(
                session, platform=platform, event_id=event_id, now=now
            ):
                log.info("%s event %s seen before: acknowledged, not applied", platform, event_id)
                return None
            return action(session, now)

    def check_available(self) -> None:
        """Raise DatabaseUnavailable unless the database answers (for adapters that acknowledge
        before they handle: a 503 must come before the 200)."""
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
        except UNAVAILABLE as exc:
            log.error("database unavailable: asking for a redelivery")
            raise DatabaseUnavailable from exc


@contextmanager
def _unavailable(what: str) -> Iterator[None]:
    """The database's own failures as DatabaseUnavailable (the platform redelivers)."""
    try:
        yield
    except UNAVAILABLE as exc:
        log.error(
            "database unavailable for %s (%s): asking for a redelivery",
            what,
            type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
        )
        raise DatabaseUnavailable from exc
