"""What a command gets: the sender, the open transaction and the clock (injected, so tests pick)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.messages import Incoming
from storage.models import Contact


@dataclass(frozen=True)
class Context:
    session: Session
    incoming: Incoming
    contact: Contact
    now: datetime  # timezone-aware
    tz: ZoneInfo

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()
