"""A whole fiscal year of the demo's みなと市 × アクメ agreement, driven through the clock's own
jobs with time-machine: every reminder, to whom, when (09:00 on business days), and what.

The agreement as the demo has it (dated around 2026-11-25): quarterly KPI values missing for
第2 and 第3四半期, two meetings, three action items, auto-renewal with a notice deadline of
2026-12-31 and a working-meeting cadence of 3 months. Chat accounts: tanaka on LINE, sato and
ito on Slack, suzuki none (the local log). The agreement has a Slack channel and a LINE group.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import time_machine
from flask import Flask
from sqlalchemy import select

from bot.clock import build_scheduler
from reminders.business_days import is_business_day
from storage.models import Outbox
from tests.conftest import TODAY, TOKYO

if TYPE_CHECKING:
    from tests.scheduler_support import Platforms

pytest_plugins = ("tests.scheduler_support",)

START, END = date(2026, 3, 30), date(2027, 3, 31)  # the fiscal year, from its first Monday
# The clock runs every morning at 09:00, and on Fridays also at night: anything due at a
# wrong moment would go out at the first tick after it and show in the times below.
MORNING, NIGHT = 9, 21
WHO = {
    "tanaka": "Utanaka",
    "sato": "Usato",
    "ito": "Uito",
    "suzuki": "suzuki",
    "channel": "C0MINATO",  # the agreement's Slack channel (scheduler_support)
    "group": "Cminatogroup",  # and its LINE group
}
EVERYONE = ("tanaka", "suzuki", "sato", "ito")
PRIMARIES, SECONDARIES = ("tanaka", "sato"), ("suzuki", "ito")
Q2, Q3 = "防災訓練参加者数（2026年度 第2四半期）", "防災訓練参加者数（2026年度 第3四半期）"
MEETING8, STEERING = "第8回 実務者会議", "令和の推進会議（年次）"
REPORT, DRAFT, VENUE = (
    "防災訓練の実施報告書の提出",
    "協定書改定案の送付",
    "子育て応援イベントの会場予約",
)
MINATO = "みなと市と株式会社アクメ"
CADENCE = f"{MINATO}：次の実務者会議が未定です"


def d(month: int, day: int) -> date:
    return date(2027 if month < 4 else 2026, month, day)


# (day, who, the subject's beginning): the rules of the issue, worked out by hand.
EXPECTED: list[tuple[date, tuple[str, ...], str]] = [
    # KPI 第2四半期 (Jul–Sep), due 10/14; 10/11 is a Sunday before スポーツの日 (10/12)
    (d(10, 1), PRIMARIES, f"【KPI入力のお願い】{Q2}"),
    (d(10, 9), PRIMARIES, f"【KPI入力 期限まであと5日】{Q2}"),
    (d(10, 14), PRIMARIES, f"【KPI入力 本日期限】{Q2}"),
    (d(10, 21), PRIMARIES, f"【KPI入力 期限超過（7日）】{Q2}"),
    (d(10, 21), (*SECONDARIES, "channel"), f"【エスカレーション】KPI未入力：{Q2}"),
    (d(10, 28), (*SECONDARIES, "channel"), f"【最終のお知らせ】KPI未入力：{Q2}"),
    # KPI 第3四半期 (Oct–Dec), due 1/14; requested after the year-end closure, 成人の日 1/11
    (d(1, 4), PRIMARIES, f"【KPI入力のお願い】{Q3}"),
    # (the lead on Fri 1/8, 3 business days ahead, is not urgent and Monday 1/4's digest listed
    # the deadline: the attention budget leaves it out)
    (d(1, 14), PRIMARIES, f"【KPI入力 本日期限】{Q3}"),
    (d(1, 21), PRIMARIES, f"【KPI入力 期限超過（7日）】{Q3}"),
    (d(1, 21), (*SECONDARIES, "channel"), f"【エスカレーション】KPI未入力：{Q3}"),
    (d(1, 28), (*SECONDARIES, "channel"), f"【最終のお知らせ】KPI未入力：{Q3}"),
    # meetings: 7 days and 1 business day before, both sides' primary and secondary
    # (7 days before 12/10 is Thu 12/3, after Monday 11/30's digest listed the meeting: left
    # out by the attention budget; 7 days before 2/8 is the digest day 2/1 itself: it rides
    # in the digest's push)
    (d(12, 9), EVERYONE, f"【次の営業日は会議です】{MEETING8}"),
    (d(2, 1), EVERYONE, f"【会議まであと7日】{STEERING}"),
    (d(2, 5), EVERYONE, f"【次の営業日は会議です】{STEERING}"),
    # action items: owner; the other side's primary once overdue; last note to the secondary
    (d(11, 19), ("tanaka",), f"【タスク 期限まであと3日】{REPORT}"),
    (d(11, 20), ("tanaka",), f"【タスク 期限まであと2日】{REPORT}"),  # due on a Sunday
    (d(11, 30), ("tanaka", "sato"), f"【タスク 期限超過（8日）】{REPORT}"),
    (d(12, 7), ("tanaka", "sato"), f"【タスク 期限超過（15日）】{REPORT}"),
    (d(12, 14), ("suzuki",), f"【最終のお知らせ】タスク未完了：{REPORT}"),
    (d(12, 2), ("sato",), f"【タスク 期限まであと3日】{DRAFT}"),
    (d(12, 4), ("sato",), f"【タスク 期限まであと1日】{DRAFT}"),  # due on a Saturday
    (d(12, 14), ("sato", "tanaka"), f"【タスク 期限超過（9日）】{DRAFT}"),
    (d(12, 21), ("sato", "tanaka"), f"【タスク 期限超過（16日）】{DRAFT}"),
    (d(12, 28), ("ito",), f"【最終のお知らせ】タスク未完了：{DRAFT}"),
    (d(12, 28), ("suzuki",), f"【タスク 期限まであと7日】{VENUE}"),  # before the closure
    (d(1, 4), ("suzuki",), f"【タスク 本日期限】{VENUE}"),
    (d(1, 12), ("suzuki", "sato"), f"【タスク 期限超過（8日）】{VENUE}"),
    (d(1, 18), ("suzuki", "sato"), f"【タスク 期限超過（14日）】{VENUE}"),
    (d(1, 25), ("tanaka",), f"【最終のお知らせ】タスク未完了：{VENUE}"),  # owner is secondary
    # renewal: counted back from the notice deadline 12/31 (in the year-end closure); the
    # attention budget moves the ones 3+ business days ahead to the touch day (the digest
    # day or Thursday) on or before their moment
    (d(10, 1), EVERYONE, f"【更新 申し出期限まであと91日】{MINATO}"),  # 90: Fri 10/2
    (d(10, 29), EVERYONE, f"【更新 申し出期限まであと63日】{MINATO}"),  # 60: Sun → Fri 10/30
    (d(11, 30), EVERYONE, f"【更新 申し出期限まであと31日】{MINATO}"),  # 30: Tue 12/1
    (d(12, 17), EVERYONE, f"【更新 申し出期限まであと14日】{MINATO}"),
    (d(12, 24), EVERYONE, f"【更新 申し出期限まであと7日】{MINATO}"),
    (d(12, 28), EVERYONE, f"【更新 申し出期限まであと3日】{MINATO}"),  # the day: closed
    (d(10, 1), EVERYONE, f"【総合評価】{MINATO}：期間満了（2027/3/31（水））まで180日"),  # Fri 10/2
    # cadence: working meetings every 3 months, the last one on 12/10, none after it
    (d(2, 8), PRIMARIES, f"【会議の開催時期】{CADENCE}"),
    (d(3, 10), PRIMARIES, f"【会議の開催時期】{CADENCE}"),
    (d(3, 17), PRIMARIES, f"【会議の開催時期を過ぎています（7日）】{CADENCE}"),
    # a later nag (Wed 3/24) is not urgent: the touch day after (attention budget)
    (d(3, 25), PRIMARIES, f"【会議の開催時期を過ぎています（15日）】{CADENCE}"),
    (d(3, 31), SECONDARIES, f"【最終のお知らせ】{CADENCE}"),
]
# Weeks whose Monday is a holiday: the digest comes on the next business day.
HOLIDAY_MONDAYS = {
    d(5, 4): d(5, 7),  # みどりの日, こどもの日, 振替休日
    d(7, 20): d(7, 21),  # 海の日
    d(9, 21): d(9, 24),  # 敬老の日, 国民の休日, 秋分の日
    d(10, 12): d(10, 13),  # スポーツの日
    d(11, 23): d(11, 24),  # 勤労感謝の日
    d(1, 11): d(1, 12),  # 成人の日
    d(3, 22): d(3, 23),  # 振替休日 (春分の日 on Sunday)
}


def expected_digests() -> list[tuple[date, tuple[str, ...], str]]:
    out = []
    monday = START
    while monday <= END:
        day = HOLIDAY_MONDAYS.get(monday, monday)
        week = f"{monday.month}/{monday.day}（月）の週"
        # tanaka (LINE) has the agreement's LINE group, sato and ito (Slack) its channel:
        # only suzuki (no chat account) gets a personal digest
        out.append((day, ("suzuki",), f"【週次ダイジェスト】{week}（担当協定1件）"))
        out.append((day, ("channel", "group"), f"【週次ダイジェスト】{MINATO} {week}"))
        monday += timedelta(weeks=1)
    return out


def run_year(app: Flask, platforms: Platforms) -> None:
    clock = platforms.worker(app)
    engine = app.extensions["renkei"].engine
    jobs = build_scheduler(engine, timezone="Asia/Tokyo", worker=clock).get_jobs()
    jobs = [j for j in jobs if j.id in ("plan", "deliver")]
    with time_machine.travel(datetime.combine(START, datetime.min.time(), TOKYO), tick=False) as t:
        day = START
        while day <= END:
            for hour in (MORNING, NIGHT) if day.weekday() == 4 else (MORNING,):
                t.move_to(datetime(day.year, day.month, day.day, hour, tzinfo=TOKYO))
                for job in jobs:  # what APScheduler calls, at the time the test chooses
                    job.func(*job.args, **job.kwargs)
            day += timedelta(days=1)


def test_a_fiscal_year_of_reminders(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    run_year(app, platforms)
    shown = platforms.shown()

    # when: 09:00 on business days only, never at night, on weekends, holidays or 12/29–1/3
    assert shown
    for s in shown:
        assert (s.at.hour, s.at.minute) == (9, 0) and is_business_day(s.at.date()), s

    # and every planned moment in the outbox is a business morning, too
    with app.extensions["renkei"].sessions() as session:
        moments = session.scalars(select(Outbox.send_at).distinct()).all()
    assert moments and all(
        (m.astimezone(TOKYO).hour, m.astimezone(TOKYO).minute) == (9, 0)
        and is_business_day(m.astimezone(TOKYO).date())
        for m in moments
    )

    # who, when and what: exactly the expected notifications, each shown once
    got = Counter((s.at.date(), s.to, s.subject) for s in shown)
    assert max(got.values()) == 1, [k for k, n in got.items() if n > 1]
    wanted = Counter()
    for day, people, head in EXPECTED + expected_digests():
        for who in people:
            wanted[(day, WHO[who], head)] += 1
    matched = Counter()
    for key in got:
        heads = [w for w in wanted if w[0] == key[0] and w[1] == key[1] and key[2].startswith(w[2])]
        assert len(heads) == 1, f"unexpected or ambiguous: {key}"
        matched[heads[0]] += 1
    assert matched == wanted

    # one push per person per morning: LINE pushes per (recipient, day) never exceed one
    pushes = Counter((p["to"], p["at"].date()) for p in platforms.line.accepted.values())
    assert max(pushes.values()) == 1
    assert all(len(p["messages"]) <= 5 for p in platforms.line.accepted.values())
    # the digest carries its chart: an image for LINE, an image block for Slack, both at
    # the web process's chart page (the clock uploads nothing)
    assert any(
        m["type"] == "image" for p in platforms.line.accepted.values() for m in p["messages"]
    )
    assert not platforms.slack.files and any(
        b["type"] == "image" and "/charts/" in b["image_url"]
        for p in platforms.slack.posted
        for b in p["blocks"]
    )
