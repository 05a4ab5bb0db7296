"""Authorization as a matrix: each command on one's own agreement works, on another's is refused
and changes nothing. tanaka is a contact of minato-acme only; sakura-hikari is not theirs."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from storage.models import Base, Meeting
from tests.support import say

REFUSED = ("見つからないか、あなたの担当ではありません", "見つかりません")

# (what tanaka types about their own agreement, the same about sakura-hikari, a fragment of success)
MATRIX = [
    (
        "活動 11/20 防災訓練 協定:minato-acme",
        "活動 11/20 防災訓練 協定:sakura-hikari",
        "活動を記録しました",
    ),
    (
        "KPI drill 100 協定:minato-acme",
        "KPI startup-consults 5 協定:sakura-hikari",
        "を記録しました",
    ),
    (
        "会議 12/18 14:00 打合せ 協定:minato-acme",
        "会議 12/18 14:00 打合せ 協定:sakura-hikari",
        "会議を登録しました",
    ),
    ("会議 変更 1 12/20 10:00", "会議 変更 3 12/20 10:00", "会議の日時を変更しました"),
    ("会議 中止 1", "会議 中止 3", "会議を中止にしました"),
    (
        "タスク 12/5 資料 協定:minato-acme",
        "タスク 12/5 資料 協定:sakura-hikari",
        "タスクを登録しました",
    ),
    ("完了 1", "完了 4", "を完了にしました"),
    ("状況 協定:minato-acme", "状況 協定:sakura-hikari", "協定の状況（1件）"),
    ("引継ぎ 協定:minato-acme", "引継ぎ 協定:sakura-hikari", "引継ぎ資料"),
    (
        "担当変更 山田 太郎 協定:minato-acme タスク:移す",
        "担当変更 山田 太郎 協定:sakura-hikari",
        "正担当を 山田 太郎さん（tanaka-successor-1）に変更しました",
    ),
    ("タスク 協定:minato-acme", "タスク 協定:sakura-hikari", "未完了のタスク"),
    ("会議 一覧 協定:minato-acme", "会議 一覧 協定:sakura-hikari", "これからの会議"),
    ("KPI 協定:minato-acme", "KPI 協定:sakura-hikari", "KPI一覧"),
]


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["renkei"].sessions() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize(
    ("own", "other", "success"),
    MATRIX,
    ids=[m[0].split()[0] + "-" + str(i) for i, m in enumerate(MATRIX)],
)
def test_own_agreement_works_other_is_refused(
    demo: Flask, own: str, other: str, success: str
) -> None:
    before = counts(demo)
    refused = say(demo, "tanaka", other).as_text()
    assert any(r in refused for r in REFUSED), refused
    assert "さくら町" not in refused
    assert counts(demo) == before
    assert success in say(demo, "tanaka", own).as_text()


def test_history_and_due_show_only_own_agreements(demo: Flask) -> None:
    say(demo, "takahashi", "活動 11/20 創業セミナー 参加者12名 協定:sakura-hikari")
    say(demo, "tanaka", "活動 11/21 防災訓練 参加者40名")
    history = say(demo, "tanaka", "履歴").as_text()
    assert "防災訓練" in history and "創業セミナー" not in history
    assert "創業セミナー" in say(demo, "yamamoto", "履歴").as_text()
    assert "総合評価" not in say(demo, "tanaka", "予定").as_text()


def test_a_moved_meeting_of_another_agreement_is_untouched(demo: Flask) -> None:
    say(demo, "tanaka", "会議 変更 3 12/20 10:00")
    with demo.extensions["renkei"].sessions() as s:
        meeting = s.get(Meeting, 3)
    assert meeting is not None and meeting.title == "協定期間満了に向けた総合評価会議"
    assert meeting.starts_at.astimezone().date().isoformat() == "2026-12-02"
