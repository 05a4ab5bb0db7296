"""The battery: messages typed the way liaisons type them, with the effect each must have.

Several people (田中・鈴木 of みなと市 on one agreement; 高橋 of さくら町, 佐藤・伊藤 of アクメ and
山本 of ひかり銀行 on two), on a phone in LINE and at a desk in Slack; polite and casual, with
typos, emoji and line breaks. The demo data (config/demo.yaml) is dated around Wed 2026-11-25.

A case is what one person says in turn (answers to the bot's questions included) and a check of
the EFFECT: rows in the database, or the focused answer / proposal, with nothing written.
Known failures are listed in KNOWN_FAILING by id, so the battery prints the share and the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ActionItem, Activity, Kpi, KpiEntry, Meeting

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Check:
    """`fragments` must be in the last reply; `effect` (if any) must hold in the data; with no
    effect, nothing but the open question may have changed; `buttons`: the reply asks back."""

    fragments: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    effect: Callable[[Session], bool] | None = None
    buttons: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    who: str
    platform: str  # line (a phone) | slack (a desk)
    says: tuple[str, ...]
    check: Check


def said(*fragments: str, absent: tuple[str, ...] = ()) -> Check:
    return Check(fragments=fragments, absent=absent)


def proposes(*fragments: str) -> Check:
    return Check(fragments=fragments, buttons=True)


def did(effect: Callable[[Session], bool], *fragments: str) -> Check:
    return Check(fragments=fragments, effect=effect)


# --- effects ------------------------------------------------------------------------------


def activity(
    part: str, count: int | None = None, on: date | None = None
) -> Callable[[Session], bool]:
    def check(s: Session) -> bool:
        for a in s.scalars(select(Activity)):
            counts = [
                Decimal(str(v.get("value", v))) if isinstance(v, dict) else Decimal(str(v))
                for v in (a.counts or {}).values()
            ]
            if (
                part in a.title
                and (count is None or Decimal(count) in counts)
                and (on is None or a.occurred_on == on)
            ):
                return True
        return False

    return check


def task_done(part: str) -> Callable[[Session], bool]:
    return lambda s: any(
        t.done_at is not None for t in s.scalars(select(ActionItem)) if part in t.title
    )


def task_added(part: str, due: date | None = None) -> Callable[[Session], bool]:
    return lambda s: any(
        part in t.title and (due is None or t.due_on == due) for t in s.scalars(select(ActionItem))
    )


def meeting_cancelled(part: str) -> Callable[[Session], bool]:
    return lambda s: any(m.cancelled for m in s.scalars(select(Meeting)) if part in m.title)


def meeting_at(part: str, when: str) -> Callable[[Session], bool]:
    at = datetime.fromisoformat(when).replace(tzinfo=TOKYO)
    return lambda s: any(
        part in m.title and m.starts_at.astimezone(TOKYO) == at for m in s.scalars(select(Meeting))
    )


def meeting_added(part: str, when: str) -> Callable[[Session], bool]:
    return meeting_at(part, when)


def kpi_value(key: str, period: str, value: float) -> Callable[[Session], bool]:
    def check(s: Session) -> bool:
        kpi = s.scalar(select(Kpi).where(Kpi.key == key))
        assert kpi is not None
        entry = s.scalar(
            select(KpiEntry).where(
                KpiEntry.kpi_id == kpi.id, KpiEntry.period_start == date.fromisoformat(period)
            )
        )
        return entry is not None and entry.value == Decimal(str(value))

    return check


def all_of(*effects: Callable[[Session], bool]) -> Callable[[Session], bool]:
    return lambda s: all(e(s) for e in effects)


TODAY = date(2026, 11, 25)
NEXT_MEETING_TANAKA = "12/10（木） 14:00"
L, S = "line", "slack"


def _cases() -> list[tuple[str, str, tuple[str, ...] | str, Check]]:
    # (who, platform, what they say in turn, the check)
    return [
        # ---- questions about what is coming --------------------------------------------------
        (
            "tanaka",
            L,
            "次の会議いつ？",
            said("次の会議は", NEXT_MEETING_TANAKA, absent=("令和の推進会議",)),
        ),
        ("tanaka", L, "次の会議っていつでしたっけ", said("次の会議は", "第8回 実務者会議")),
        ("tanaka", L, "次の打ち合わせいつ?", said("次の会議は", "第8回")),
        ("tanaka", L, "次の打合せはいつですか", said("次の会議は", "第8回")),
        ("suzuki", L, "今度の会議って何日だっけ", said("次の会議は", "12/10")),
        ("sato", S, "next meeting?", said("次の会議は", "12/10")),
        ("sato", S, "次のミーティングはいつでしょうか。", said("次の会議は", "第8回")),
        ("takahashi", L, "次の会議いつ？🙏", said("次の会議は", "12/2", "総合評価会議")),
        ("yamamoto", S, "直近の会議を教えてください", said("次の会議は", "12/2")),
        (
            "tanaka",
            L,
            "期限切れてるのある？",
            said("期限切れが", "防災訓練の実施報告書の提出", absent=("12/10",)),
        ),
        ("tanaka", L, "期限過ぎてるやつある？", said("期限切れが", "実施報告書")),
        ("suzuki", L, "期限切れのものありますか", said("期限切れ", absent=("12/10（木） 14:00",))),
        ("ito", S, "anything overdue?", said("期限切れ")),
        ("yamamoto", S, "期限超過してるタスクはありますか？", said("期限切れ")),
        ("tanaka", L, "遅れてるのあったっけ", said("期限切れが", "実施報告書")),
        (
            "tanaka",
            L,
            "来週なんかあったっけ？",
            said("来週（11/30", absent=("12/10", "実施報告書")),
        ),
        (
            "takahashi",
            L,
            "来週の予定は？",
            said("来週（11/30", "12/2", "総合評価会議", absent=("12/17",)),
        ),
        ("yamamoto", S, "来週の予定を教えてください", said("来週（11/30", "総合評価会議")),
        ("sato", S, "what's on next week?", said("来週（11/30")),
        ("sato", S, "what's on this week?", said("今週の予定・期限", absent=("12/5",))),
        ("tanaka", L, "今週なにかある？", said("今週", absent=("12/10",))),
        ("yamamoto", S, "今週の予定", said("今週の予定・期限はありません")),
        ("tanaka", L, "よてい", said("今後30日の予定・期限")),
        ("tanaka", L, "予定は？", said("今後30日の予定・期限")),
        ("tanaka", L, "予定教えて", said("今後30日の予定・期限")),
        ("suzuki", L, "スケジュール見せて", said("今後30日の予定・期限")),
        ("sato", S, "upcoming", said("今後30日の予定・期限")),
        ("sato", S, "what's due?", said("今後30日の予定・期限")),
        ("ito", S, "予定一覧ください", said("今後30日の予定・期限")),
        ("tanaka", L, "なんか締め切りあったっけ", said("予定・期限")),
        ("tanaka", L, "よていー", said("今後30日の予定・期限")),
        ("takahashi", L, "予定 すべて", said("今後30日の予定・期限", absent=("ほか",))),
        # ---- KPI progress --------------------------------------------------------------------
        (
            "tanaka",
            L,
            "KPIどれくらい？",
            said("KPIの進み具合", "防災訓練参加者数", "観光イベント来場者数", absent=("例：",)),
        ),
        ("tanaka", L, "KPIの進捗どう？", said("KPIの進み具合", "防災訓練参加者数")),
        ("suzuki", L, "目標に対してどのくらい達成してますか", said("KPIの進み具合")),
        ("takahashi", L, "KPIどんな感じ？", said("KPIの進み具合", "創業相談件数", "海岸清掃")),
        ("yamamoto", S, "KPIの達成状況を教えてください", said("KPIの進み具合", "創業相談件数")),
        ("sato", S, "kpi progress?", said("KPIの進み具合")),
        ("tanaka", L, "KPI入れたい", said("KPI一覧")),
        ("tanaka", L, "KPI見せて", said("KPI")),
        # ---- reports in free text become proposals, confirmed they write -----------------------
        (
            "tanaka",
            L,
            ("防災訓練おわりました、参加者85人でした", "はい"),
            did(activity("防災訓練", 85, TODAY), "活動を記録しました"),
        ),
        (
            "tanaka",
            L,
            "防災訓練おわりました、参加者85人でした",
            proposes("活動として記録しますか", "防災訓練", "参加者85人"),
        ),
        (
            "tanaka",
            L,
            ("防災訓練おわりました！参加者は85人でした😊", "はい"),
            did(activity("防災訓練", 85)),
        ),
        (
            "tanaka",
            L,
            ("防災訓練おわりました、参加者85人でした", "KPIにも入れる"),
            did(all_of(activity("防災訓練", 85), kpi_value("drill", "2026-10-01", 85))),
        ),
        (
            "suzuki",
            L,
            ("今日の防災訓練、参加者120名でした", "はい"),
            did(activity("防災訓練", 120, TODAY)),
        ),
        (
            "suzuki",
            L,
            ("昨日 子育てイベント開催しました。参加者40人", "1"),
            did(activity("子育てイベント", 40, date(2026, 11, 24))),
        ),
        (
            "tanaka",
            L,
            ("11/20に防災訓練を実施しました\n参加者45名", "はい"),
            did(activity("防災訓練", 45, date(2026, 11, 20))),
        ),
        (
            "tanaka",
            L,
            ("観光イベントやりました 来場者3000人", "はい"),
            did(activity("観光イベント", 3000)),
        ),
        (
            "takahashi",
            L,
            ("海岸清掃やりました！参加者32名", "はい", "さくら町地域活性化"),
            did(activity("海岸清掃", 32)),
        ),
        (
            "yamamoto",
            S,
            (
                "創業セミナーを開催しました。参加者18名でした。",
                "はい",
                "さくら町と株式会社ひかり銀行",
            ),
            did(activity("創業セミナー", 18)),
        ),
        (
            "sato",
            S,
            ("清掃ボランティア終わりました 参加30人", "はい", "2"),
            did(activity("清掃ボランティア", 30)),
        ),
        ("tanaka", L, ("防災訓練終わりました", "いいえ"), said("何も変更していません")),
        (
            "tanaka",
            L,
            ("防災訓練おわりました、参加者85人でした", "やっぱいいや"),
            said("何も変更していません"),
        ),
        (
            "tanaka",
            L,
            ("防災訓練おわりました、参加者85人でした", "キャンセルで"),
            said("何も変更していません"),
        ),
        (
            "tanaka",
            L,
            "防災訓練おわりました、参加者85人でした",
            Check(fragments=("活動として記録しますか",), buttons=True),
        ),
        (
            "tanaka",
            L,
            ("10月の防災訓練参加者数は130人でした", "はい"),
            did(kpi_value("drill", "2026-10-01", 130)),
        ),
        (
            "takahashi",
            L,
            ("創業相談件数 今期は11件でした", "はい"),
            did(kpi_value("startup-consults", "2026-10-01", 11)),
        ),
        (
            "tanaka",
            L,
            "10月の防災訓練参加者数は130人でした",
            proposes("KPI「防災訓練参加者数」", "130"),
        ),
        # ---- completions by name -------------------------------------------------------------
        (
            "tanaka",
            L,
            ("報告書出しました！", "はい"),
            did(task_done("実施報告書"), "完了にしました"),
        ),
        (
            "tanaka",
            L,
            "報告書出しました！",
            proposes("No.2「防災訓練の実施報告書の提出」を完了にしますか"),
        ),
        ("tanaka", L, ("実施報告書、提出済みです", "はい"), did(task_done("実施報告書"))),
        ("tanaka", L, ("報告書の提出おわった", "1"), did(task_done("実施報告書"))),
        ("tanaka", L, ("タスク終わった", "はい"), did(task_done("実施報告書"))),
        (
            "tanaka",
            L,
            ("報告書提出しました\nよろしくお願いします", "はい"),
            did(task_done("実施報告書")),
        ),
        ("sato", S, ("協定書改定案送りました", "はい"), did(task_done("協定書改定案"))),
        ("sato", S, ("改定案の送付完了", "はい"), did(task_done("協定書改定案"))),
        ("sato", S, ("改定案、先方に送付済みです。", "はい"), did(task_done("協定書改定案"))),
        ("yamamoto", S, ("総合評価シート作成しました", "はい"), did(task_done("総合評価シート"))),
        ("yamamoto", S, ("評価シートできました！", "はい"), did(task_done("総合評価シート"))),
        ("ito", S, ("チラシ作成おわりました", "はい"), did(task_done("告知チラシ"))),
        ("ito", S, ("告知チラシ done", "はい"), did(task_done("告知チラシ"))),
        ("suzuki", L, ("会場予約とれました", "はい"), did(task_done("会場予約"))),
        ("suzuki", L, ("会場の予約済ませました", "はい"), did(task_done("会場予約"))),
        ("tanaka", L, ("報告書出しました", "いいえ"), said("何も変更していません")),
        ("tanaka", L, ("完了 2"), did(task_done("実施報告書"))),
        ("tanaka", L, ("done 2"), did(task_done("実施報告書"))),
        # ---- meetings by date, title or context -------------------------------------------------
        (
            "tanaka",
            L,
            ("12/10の会議は中止で", "はい"),
            did(meeting_cancelled("第8回"), "中止にしました"),
        ),
        ("tanaka", L, "12/10の会議は中止で", proposes("中止にしますか", "第8回 実務者会議")),
        (
            "tanaka",
            L,
            ("12月10日の会議、中止になりました", "はい"),
            did(meeting_cancelled("第8回")),
        ),
        (
            "tanaka",
            L,
            ("実務者会議キャンセルになりました", "はい"),
            did(meeting_cancelled("第8回")),
        ),
        (
            "takahashi",
            L,
            ("12/17の会議は中止で", "はい"),
            did(meeting_cancelled("プラットフォーム実務者会議")),
        ),
        (
            "sato",
            S,
            ("12/17のプラットフォーム会議なくなりました", "はい"),
            did(meeting_cancelled("プラットフォーム")),
        ),
        (
            "yamamoto",
            S,
            ("12/2の総合評価会議は中止です", "はい"),
            did(meeting_cancelled("総合評価会議")),
        ),
        (
            "tanaka",
            L,
            ("12/10の会議を15:30に変更", "はい"),
            did(meeting_at("第8回", "2026-12-10T15:30"), "変更しました"),
        ),
        (
            "tanaka",
            L,
            ("実務者会議、12/11 14:00に変更になりました", "はい"),
            did(meeting_at("第8回", "2026-12-11T14:00")),
        ),
        (
            "tanaka",
            L,
            ("12/10の打合せ 16時からに変更お願いします", "はい"),
            did(meeting_at("第8回", "2026-12-10T16:00")),
        ),
        (
            "takahashi",
            L,
            ("12/2の会議を12/3 15:00に変更", "はい"),
            did(meeting_at("総合評価会議", "2026-12-03T15:00")),
        ),
        (
            "yamamoto",
            S,
            ("総合評価会議 15時半に変更です", "はい"),
            did(meeting_at("総合評価会議", "2026-12-02T15:30")),
        ),
        ("tanaka", L, ("12/10の会議は中止で", "いいえ"), said("何も変更していません")),
        (
            "tanaka",
            L,
            ("会議 12/18 15:00 臨時打合せ 市役所2F"),
            did(meeting_added("臨時打合せ", "2026-12-18T15:00")),
        ),
        ("tanaka", L, ("会議 中止 1"), did(meeting_cancelled("第8回"))),
        ("tanaka", L, ("会議 変更 1 12/12 15:00"), did(meeting_at("第8回", "2026-12-12T15:00"))),
        ("tanaka", L, "会議の予定見せて", said("これからの会議")),
        ("tanaka", L, "かいぎ", said("これからの会議")),
        # ---- command words not first, glued, in kana, with typos ---------------------------------
        ("tanaka", L, "todo追加: 会場下見 12/8", did(task_added("会場下見", date(2026, 12, 8)))),
        ("tanaka", L, "タスク追加 12/8 会場下見", did(task_added("会場下見", date(2026, 12, 8)))),
        ("tanaka", L, "タスク 12/8 会場下見", did(task_added("会場下見", date(2026, 12, 8)))),
        ("tanaka", L, "タスク終わった", proposes("完了にしますか")),
        ("tanaka", L, "KPI 参加者数 120", did(kpi_value("drill", "2026-07-01", 120))),
        ("tanaka", L, "ＫＰＩ　参加者数　１２０", did(kpi_value("drill", "2026-07-01", 120))),
        ("tanaka", L, "kpi 1 130 Q3", did(kpi_value("drill", "2026-10-01", 130))),
        (
            "tanaka",
            L,
            ("KPI 参加者数 77 第1四半期", "はい、置き換える"),
            did(kpi_value("drill", "2026-04-01", 77)),
        ),
        (
            "tanaka",
            L,
            "活動 11/20 防災訓練 参加者45名",
            did(activity("防災訓練", 45, date(2026, 11, 20))),
        ),
        ("tanaka", L, "活動　11/20　防災訓練　参加者45名", did(activity("防災訓練", 45))),
        ("tanaka", L, "じょうきょう", said("協定の状況")),
        ("tanaka", L, "状況おしえて", said("協定の状況")),
        ("tanaka", L, "りれき", said("活動")),
        ("tanaka", L, "履歴見せて", said("活動")),
        ("tanaka", L, "ヘルプ", said("Renkei の使い方")),
        ("tanaka", L, "使い方教えて", said("Renkei の使い方")),
        ("sato", S, "help", said("Renkei の使い方")),
        ("tanaka", L, "取り消して", said("取り消")),
        # ---- handover ------------------------------------------------------------------------
        ("tanaka", L, "4月から異動なので引継ぎ資料ください", said("引継ぎ資料")),
        ("tanaka", L, "引き継ぎ資料お願いします", said("引継ぎ資料")),
        ("suzuki", L, "引継ぎ", said("引継ぎ資料")),
        ("sato", S, "handover please", said("引継ぎ資料")),
        ("tanaka", L, "担当かわります。後任は木村です", proposes("木村", "交代しますか")),
        ("tanaka", L, "後任は木村さんになります", proposes("木村")),
        ("tanaka", L, "異動で担当が変わります", said("後任の方のお名前")),
        # ---- small talk ------------------------------------------------------------------------
        ("tanaka", L, "おはようございます", said("おはようございます", absent=("使い方",))),
        ("tanaka", L, "おはようございます☀️", said("おはようございます")),
        ("suzuki", L, "こんにちは", said("こんにちは")),
        ("sato", S, "お疲れさまです", said("お疲れさまです")),
        ("tanaka", L, "ありがとうございます🙏", said("どういたしまして")),
        ("sato", S, "thx", said("どういたしまして")),
        ("ito", S, "thanks!", said("どういたしまして")),
        ("takahashi", L, "助かりました！ありがとう", said("どういたしまして")),
        ("yamamoto", S, "よろしくお願いします", said("よろしくお願いします")),
        ("tanaka", L, "ありがとう！", said("どういたしまして")),
        ("tanaka", L, "はい", said("質問はありません")),
        # ---- answers to the bot's own questions -----------------------------------------------
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "2"),
            did(activity("清掃ボランティア", 30)),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "さくら町"),
            did(activity("清掃ボランティア", 30)),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "みなと市"),
            did(activity("清掃ボランティア", 30)),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "みなと市でお願いします"),
            did(activity("清掃ボランティア", 30)),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "やっぱいいや"),
            said("何も変更していません"),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "キャンセルで"),
            said("何も変更していません"),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "やっぱやめときます"),
            said("何も変更していません"),
        ),
        (
            "takahashi",
            L,
            ("タスク 12/5 チラシ入稿", "1"),
            did(task_added("チラシ入稿", date(2026, 12, 5))),
        ),
        ("takahashi", L, ("タスク 12/5 チラシ入稿", "ひかり銀行"), did(task_added("チラシ入稿"))),
        (
            "tanaka",
            L,
            ("KPI 参加者数 77 第1四半期", "1"),
            did(kpi_value("drill", "2026-04-01", 77)),
        ),
        (
            "tanaka",
            L,
            ("KPI 77 第1四半期", "防災訓練参加者数", "はい"),
            did(kpi_value("drill", "2026-04-01", 77)),
        ),
        ("tanaka", L, ("KPI 77 第1四半期", "1", "1"), did(kpi_value("drill", "2026-04-01", 77))),
        (
            "tanaka",
            L,
            ("KPI 防災訓練参加者数 95 第2四半期", "KPI 防災訓練参加者数 110 第2四半期", "はい"),
            did(kpi_value("drill", "2026-07-01", 110)),
        ),
        # ---- unknown text gets a short answer, not the help dump ----------------------------------
        ("tanaka", L, "ほげほげ", said("わかりませんでした", absent=("使い方です",))),
        ("tanaka", L, "あの件どうなってます？", said("", absent=("使い方です",))),
        ("sato", S, "asdf", said("わかりませんでした", absent=("使い方です",))),
        ("tanaka", L, "訓練の件で相談です", said("", absent=("使い方です",))),
        # ---- nothing is written by a question, however it is phrased ------------------------------
        ("tanaka", L, "報告書の期限いつだっけ？", said("", absent=("完了にしました",))),
        ("tanaka", L, "会議は何時から？", said("", absent=("中止にしました", "変更しました"))),
        ("sato", S, "タスク一覧", said("未完了のタスク")),
        ("sato", S, "タスク見せて", said("未完了のタスク")),
        ("sato", S, "やることある？", said("")),
        ("yamamoto", S, "状況を確認したいです", said("協定の状況")),
        ("tanaka", L, "更新期限っていつ？", said("")),
        # ---- a second batch, written without looking at the parser ---------------------------
        ("tanaka", L, "来週の予定おしえてください🙇‍♀️", said("来週（11/30")),
        ("suzuki", L, "今週って何かありましたっけ？", said("今週")),
        ("takahashi", L, "次の打ち合わせって何時からでしたっけ", said("次の会議は", "15:00")),
        ("yamamoto", S, "When is the next meeting?", said("次の会議は")),
        ("ito", S, "次回の会議はいつですか？", said("次の会議は", "12/10")),
        ("sato", S, "期限切れてるタスクある？", said("期限切れ")),
        ("takahashi", L, "締め切り過ぎてるものあります？", said("期限切れ")),
        ("tanaka", L, "KPIの数字どうなってる？", said("KPIの進み具合")),
        ("ito", S, "KPIの状況どうですか", said("KPIの進み具合")),
        ("tanaka", L, ("報告書、提出しました。", "はい"), did(task_done("実施報告書"))),
        ("tanaka", L, ("実施報告書の提出終わりました！", "はい"), did(task_done("実施報告書"))),
        ("tanaka", L, ("報告書提出完了です", "はい"), did(task_done("実施報告書"))),
        ("sato", S, ("協定書の改定案、先ほど送付しました", "はい"), did(task_done("協定書改定案"))),
        ("ito", S, ("チラシできました", "はい"), did(task_done("告知チラシ"))),
        ("yamamoto", S, ("評価シート作り終わりました", "はい"), did(task_done("総合評価シート"))),
        ("suzuki", L, ("イベント会場の予約完了しました", "はい"), did(task_done("会場予約"))),
        (
            "tanaka",
            L,
            ("本日、防災訓練を実施しました。参加者は92名でした。", "はい"),
            did(activity("防災訓練", 92, TODAY)),
        ),
        (
            "suzuki",
            L,
            ("11/22 子育て応援イベント 来場者150人でした", "はい"),
            did(activity("子育て応援イベント", 150, date(2026, 11, 22))),
        ),
        (
            "takahashi",
            L,
            ("昨日の海岸清掃、参加者40人でした", "はい", "1"),
            did(activity("海岸清掃", 40, date(2026, 11, 24))),
        ),
        (
            "yamamoto",
            S,
            ("本日 創業相談会を開催 相談者5名", "はい", "1"),
            did(activity("創業相談会", 5, TODAY)),
        ),
        (
            "tanaka",
            L,
            ("12/10の実務者会議、中止になりました", "はい"),
            did(meeting_cancelled("第8回")),
        ),
        (
            "takahashi",
            L,
            ("総合評価会議は中止です", "はい"),
            did(meeting_cancelled("総合評価会議")),
        ),
        (
            "sato",
            S,
            ("プラットフォーム会議 12/18 13:30に変更で", "はい"),
            did(meeting_at("プラットフォーム", "2026-12-18T13:30")),
        ),
        (
            "tanaka",
            L,
            ("実務者会議を14時半に変更してください", "はい"),
            did(meeting_at("第8回", "2026-12-10T14:30")),
        ),
        ("ito", S, "会議一覧", said("これからの会議")),
        ("tanaka", L, "タスク一覧みせて", said("未完了のタスク")),
        ("suzuki", L, "おつかれさまです！", said("お疲れさまです")),
        ("sato", S, "Thank you!", said("どういたしまして")),
        ("takahashi", L, "了解です、ありがとうございます", said("どういたしまして")),
        ("tanaka", L, "こんばんは", said("こんばんは")),
        ("tanaka", L, "引継ぎ書つくって", said("引継ぎ資料")),
        ("ito", S, "来年度から後任は中村になります", proposes("中村")),
        ("tanaka", L, "ｙｏｔｅｉ", said("")),
        ("tanaka", L, "予定\nお願いします", said("今後30日の予定・期限")),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "さくら町の方で"),
            did(activity("清掃ボランティア", 30)),
        ),
        (
            "sato",
            S,
            ("log 11/24 清掃ボランティア 参加者30名", "1番"),
            did(activity("清掃ボランティア", 30)),
        ),
        ("tanaka", L, ("報告書出しました", "お願いします"), did(task_done("実施報告書"))),
        ("tanaka", L, ("報告書出しました", "OK"), did(task_done("実施報告書"))),
        ("tanaka", L, ("報告書出しました", "いや、まだです"), said("何も変更していません")),
        ("tanaka", L, "報告書の件、まだ終わってません", said("", absent=("完了にしました",))),
        # ---- new items in free text: proposed, then written ---------------------------------
        (
            "tanaka",
            L,
            ("12/15 14時から打ち合わせ入れて", "はい"),
            did(meeting_added("打ち合わせ", "2026-12-15T14:00")),
        ),
        (
            "tanaka",
            L,
            ("12/16 10:00 庁内調整会議を設定してください", "はい"),
            did(meeting_added("庁内調整", "2026-12-16T10:00")),
        ),
        ("tanaka", L, "12/15 14時から打ち合わせ入れて", proposes("会議を登録しますか", "12/15")),
        (
            "tanaka",
            L,
            ("12/5までに資料送付お願いします @佐藤", "はい"),
            did(task_added("資料送付", date(2026, 12, 5))),
        ),
        (
            "sato",
            S,
            ("12/11までに見積書を作成 @伊藤", "はい", "1"),
            did(task_added("見積書", date(2026, 12, 11))),
        ),
        ("tanaka", L, ("KPI入力したい"), said("KPI一覧")),
        ("tanaka", L, ("12/15 14時から打ち合わせ入れて", "いいえ"), said("何も変更していません")),
        ("tanaka", L, ("会議を15:30に変更", "1"), did(meeting_at("第8回", "2026-12-10T15:30"))),
        ("suzuki", L, ("参加者85人でした", "はい"), did(activity("活動報告", 85))),
        (
            "tanaka",
            L,
            ("担当かわります。後任は鈴木です", "はい", "1"),
            did(
                lambda s: any(
                    t.owner is not None and t.owner.name.startswith("鈴木")
                    for t in s.scalars(select(ActionItem))
                    if "実施報告書" in t.title
                )
            ),
        ),
        ("tanaka", L, ("活動 防災訓練おわりました", "今日"), did(activity("防災訓練", on=TODAY))),
        (
            "tanaka",
            L,
            "タスク追加 12/8 会場下見",
            did(lambda s: any(t.title == "会場下見" for t in s.scalars(select(ActionItem)))),
        ),
        (
            "takahashi",
            L,
            ("会議は12/9 10:00から 事前打合せ", "はい", "1"),
            did(meeting_added("事前打合せ", "2026-12-09T10:00")),
        ),
    ]


KNOWN_FAILING: set[str] = set()


def cases() -> list[Case]:
    out = []
    for n, (who, platform, says, check) in enumerate(_cases(), 1):
        messages = (says,) if isinstance(says, str) else tuple(says)
        out.append(Case(f"{n:03d}-{who}", who, platform, messages, check))
    return out


def messages() -> list[str]:
    """Every message of the battery, for the intent benchmark."""
    return [m for c in cases() for m in c.says]


def row_counts(s: Session, tables: Any) -> dict[str, int]:
    from sqlalchemy import func

    return {t.name: s.scalar(select(func.count()).select_from(t)) or 0 for t in tables}
