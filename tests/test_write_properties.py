"""Properties of every write (issue 14): the confirmation echoes exactly what was stored — title,
date, owner, place, counts — and no write makes a command word or a bare item number a title."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from handlers.item_refs import has_command_word
from handlers.messages import Incoming
from handlers.text import fmt_date, fmt_datetime, fmt_number
from storage.models import ActionItem, Activity, Contact, Meeting
from tests.conftest import TODAY, TOKYO

WORDS = [
    "防災訓練",
    "報告書",
    "打合せ",
    "説明会",
    "（準備）",
    "市民講座",
    "ＤＸ研修",
    "子育て 広場",
]
HAZARDS = ["変更", "期限変更", "中止", "2", "No.3", "に変更", "完了", "3番"]
TITLE = st.lists(st.sampled_from(WORDS + HAZARDS), min_size=1, max_size=3).map(" ".join)
AHEAD = st.dates(TODAY + timedelta(days=1), date(2027, 5, 31)).map(lambda d: f"{d:%Y/%m/%d}")
PAST = st.dates(date(2026, 4, 1), TODAY).map(lambda d: f"{d.month}/{d.day}")
TIME = st.sampled_from(["10:00", "13:30", "15:00", "9:15"])
OWNER = st.sampled_from(["", " @佐藤", " @suzuki", " @tanaka"])
PLACE = st.sampled_from(["", " 場所:市役所3F", " 公民館", " ＠みなと会館"])
COUNTS = st.sampled_from(["", " 参加者45名", " 参加者 32名・企業11社", " 来場者120人、配布300部"])
NUMBER = st.integers(1, 8)

COMMANDS = st.one_of(
    st.builds(lambda d, t, o: f"タスク {d} {t}{o}", AHEAD, TITLE, OWNER),
    st.builds(lambda d, h, t, p: f"会議 {d} {h} {t}{p}", AHEAD, TIME, TITLE, PLACE),
    st.builds(lambda d, t, c: f"活動 {d} {t}{c}", PAST, TITLE, COUNTS),
    st.builds(lambda n, d: f"タスク 変更 {n} 期限 {d}", NUMBER, AHEAD),
    st.builds(lambda n, o: f"タスク 変更 {n} 担当{o or ' 佐藤'}", NUMBER, OWNER),
    st.builds(lambda n, t: f"タスク 変更 {n} 件名 {t}", NUMBER, TITLE),
    st.builds(lambda n, d, h: f"会議 変更 {n} {d} {h}", NUMBER, AHEAD, TIME),
    st.builds(lambda n, p: f"会議 変更 {n} 場所 {p.strip(' 場所:＠') or '市役所'}", NUMBER, PLACE),
    st.builds(lambda n, t: f"会議 変更 {n} 件名 {t}", NUMBER, TITLE),
    st.builds(lambda t, d: f"タスク {t} 期限変更 {d}", TITLE, AHEAD),
    st.builds(lambda t, d, h: f"会議 {t} {d} {h} に変更", TITLE, AHEAD, TIME),
)


def snapshot(app: Flask) -> dict[tuple[str, int], dict[str, Any]]:
    with app.extensions["renkei"].sessions() as s:
        names = dict(s.execute(select(Contact.id, Contact.name)).all())
        rows: dict[tuple[str, int], dict[str, Any]] = {}
        for t in s.scalars(select(ActionItem)):
            rows[("task", t.id)] = {
                "title": t.title,
                "date": fmt_date(t.due_on, today=TODAY),
                "owner": names.get(t.owner_id or 0),
            }
        for m in s.scalars(select(Meeting)):
            rows[("meeting", m.id)] = {
                "title": m.title,
                "date": fmt_datetime(m.starts_at, TOKYO, today=TODAY),
                "place": m.place,
                "cancelled": m.cancelled,
            }
        for a in s.scalars(select(Activity)):
            rows[("activity", a.id)] = {
                "title": a.title,
                "date": fmt_date(a.occurred_on, today=TODAY),
                "counts": [
                    f"{label}{fmt_number(c['value'])}{c['unit']}" for label, c in a.counts.items()
                ],
            }
        return rows


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=COMMANDS)
def test_every_write_echoes_what_was_stored_and_never_titles_a_command(
    demo: Flask, text: str
) -> None:
    before = snapshot(demo)
    reply = demo.extensions["renkei"].inbound.handle(Incoming("local", "tanaka", text))
    assert reply is not None
    shown = reply.as_text()
    after = snapshot(demo)
    for key, row in after.items():
        old = before.get(key)
        if old == row:
            continue
        if old is None:  # created: no command word or bare number in its title
            assert not has_command_word(row["title"]), (text, row)
        changed = {k for k, v in row.items() if old is None or old[k] != v}
        for field in changed - {"cancelled"}:
            value = row[field]
            if field == "counts":
                assert all(c in shown for c in value), (text, value, shown)
            elif value is not None:
                assert str(value) in shown, (text, field, value, shown)
