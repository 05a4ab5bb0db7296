"""A command run on a database the migrations never ran on says what to do, not a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.main import main


@pytest.mark.parametrize("argv", [["demo"], ["chat", "--as", "tanaka", "予定"]])
def test_a_fresh_database_asks_for_db_upgrade(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    monkeypatch.setattr(sys, "argv", ["renkei", *argv])
    with pytest.raises(SystemExit) as stopped:
        main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "renkei db upgrade" in err and "Traceback" not in err


def test_the_clock_on_a_fresh_database_says_what_to_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """It stands by (no reminder can be planned), saying 「renkei db upgrade」 instead of a
    traceback about an unreachable database every minute."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.clock import ClockWorker
    from storage.db import make_engine, make_session_factory
    from storage.lease import make_guard

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    sessions = make_session_factory(engine)
    worker = ClockWorker(
        sessions=sessions,
        guard=make_guard(engine, sessions, holder="t"),
        senders={},
        tz=ZoneInfo("Asia/Tokyo"),
        clock=lambda: datetime(2026, 12, 2, tzinfo=UTC),
    )
    assert worker.lead() is False
    worker.stop()
    said = [r.getMessage() for r in caplog.records]
    assert any("renkei db upgrade" in m for m in said), said
    assert not any(r.exc_info for r in caplog.records)
    engine.dispose()
