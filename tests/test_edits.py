"""Editing what exists, through `respond` (the local channel), checked in the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from storage.models import ActionItem, Activity, Contact, Meeting
from tests.conftest import TOKYO
from tests.support import check_transcript, say


def rows(app: Flask, model: type) -> list:
    with app.extensions["renkei"].sessions() as s:
        return list(s.scalars(select(model).order_by(model.id)))


def task(app: Flask, number: int) -> ActionItem:
    [row] = [t for t in rows(app, ActionItem) if t.id == number]
    return row


def meeting(app: Flask, number: int) -> Meeting:
    [row] = [m for m in rows(app, Meeting) if m.id == number]
    return row


def owner_key(app: Flask, number: int) -> str:
    with app.extensions["renkei"].sessions() as s:
        return s.scalar(
            select(Contact.key)
            .join(ActionItem, ActionItem.owner_id == Contact.id)
            .where(ActionItem.id == number)
        )


def test_a_tasks_due_date_changes_by_number_with_a_note_for_saturday(demo: Flask) -> None:
    before = len(rows(demo, ActionItem))
    check_transcript(
        demo,
        "tanaka",
        """
        > タスク 変更 2 期限 12/19
        No.2「防災訓練の実施報告書の提出」の期限を変更しました：11/22（日） → 12/19（土）
        12/19は土曜日です。
    """,
    )
    assert task(demo, 2).due_on == date(2026, 12, 19)
    assert len(rows(demo, ActionItem)) == before


def test_the_natural_form_changes_task_2_and_creates_nothing(demo: Flask) -> None:
    before = len(rows(demo, ActionItem))
    reply = say(demo, "tanaka", "タスク 2 期限変更 12/18")
    assert "11/22（日） → 12/18（金）" in reply.text
    assert task(demo, 2).due_on == date(2026, 12, 18)
    assert len(rows(demo, ActionItem)) == before
    assert not any("変更" in t.title for t in rows(demo, ActionItem))


def test_a_task_is_found_by_a_fragment_of_its_title(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 変更 報告書 期限 2/19")
    assert task(demo, 2).due_on == date(2027, 2, 19)
    say(demo, "tanaka", "タスク 報告書の期限を2/22に変更")
    assert task(demo, 2).due_on == date(2027, 2, 22)
    say(demo, "tanaka", "task edit 2 due 3/1")
    assert task(demo, 2).due_on == date(2027, 3, 1)


def test_a_tasks_owner_and_title_change(demo: Flask) -> None:
    reply = say(demo, "tanaka", "タスク 変更 2 担当 佐藤")
    assert "田中 花子 → 佐藤 健太" in reply.text
    assert owner_key(demo, 2) == "sato"
    reply = say(demo, "tanaka", "タスク 変更 2 担当 @suzuki")
    assert owner_key(demo, 2) == "suzuki"
    reply = say(demo, "tanaka", "タスク 変更 2 件名 実施報告書（防災訓練）の提出")
    assert "「実施報告書（防災訓練）の提出」" in reply.text
    assert task(demo, 2).title == "実施報告書（防災訓練）の提出"  # full-width kept


def test_an_unknown_owner_asks_with_the_agreements_people(demo: Flask) -> None:
    reply = say(demo, "tanaka", "タスク 変更 2 担当 木村")
    assert "見つかりません" in reply.text
    assert "佐藤 健太" in [b.label for b in reply.buttons]
    say(demo, "tanaka", "佐藤 健太")
    assert owner_key(demo, 2) == "sato"


def test_several_tasks_match_and_the_bot_asks_which(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 12/7 資料の印刷")
    say(demo, "tanaka", "タスク 12/8 資料の送付")
    reply = say(demo, "tanaka", "タスク 変更 資料 期限 12/14")
    assert "「資料」に当たるタスクが2件あります" in reply.text
    [first, second] = [t for t in rows(demo, ActionItem) if t.title.startswith("資料")]
    say(demo, "tanaka", "2")
    assert task(demo, second.id).due_on == date(2026, 12, 14)
    assert task(demo, first.id).due_on == date(2026, 12, 7)


def test_no_matching_task_says_so_and_changes_nothing(demo: Flask) -> None:
    before = [(t.id, t.due_on, t.title) for t in rows(demo, ActionItem)]
    assert "見つかりません" in say(demo, "tanaka", "タスク 変更 予算書 期限 12/14").text
    assert "見つかりません" in say(demo, "tanaka", "タスク 変更 4 期限 12/14").text  # not hers
    assert before == [(t.id, t.due_on, t.title) for t in rows(demo, ActionItem)]


def test_done_by_title_fragment(demo: Flask) -> None:
    assert (
        "No.2「防災訓練の実施報告書の提出」を完了にしました"
        in say(demo, "tanaka", "完了 報告書").text
    )
    assert task(demo, 2).done_at is not None


def test_a_command_never_makes_its_arguments_a_title(demo: Flask) -> None:
    before = len(rows(demo, ActionItem)), len(rows(demo, Meeting))
    for text in (
        "タスク 12/19 2",
        "タスク 12/19 No.3",
        "会議 12/18 10:00 中止",
        "会議 12/18 10:00 3",
    ):
        reply = say(demo, "tanaka", text)
        assert "登録しました" not in reply.text, (text, reply.text)
    assert (len(rows(demo, ActionItem)), len(rows(demo, Meeting))) == before


def test_moving_a_meeting_by_name_moves_it_and_makes_no_twin(demo: Flask) -> None:
    say(demo, "tanaka", "会議 12/18 15:00 成果報告会 市役所2F")
    [mine] = [m for m in rows(demo, Meeting) if m.title == "成果報告会"]
    reply = say(demo, "tanaka", "会議 成果報告会 3/11 13:30 に変更")
    assert "12/18（金） 15:00 → 3/11（木） 13:30" in reply.text
    moved = [m for m in rows(demo, Meeting) if "成果報告会" in m.title]
    assert [m.id for m in moved] == [mine.id]
    assert moved[0].starts_at == datetime(2027, 3, 11, 13, 30, tzinfo=TOKYO)
    assert moved[0].place == "市役所2F"


def test_a_meeting_moves_by_time_only_and_by_date(demo: Flask) -> None:
    say(demo, "tanaka", "会議 変更 1 15:30")
    assert meeting(demo, 1).starts_at == datetime(2026, 12, 10, 15, 30, tzinfo=TOKYO)
    reply = say(demo, "tanaka", "会議 変更 12/10 16:00")
    assert "15:30 → 12/10（木） 16:00" in reply.text
    assert meeting(demo, 1).starts_at == datetime(2026, 12, 10, 16, 0, tzinfo=TOKYO)
    reply = say(demo, "tanaka", "meeting change 1 12/19 10:00")
    assert "12/19は土曜日です" in reply.text
    assert meeting(demo, 1).starts_at == datetime(2026, 12, 19, 10, 0, tzinfo=TOKYO)


def test_a_meetings_place_and_title_change(demo: Flask) -> None:
    reply = say(demo, "tanaka", "会議 変更 1 場所 市役所4F 大会議室")
    assert "「みなと市役所3F 第1会議室」→「市役所4F 大会議室」" in reply.text
    assert meeting(demo, 1).place == "市役所4F 大会議室"
    say(demo, "tanaka", "会議 変更 実務者会議 件名 実務者会議（第8回）")
    assert meeting(demo, 1).title == "実務者会議（第8回）"


def test_cancel_by_date_and_ask_when_several(demo: Flask) -> None:
    say(demo, "tanaka", "会議 中止 12/10")
    assert meeting(demo, 1).cancelled
    say(demo, "tanaka", "会議 12/21 10:00 打合せ 市役所")
    say(demo, "tanaka", "会議 12/22 10:00 打合せ 市役所")
    reply = say(demo, "tanaka", "会議 中止 打合せ")
    assert "2件あります" in reply.text and len(reply.buttons) == 2
    say(demo, "tanaka", "1")
    states = [m.cancelled for m in rows(demo, Meeting) if m.title == "打合せ"]
    assert states == [True, False]
    assert "見つかりません" in say(demo, "tanaka", "会議 中止 12/23").text


def test_a_title_is_not_split_at_its_first_space(demo: Flask) -> None:
    reply = say(demo, "tanaka", "会議 1/14 10:00 地域限定商品 試食会")
    [row] = [m for m in rows(demo, Meeting) if "試食会" in m.title]
    assert (row.title, row.place) == ("地域限定商品 試食会", None)
    assert "場所：未定" in reply.text
    reply = say(demo, "tanaka", "会議 1/15 10:00 地域限定商品 試食会 場所:中島町店")
    [_, row] = [m for m in rows(demo, Meeting) if "試食会" in m.title]
    assert (row.title, row.place) == ("地域限定商品 試食会", "中島町店")
    assert "場所：中島町店" in reply.text


def test_an_edit_is_undone_by_取消(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 変更 2 期限 12/19")
    assert "取り消しました" in say(demo, "tanaka", "取消").text
    assert task(demo, 2).due_on == date(2026, 11, 22)


def test_dates_outside_this_fiscal_year_show_their_year(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 変更 2 期限 2026/3/10")
    listed = say(demo, "tanaka", "タスク").as_text()
    assert "期限 2026/3/10（火） 防災訓練の実施報告書の提出" in listed
    say(demo, "tanaka", "会議 4/14 10:00 新年度の打合せ 市役所")
    assert "2027/4/14（水） 10:00 新年度の打合せ" in say(demo, "tanaka", "会議").as_text()
    assert "1/4（月）" in listed  # this fiscal year: no year


def test_full_width_brackets_are_kept_in_titles(demo: Flask) -> None:
    say(demo, "tanaka", "活動 11/20 女性活躍セミナー（働く女性の交流会） 参加者26名")
    [row] = rows(demo, Activity)
    assert row.title == "女性活躍セミナー（働く女性の交流会）"


def test_moving_into_the_past_is_refused(demo: Flask) -> None:
    demo.extensions["renkei"].clock.now += timedelta(minutes=1)
    assert "過ぎています" in say(demo, "tanaka", "会議 変更 1 11/20 10:00").text
    assert meeting(demo, 1).starts_at == datetime(2026, 12, 10, 14, 0, tzinfo=TOKYO)


def test_a_number_shown_is_never_handed_out_again_after_取消(demo: Flask) -> None:
    first = say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    assert "（No.1）" in first.text
    say(demo, "tanaka", "取消")
    second = say(demo, "tanaka", "活動 11/21 清掃活動 参加者12名")
    assert "（No.2）" in second.text
    assert [a.id for a in rows(demo, Activity)] == [2]
    taken = say(demo, "tanaka", "タスク 12/7 資料の印刷").text
    number = int(taken.split("（No.")[1].split("）")[0])
    say(demo, "tanaka", "取消")
    assert f"（No.{number + 1}）" in say(demo, "tanaka", "タスク 12/8 資料の送付").text
    assert number not in [t.id for t in rows(demo, ActionItem)]


def test_counts_lose_their_separators_and_titles_keep_what_was_typed(demo: Flask) -> None:
    reply = say(
        demo, "tanaka", "活動 11/20 女性活躍セミナー（働く女性の交流会） 参加者26名・企業11社"
    )
    [row] = rows(demo, Activity)
    assert row.title == "女性活躍セミナー（働く女性の交流会）"
    assert row.counts == {
        "参加者": {"value": 26, "unit": "名"},
        "企業": {"value": 11, "unit": "社"},
    }
    assert "女性活躍セミナー（働く女性の交流会） 参加者26名 企業11社" in reply.text


def test_a_label_typed_apart_from_its_count_is_its_label(demo: Flask) -> None:
    reply = say(demo, "tanaka", "活動 11/20 防災訓練 参加者 32名")
    [row] = rows(demo, Activity)
    assert (row.title, row.counts) == ("防災訓練", {"参加者": {"value": 32, "unit": "名"}})
    assert "件数" not in reply.text and "防災訓練 参加者32名" in reply.text


def test_the_same_activity_twice_within_ten_minutes_asks_first(demo: Flask) -> None:
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    reply = say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    assert "同じ活動を1分前に記録しています（No.1" in reply.text
    assert len(rows(demo, Activity)) == 1
    say(demo, "tanaka", "いいえ")
    assert len(rows(demo, Activity)) == 1
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    say(demo, "tanaka", "はい、もう一度記録")
    assert len(rows(demo, Activity)) == 2
    demo.extensions["renkei"].clock.now += timedelta(minutes=11)
    assert "記録しました" in say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名").text
    assert len(rows(demo, Activity)) == 3


def test_odd_days_are_accepted_with_a_note(demo: Flask) -> None:
    reply = say(demo, "tanaka", "タスク 1/11 成人式の準備")
    assert "1/11は祝日（成人の日）です。" in reply.text
    reply = say(demo, "tanaka", "会議 12/30 10:00 年末の打合せ 市役所")
    assert "12/30は年末年始のお休み（12/29〜1/3）です。" in reply.text
    assert any(m.title == "年末の打合せ" for m in rows(demo, Meeting))
    assert any(t.title == "成人式の準備" for t in rows(demo, ActionItem))


def test_braces_in_an_edit_with_several_matches_are_just_text(demo: Flask) -> None:
    say(demo, "tanaka", "会議 12/21 10:00 打合せ 市役所")
    say(demo, "tanaka", "会議 12/22 10:00 打合せ 市役所")
    reply = say(demo, "tanaka", "会議 変更 打合せ 件名 {n} {x}")
    assert "2件あります" in reply.text
    assert reply.buttons[0].text.endswith("件名 {n} {x}")
    say(demo, "tanaka", "2")
    assert [m.title for m in rows(demo, Meeting) if m.place == "市役所"] == ["打合せ", "{n} {x}"]


def test_a_year_old_overdue_task_shows_its_year_in_予定(demo: Flask) -> None:
    say(demo, "tanaka", "タスク 変更 2 期限 2026/3/10")
    assert task(demo, 2).due_on == date(2026, 3, 10)
    shown = say(demo, "tanaka", "予定").as_text()
    assert "⚠期限超過 2026/3/10（火） タスク：防災訓練の実施報告書の提出" in shown
    assert "12/5（土） タスク：協定書改定案の送付" in shown  # this fiscal year: no year


def test_a_typed_double_ampersand_never_writes_half_a_message(demo: Flask) -> None:
    """「 && 」 joins the two commands of one proposal button; typed inside a message, the second
    half is no command, so nothing of the message is written."""
    with demo.extensions["renkei"].sessions() as s:
        before = len(s.scalars(select(Activity)).all())
    reply = say(demo, "tanaka", "活動 11/20 清掃 && 交流会 参加者10名")
    assert "わかりませんでした" in reply.text
    with demo.extensions["renkei"].sessions() as s:
        assert len(s.scalars(select(Activity)).all()) == before
