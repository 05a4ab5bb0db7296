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
