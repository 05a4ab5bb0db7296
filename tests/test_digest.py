"""The weekly digest: what it says, its chart, and where the chart is served."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask import Flask
from sqlalchemy import select

from bot.chart import chart_spec, render_spec
from bot.scheduler import deliver, plan, reply_of
from storage.db import transaction
from storage.kpi_progress import progress_for
from storage.models import ActionItem, Activity, Agreement, ChartImage, Contact, Kpi, Outbox
from tests.conftest import NOW, TODAY, TOKYO

if TYPE_CHECKING:
    from tests.scheduler_support import Platforms

pytest_plugins = ("tests.scheduler_support",)

MONDAY = datetime(2026, 11, 30, 9, tzinfo=TOKYO)


def digests(app: Flask) -> dict[str, Outbox]:
    with app.extensions["renkei"].sessions() as s:
        return {r.recipient: r for r in s.scalars(select(Outbox).where(Outbox.kind == "digest"))}


def test_a_person_gets_every_agreement_with_kpis_overdue_and_what_comes(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        minato = s.scalar(select(Agreement.id).where(Agreement.key == "minato-acme"))
        s.add(
            Activity(
                agreement_id=minato,
                occurred_on=date(2026, 11, 24),
                field="防災",
                title="防災訓練",
                counts={"参加者": {"value": 45, "unit": "人"}},
                platform="local",
                created_at=NOW,
            )
        )
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    sato = reply_of(digests(demo)["sato"].payload)
    assert sato.text.startswith("【週次ダイジェスト】11/30（月）の週（担当協定2件）")
    cards = {c.title: dict(c.rows) for c in sato.cards}
    assert set(cards) == {"みなと市と株式会社アクメ", "さくら町地域活性化プラットフォーム"}
    minato_card = cards["みなと市と株式会社アクメ"]
    assert minato_card["先週の活動"] == "11/24（火） 防災訓練 参加者45人"
    kpis = minato_card["KPI（2026年度）"].split("\n")
    assert kpis[0].startswith("防災訓練参加者数：150人／目標600人 ■■■□□□□□□□ 25%")
    assert kpis[0].endswith("前年同期比176%")  # 第1四半期: 150 against 85 a year before
    assert kpis[1].startswith("観光イベント来場者数：未入力／目標20000人")
    assert "防災訓練の実施報告書の提出" in minato_card["期限超過"]
    assert "12/10（木） 14:00 会議：第8回 実務者会議" in minato_card["今後2週間"]
    platform_card = cards["さくら町地域活性化プラットフォーム"]
    assert platform_card["KPI（2026年度）"].startswith(
        "海岸清掃ボランティア参加者数：112人／目標150人"
    )
    assert digests(demo)["sato"].payload["image"]


def test_a_primary_learns_who_on_their_side_cannot_be_reached(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    tanaka = digests(demo)["tanaka"].payload["text"]
    assert "連絡が届いていない担当者" in tanaka
    assert "鈴木 一郎（みなと市と株式会社アクメ）" in tanaka and "renkei invite suzuki" in tanaka
    assert "田中" not in tanaka.split("連絡が届いていない担当者", 1)[1]  # only the others
    suzuki = digests(demo)["suzuki"].payload["text"]  # a secondary is not told
    assert "連絡が届いていない担当者" not in suzuki


def test_the_chart_is_a_png_served_at_an_unguessable_url(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    token = digests(demo)["tanaka"].payload["image"]
    assert len(token) >= 40
    client = demo.test_client()
    got = client.get(f"/charts/{token}.png")
    assert got.status_code == 200 and got.mimetype == "image/png"
    assert got.data.startswith(b"\x89PNG")
    assert client.get(f"/charts/{token[:-1]}x.png").status_code == 404
    assert client.get("/charts/..%2Fetc.png").status_code == 404
    with r.sessions() as s:
        assert s.scalar(select(ChartImage.alt).where(ChartImage.token == token)).startswith(
            "KPI達成率："
        )


def test_agreement_digest_goes_to_the_channel_and_the_group_with_the_chart(
    app: Flask, platforms: Platforms
) -> None:
    platforms.load_minato(app, today=TODAY)
    r = app.extensions["renkei"]
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    deliver(r.sessions, platforms.senders(), now=MONDAY, tz=TOKYO)
    [channel] = [p for p in platforms.slack.posted if p["channel"] == platforms.channel]
    assert channel["text"].startswith("お知らせ") or "週次ダイジェスト" in channel["text"]
    [image] = [b for b in channel["blocks"] if b["type"] == "image"]
    # the URL LINE fetches too: the web process draws the chart on the first fetch
    assert image["image_url"].startswith("https://renkei.example.jp/charts/")
    with r.sessions() as s:
        assert s.scalars(select(ChartImage.png)).all() and not any(
            s.scalars(select(ChartImage.png))
        )
    fetched = app.test_client().get(image["image_url"].removeprefix("https://renkei.example.jp"))
    assert fetched.status_code == 200 and fetched.data.startswith(b"\x89PNG")
    [group] = [p for p in platforms.line.accepted.values() if p["to"] == platforms.group]
    assert group["messages"][0]["text"].startswith("【週次ダイジェスト】みなと市と株式会社アクメ")
    assert group["messages"][-1]["type"] == "image"


def test_a_chart_needs_values(demo: Flask) -> None:
    with demo.extensions["renkei"].sessions() as s:
        hikari = s.scalar(select(Agreement.id).where(Agreement.key == "sakura-hikari"))
        kpis = list(s.scalars(select(Kpi).where(Kpi.agreement_id == hikari)))
        progress = list(progress_for(s, kpis, TODAY).values())
    spec = chart_spec(progress, title="KPI")
    assert spec is not None and render_spec(spec).startswith(b"\x89PNG")
    assert chart_spec([], title="KPI") is None


def test_review_reminder_carries_the_summary(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    plan(r.sessions, now=datetime(2026, 10, 2, 9, tzinfo=TOKYO), tz=TOKYO)
    with r.sessions() as s:
        review = s.scalar(
            select(Outbox).where(Outbox.kind == "review", Outbox.recipient == "tanaka")
        )
        assert s.scalar(select(Contact.id).where(Contact.key == "tanaka"))
    items = review.payload["items"]
    assert any(i.startswith("KPI（2026年度）：防災訓練参加者数：150人／目標600人") for i in items)
    assert "活動記録（2024/4/1（月）〜）：0件、会議 0回" in items  # the first term so far
    assert review.payload["buttons"][0]["text"].startswith("対応済み review:")


def test_a_chart_slack_cannot_show_yet_becomes_a_link(app: Flask, platforms: Platforms) -> None:
    platforms.load_minato(app, today=TODAY)
    r = app.extensions["renkei"]
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    platforms.slack.fail_next(error="invalid_blocks")  # the first message with an image
    stats = deliver(r.sessions, platforms.senders(), now=MONDAY, tz=TOKYO)
    assert stats.failed == 0 and stats.retried == 0
    texts = [b["text"]["text"] for p in platforms.slack.posted for b in p["blocks"] if "text" in b]
    assert any("グラフ（" in t and "）：https://renkei.example.jp/charts/" in t for t in texts)
    shown = platforms.counts()
    assert all(shown[(row.address, row.subject)] == 1 for row in digests(app).values())


def test_planning_draws_no_chart_the_first_fetch_draws_and_keeps_it(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    with r.sessions() as s:
        charts = s.execute(select(ChartImage.token, ChartImage.png, ChartImage.spec)).all()
    assert charts and all(png is None and spec["bars"] for _t, png, spec in charts)
    # equal pictures are one chart: fewer charts than digests that carry one
    carrying = [d for d in digests(demo).values() if d.payload["image"]]
    assert len({d.payload["image"] for d in carrying}) == len(charts) <= len(carrying)
    token = charts[0][0]
    first = demo.test_client().get(f"/charts/{token}.png")
    with r.sessions() as s:
        kept = s.scalar(select(ChartImage.png).where(ChartImage.token == token))
    assert first.status_code == 200 and kept == first.data and kept.startswith(b"\x89PNG")


def test_a_year_old_overdue_item_is_listed_with_its_year(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    with transaction(r.sessions) as s:
        minato = s.scalar(select(Agreement.id).where(Agreement.key == "minato-acme"))
        sato = s.scalar(select(Contact.id).where(Contact.key == "sato"))
        s.add(
            ActionItem(
                agreement_id=minato, title="前年度の精算", owner_id=sato, due_on=date(2026, 3, 10)
            )
        )
    plan(r.sessions, now=MONDAY, tz=TOKYO)
    cards = {c.title: dict(c.rows) for c in reply_of(digests(demo)["sato"].payload).cards}
    overdue = cards["みなと市と株式会社アクメ"]["期限超過"].split("\n")
    assert "2026/3/10（火） タスク：前年度の精算" in overdue
    assert any(line.startswith("11/") for line in overdue)  # this year's stay short
