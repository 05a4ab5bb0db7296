"""A few edits and a handover through really signed webhooks, checked in the database."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from storage.models import ActionItem, Activity, AgreementContact, Contact, Meeting
from tests.conftest import TOKYO
from tests.support import (
    RecordingExecutor,
    line_body,
    line_text_event,
    post_line,
    post_slack,
    slack_event_body,
)
from tests.test_line_webhook import SENT, link_line, replies
from tests.test_slack_events import dm, expect_post, link_slack, posts


def say_line(app: Flask, line_api: HTTPServer, text: str, event_id: str) -> str:
    post_line(
        app.test_client(),
        line_body(
            line_text_event(text, user_id="Utanaka", event_id=event_id, reply_token=event_id)
        ),
    )
    [sent] = [r for r in replies(line_api) if r["replyToken"] == event_id]
    return sent["messages"][0]["text"]


def test_a_tasks_due_date_changes_over_line(demo: Flask, line_api: HTTPServer) -> None:
    link_line(demo, "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    text = say_line(demo, line_api, "タスク ２ 期限変更 １２／１９", "E1")
    assert "11/22（日） → 12/19（土）" in text and "12/19は土曜日です" in text
    with demo.extensions["renkei"].sessions() as s:
        assert s.get(ActionItem, 2).due_on == date(2026, 12, 19)
        assert not s.scalars(select(ActionItem).where(ActionItem.title.contains("変更"))).all()


def test_a_meeting_moves_by_name_over_line_without_a_twin(
    demo: Flask, line_api: HTTPServer
) -> None:
    link_line(demo, "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)
    say_line(demo, line_api, "会議 12/18 15:00 成果報告会（第1回） 場所:市役所2F", "M1")
    text = say_line(demo, line_api, "会議 成果報告会 3/11 13:30 に変更", "M2")
    assert "→ 3/11（木） 13:30" in text
    with demo.extensions["renkei"].sessions() as s:
        [row] = s.scalars(select(Meeting).where(Meeting.title.contains("成果報告会"))).all()
    assert row.title == "成果報告会（第1回）" and row.place == "市役所2F"
    assert row.starts_at == datetime(2027, 3, 11, 13, 30, tzinfo=TOKYO)


def test_a_handover_over_slack_reuses_the_contact_and_can_be_undone(
    demo: Flask, slack_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_slack(demo, "tanaka", "Utanaka")
    expect_post(slack_api)
    client = demo.test_client()
    for i, text in enumerate(("担当変更 鈴木 一郎", "後任に全部移す", "取消")):
        post_slack(client, slack_event_body(dm(text, user="Utanaka"), event_id=f"Ev{i}"))
        executor.drain()
        if i == 1:
            with demo.extensions["renkei"].sessions() as s:
                primary = s.scalar(
                    select(Contact.key)
                    .join(AgreementContact, AgreementContact.contact_id == Contact.id)
                    .where(AgreementContact.agreement_id == 1, AgreementContact.role == "primary")
                    .where(AgreementContact.organization_id == Contact.organization_id)
                    .where(Contact.key.in_(("tanaka", "suzuki")))
                )
                assert primary == "suzuki"
                assert s.get(ActionItem, 2).owner_id == s.scalar(
                    select(Contact.id).where(Contact.key == "suzuki")
                )
    texts = [fields["text"] for _, fields in posts(slack_api)]
    assert "未完了タスクが1件あります" in texts[0]
    assert "正担当を 鈴木 一郎さん（suzuki）に変更しました" in texts[1]
    assert "取り消しました：担当変更 田中 花子 → 鈴木 一郎" in texts[2]
    with demo.extensions["renkei"].sessions() as s:
        assert s.scalar(select(Contact.key).where(Contact.id == s.get(ActionItem, 2).owner_id)) == (
            "tanaka"
        )
        assert len(s.scalars(select(Contact).where(Contact.name == "鈴木 一郎")).all()) == 1


def test_undo_under_an_open_proposal_drops_the_proposal_not_the_last_entry(
    demo: Flask, line_api: HTTPServer
) -> None:
    """「取消」 while a proposal waits means "not that": the activity logged a minute before
    stays; a second 「取消」, with nothing asked, takes the activity back."""
    link_line(demo, "tanaka", "Utanaka")
    line_api.expect_request("/v2/bot/message/reply").respond_with_json(SENT)

    def activities() -> list[str]:
        with demo.extensions["renkei"].sessions() as s:
            return list(s.scalars(select(Activity.title).where(Activity.title == "清掃活動")))

    def meetings() -> int:
        with demo.extensions["renkei"].sessions() as s:
            return len(s.scalars(select(Meeting).where(Meeting.title.contains("推進会議"))).all())

    before = meetings()
    assert "記録しました" in say_line(demo, line_api, "活動 今日 清掃活動 参加者30名", "U1")
    assert "登録しますか" in say_line(demo, line_api, "12/21 10時 推進会議 入れて", "U2")
    text = say_line(demo, line_api, "取消", "U3")
    assert "質問はやめました" in text and "もう一度「取消」" in text
    assert activities() == ["清掃活動"] and meetings() == before
    assert "いまお答えいただく質問はありません" in say_line(demo, line_api, "はい", "U4")
    assert meetings() == before
    assert "取り消しました：活動" in say_line(demo, line_api, "取消", "U5")
    assert activities() == []
