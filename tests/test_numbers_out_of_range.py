"""Numbers no column can hold, typed into the chat: a plain answer and nothing written, on
SQLite and on PostgreSQL (where they used to fail in the database: "integer out of range",
"numeric field overflow", and on SQLite an OverflowError for 「完了 99999999999999999999999」)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import func, select

from handlers.messages import Incoming
from storage.models import ActionItem, Activity, KpiEntry, Meeting
from tests.support import say

NOT_SAVED = "システムの問題"


def counts(app: Flask) -> tuple[int, ...]:
    with app.extensions["renkei"].sessions() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m)) or 0
            for m in (ActionItem, Activity, KpiEntry, Meeting)
        )


def done_tasks(app: Flask) -> int:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(select(func.count()).where(ActionItem.done_at.is_not(None))) or 0


@pytest.mark.parametrize(
    ("said", "answer"),
    [
        ("完了 99999999999999999999999", "その番号のタスクが見つかりません"),
        ("完了 3000000000", "その番号のタスクが見つかりません"),
        ("会議 変更 3000000000 12/20 10:00", "その番号の予定の会議が見つかりません"),
        ("タスク 変更 2147483648 期限 12/20", "その番号のタスクが見つかりません"),
        ("スヌーズ meeting:2147483648 7日", "リマインドの番号として読めませんでした"),
        ("対応済み action_item:99999999999", "リマインドの番号として読めませんでした"),
        ("KPI 参加者数 99999999999999999999", "大きすぎます（整数14桁まで）"),
        ("活動 今日 清掃 参加者１２３４５６７８９０１２３４５６７８９０名", "大きすぎます"),
        ("KPI 参加者数 -50", "マイナスの値は入力できません"),
    ],
)
def test_a_number_out_of_range_is_answered_and_changes_nothing(
    demo: Flask, said: str, answer: str
) -> None:
    before, done = counts(demo), done_tasks(demo)
    text = say(demo, "tanaka", said).text
    assert answer in text and NOT_SAVED not in text, text
    assert counts(demo) == before and done_tasks(demo) == done


def test_the_largest_value_a_kpi_holds_is_kept(demo: Flask) -> None:
    text = say(demo, "tanaka", "KPI 参加者数 99999999999999 第3四半期").text
    assert "99999999999999人 を記録しました" in text, text


def test_invisible_characters_make_no_title(demo: Flask) -> None:
    """A zero-width space pasted as a title (「タスク 明日 <ZWSP>」) is no title at all."""
    before = counts(demo)
    reply = demo.extensions["renkei"].inbound.handle(
        Incoming("local", "tanaka", "タスク 明日 \u200b\u2060\ufeff")
    )
    assert reply is not None and "登録しました" not in reply.text
    assert counts(demo) == before
