"""Dialogues through the local channel, read as transcripts (`>` is the liaison)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from storage.models import Activity
from tests.support import check_transcript, say


def test_whats_due_in_japanese_and_english(demo: Flask) -> None:
    check_transcript(
        demo,
        "tanaka",
        """
        > 予定
        今後30日の予定・期限（
        ⚠期限超過 11/22（日） タスク：防災訓練の実施報告書の提出
        ! ［みなと市と株式会社アクメ］
        ⚠期限超過 * KPI入力：防災訓練参加者数（2026年度 第2四半期）の実績入力
        12/5（土） タスク：協定書改定案の送付
        12/10（木） 14:00 会議：第8回 実務者会議
        ! さくら町
        ! 子育て応援イベントの会場予約
        > what's due
        今後30日の予定・期限
        > ＤＵＥ
        今後30日の予定・期限
        > 今週
        今週の予定・期限
        ! 12/5（土）
    """,
    )


def test_overdue_items_come_first_then_by_date(demo: Flask) -> None:
    reply = say(demo, "takahashi", "予定")
    marks = ["⚠" in item for item in reply.items]
    assert marks == sorted(marks, reverse=True)
    assert any("自動更新" in i or "有効期間満了" in i for i in reply.items)


def test_log_an_activity_on_the_only_agreement(demo: Flask) -> None:
    check_transcript(
        demo,
        "tanaka",
        """
        > 活動 11/20 防災訓練 参加者45名
        活動を記録しました
        11/20（金） 防災訓練
        参加者45名
        > 履歴
        最近の活動（1件）
        11/20（金） 防災訓練 参加者45名［みなと市と株式会社アクメ］（田中 花子）
    """,
    )


def test_with_several_agreements_the_bot_asks_which_one(demo: Flask) -> None:
    reply = say(demo, "sato", "log 11/24 清掃ボランティア 参加者30名")
    assert "どの協定" in reply.text
    assert [b.label for b in reply.buttons] == [
        "みなと市と株式会社アクメ",
        "さくら町地域活性化プラットフォーム",
    ]
    answer = say(demo, "sato", reply.buttons[1].text)
    assert (
        "活動を記録しました" in answer.text and "さくら町地域活性化プラットフォーム" in answer.text
    )
    with demo.extensions["renkei"].sessions() as s:
        [activity] = s.scalars(select(Activity)).all()
    assert activity.title == "清掃ボランティア" and activity.counts == {
        "参加者": {"value": 30, "unit": "名"}
    }


def test_a_contact_cannot_write_to_another_agreement(demo: Flask) -> None:
    check_transcript(
        demo,
        "tanaka",
        """
        > 活動 11/20 視察 協定:sakura-hikari
        その協定は見つからないか、あなたの担当ではありません。
    """,
    )
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalars(select(Activity)).all() == []


def test_incomplete_or_odd_log_messages_get_a_helpful_answer_and_write_nothing(demo: Flask) -> None:
    check_transcript(
        demo,
        "tanaka",
        """
        > 活動
        いつの活動ですか？
        > 活動 防災訓練
        いつの活動ですか？
        > 活動 11/20
        活動の内容（タイトル）を入れてください。
        > 活動 12/20 防災訓練
        まだ先の日付です
    """,
    )
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalars(select(Activity)).all() == []


def test_help_and_unknown_text(demo: Flask) -> None:
    check_transcript(
        demo,
        "ito",
        """
        > ヘルプ
        Renkei の使い方です
        活動（log）：活動を記録する
        予定（due）
        > help 活動
        活動：活動を記録する
        > こんにちは
        こんにちは。ご用件をどうぞ
        ! Renkei の使い方です
        > ほげほげ
        すみません、わかりませんでした。たとえば：
        ! Renkei の使い方です
    """,
    )


def test_an_unknown_sender_is_asked_to_register(demo: Flask) -> None:
    check_transcript(
        demo,
        "nobody",
        """
        > 予定
        ご利用には登録が必要です
        ! 今後30日
    """,
    )
