"""The `renkei` CLI, through Flask's CLI runner, and the console script's settings errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from config.demo import DEMO_FILE, render_demo
from storage.models import Agreement, InviteCode
from tests.conftest import TODAY


def cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def test_db_upgrade_is_repeatable(app: Flask) -> None:
    result = cli(app, "db", "upgrade")
    assert result.exit_code == 0 and "up to date" in result.output


def test_import_then_chat_shows_only_own_items(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "agreements.yaml"
    path.write_text(
        render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=TODAY), encoding="utf-8"
    )
    assert cli(app, "import", str(path)).exit_code == 0
    again = cli(app, "import", str(path))
    assert again.exit_code == 0 and "no changes" in again.output

    out = cli(app, "chat", "--as", "tanaka", "予定").output
    assert "第8回 実務者会議" in out and "協定書改定案の送付" in out
    assert "さくら町" not in out and "総合評価" not in out
    other = cli(app, "chat", "--as", "takahashi", "予定").output
    assert "総合評価シートの作成" in other and "第8回 実務者会議" not in other


def test_import_of_a_broken_file_fails_and_says_where(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("organizations:\n  - {key: x, name: X, kind: city}\n", encoding="utf-8")
    result = cli(app, "import", str(path))
    assert result.exit_code == 1
    assert (
        "organizations[0].kind: 'city' is not one of municipality, company, other" in result.output
    )
    with app.extensions["renkei"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Agreement)) == 0


def test_demo_loads_once_with_if_empty(app: Flask) -> None:
    assert "imported demo data" in cli(app, "demo", "--if-empty", "--today", "2026-11-25").output
    assert "left as is" in cli(app, "demo", "--if-empty").output
    with app.extensions["renkei"].sessions() as s:
        assert s.scalar(select(func.count()).select_from(Agreement)) == 3


def test_invite_prints_a_one_time_code(demo: Flask) -> None:
    result = cli(demo, "invite", "suzuki")
    assert result.exit_code == 0
    code = result.output.splitlines()[0]
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalar(select(InviteCode.code)) == code
    assert cli(demo, "invite", "nobody").exit_code != 0


def test_chat_at_sets_the_handlers_now(demo: Flask) -> None:
    out = cli(demo, "chat", "--as", "tanaka", "--at", "2026-12-09T10:00+09:00", "今週").output
    assert "12/10（木） 14:00 会議：第8回 実務者会議" in out
    # this week only: the task overdue since last week is counted, not listed
    assert "12/5（土）" not in out and "ほかに先週までの期限超過が" in out
    bad = cli(demo, "chat", "--as", "tanaka", "--at", "yesterday", "予定")
    assert bad.exit_code != 0 and "--at" in bad.output


def test_chat_reads_lines_when_no_text_is_given(demo: Flask) -> None:
    result = demo.test_cli_runner().invoke(
        args=["chat", "--as", "tanaka"], input="ヘルプ\n予定\nexit\n"
    )
    assert "Renkei の使い方" in result.output and "今後30日の予定・期限" in result.output


def test_a_malformed_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {**os.environ, "PORT": "eighty", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    script = Path(sys.executable).parent / "renkei"
    result = subprocess.run(
        [str(script), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("renkei: PORT:")


def test_handover_writes_markdown(demo: Flask, tmp_path: Path) -> None:
    out = tmp_path / "handover.md"
    result = cli(demo, "handover", "minato-acme", "--format", "md", "-o", str(out))
    assert result.exit_code == 0 and str(out) in result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 引継ぎ資料：みなと市と株式会社アクメとの包括連携協定")
    for heading in (
        "## 概要",
        "## 担当窓口",
        "## KPIの状況",
        "## 最近の活動",
        "## 未完了のタスク",
        "## 今後60日の予定",
    ):
        assert heading in text
    assert "  - 正担当：田中 花子" in text
    assert cli(demo, "handover", "nope").exit_code != 0
