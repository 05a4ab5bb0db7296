"""Log lines never carry what people typed: SQLAlchemy hides bound parameters
(`hide_parameters=True`), and this formatter hides what a database server quotes back in an
error's DETAIL (PostgreSQL: `Key (event_id)=(…) already exists`)."""

from __future__ import annotations

import logging
import re
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DETAIL = re.compile(r"^(\s*DETAIL:).*$", re.MULTILINE)


class RedactingFormatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:  # logging's own name and signature
        return _DETAIL.sub(r"\1 (hidden)", super().formatException(ei))


def install(level: str) -> None:
    """basicConfig, with the root's plain formatters made redacting (a test runner's own
    handlers keep theirs)."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        if type(handler.formatter) is logging.Formatter:
            handler.setFormatter(RedactingFormatter(FORMAT))
