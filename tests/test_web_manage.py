"""事務局 runs agreements on the web: KPI targets, meetings and tasks (validated, change-logged),
invite codes and who has linked LINE/Slack. Others get 404; bad input changes nothing."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from storage.db import transaction
from storage.models import (
    ActionItem,
    Agreement,
    AgreementContact,
    ChangeLog,
    Contact,
    InviteCode,
    Kpi,
    Meeting,
    Organization,
)
from tests.conftest import TOKYO
from tests.support import link_account, say
from tests.web_support import add_secretariat, csrf_of, signed_in_client


def _page(client: FlaskClient, path: str = "/manage/agreements/minato-acme") -> str:
    res = client.get(path)
    assert res.status_code == 200
    return res.get_data(as_text=True)


def _post(client: FlaskClient, path: str, **data: str) -> str:
    data["csrf_token"] = csrf_of(_page(client))
    res = client.post(path, data=data, follow_redirects=True)
    assert res.status_code == 200
    return res.get_data(as_text=True)


def _db(app: Flask):  # type: ignore[no-untyped-def]
    return transaction(app.extensions["renkei"].sessions)


def test_only_the_secretariat_manages(demo: Flask) -> None:
    add_secretariat(demo)
    tanaka = signed_in_client(demo, "tanaka")  # a contact, not 事務局
    assert tanaka.get("/manage").status_code == 404
    assert tanaka.get("/manage/agreements/minato-acme").status_code == 404
    page = tanaka.get("/agreements/minato-acme").get_data(as_text=True)
    token = csrf_of(page)
    res = tanaka.post(
        "/manage/agreements/minato-acme/tasks",
        data={"csrf_token": token, "title": "勝手な追加", "due_on": "2026-12-20"},
    )
    assert res.status_code == 404
    jimu = signed_in_client(demo, "jimukyoku")
    assert jimu.get("/manage/agreements/sakura-hikari").status_code == 404  # not みなと市's
    with _db(demo) as session:
        assert (
            session.scalar(
                select(func.count(ActionItem.id)).where(ActionItem.title == "勝手な追加")
            )
            == 0
        )


def test_secretariat_edits_a_kpi_target_with_validation_and_the_change_log(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    shown = _post(client, "/manage/agreements/minato-acme/kpis/drill", target="abc")
    assert "保存しませんでした" in shown and "目標値" in shown
    # Twenty digits: refused by name (PostgreSQL failed it: "numeric field overflow", a 500).
    shown = _post(client, "/manage/agreements/minato-acme/kpis/drill", target="9" * 20)
    assert "保存しませんでした" in shown and "目標値" in shown
    with _db(demo) as session:
        kpi = session.scalar(select(Kpi).where(Kpi.key == "drill"))
        assert kpi is not None and kpi.target == Decimal(600)
    shown = _post(
        client, "/manage/agreements/minato-acme/kpis/drill", target="800", target_date="2027-03-31"
    )
    assert "目標を保存しました" in shown
    with _db(demo) as session:
        kpi = session.scalar(select(Kpi).where(Kpi.key == "drill"))
        assert (
            kpi is not None and kpi.target == Decimal(800) and kpi.target_date == date(2027, 3, 31)
        )
        log = session.scalar(select(ChangeLog).where(ChangeLog.table == "kpi"))
        jimu = session.scalar(select(Contact).where(Contact.key == "jimukyoku"))
        assert log is not None and jimu is not None and log.contact_id == jimu.id
        assert log.before is not None and Decimal(log.before["target"]) == 600
    # 取消 in chat takes the secretariat's own change back, like any other.
    assert "取り消しました" in say(demo, "jimukyoku", "取消").text
    with _db(demo) as session:
        kpi = session.scalar(select(Kpi).where(Kpi.key == "drill"))
        assert kpi is not None and kpi.target == Decimal(600)


def test_secretariat_adds_moves_and_cancels_a_meeting(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    bad = _post(
        client,
        "/manage/agreements/minato-acme/meetings",
        kind="working",
        title="",
        date="2026-12-20",
    )
    assert "保存しませんでした" in bad
    shown = _post(
        client,
        "/manage/agreements/minato-acme/meetings",
        kind="steering",
        title="臨時推進会議",
        date="2026-12-20",
        time="15:30",
        place="市役所5F",
    )
    assert "登録しました" in shown
    with _db(demo) as session:
        m = session.scalar(select(Meeting).where(Meeting.title == "臨時推進会議"))
        assert m is not None and m.starts_at == datetime(2026, 12, 20, 15, 30, tzinfo=TOKYO)
        assert m.kind == "steering" and m.place == "市役所5F"
        meeting_id = m.id
    _post(
        client,
        f"/manage/agreements/minato-acme/meetings/{meeting_id}",
        action="move",
        date="2026-12-21",
        time="10:00",
    )
    _post(client, f"/manage/agreements/minato-acme/meetings/{meeting_id}", action="cancel")
    with _db(demo) as session:
        m = session.get(Meeting, meeting_id)
        assert m is not None and m.cancelled
        assert m.starts_at == datetime(2026, 12, 21, 10, 0, tzinfo=TOKYO)
        actions = session.scalars(
            select(ChangeLog.action).where(
                ChangeLog.table == "meeting", ChangeLog.row_id == meeting_id
            )
        ).all()
        assert actions == ["create", "update", "update"]


def test_secretariat_adds_and_completes_a_task(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    wrong = _post(
        client,
        "/manage/agreements/minato-acme/tasks",
        title="資料作成",
        due_on="2026-12-10",
        owner="takahashi",
    )
    assert "この協定の担当者から" in wrong
    _post(
        client,
        "/manage/agreements/minato-acme/tasks",
        title="資料作成",
        due_on="2026-12-10",
        owner="sato",
    )
    with _db(demo) as session:
        t = session.scalar(select(ActionItem).where(ActionItem.title == "資料作成"))
        assert t is not None and t.due_on == date(2026, 12, 10) and t.done_at is None
        sato = session.scalar(select(Contact).where(Contact.key == "sato"))
        assert sato is not None and t.owner_id == sato.id
        task_id = t.id
    _post(client, f"/manage/agreements/minato-acme/tasks/{task_id}/done")
    with _db(demo) as session:
        t = session.get(ActionItem, task_id)
        assert t is not None and t.done_at is not None
    page = client.get("/agreements/minato-acme").get_data(as_text=True)
    assert re.search(r'<span class="state">完了</span></td>\s*<td data-label="内容">資料作成', page)


def test_invite_codes_and_linked_accounts(demo: Flask) -> None:
    add_secretariat(demo)
    link_account(demo, "line", "sato", "U-sato")
    client = signed_in_client(demo, "jimukyoku")
    page = _page(client, "/manage")
    row = re.search(r'data-contact="sato">(.*?)</tr>', page, re.S)
    assert row and '<td data-label="登録" class="linked">LINE</td>' in row.group(1)
    row = re.search(r'data-contact="tanaka">(.*?)</tr>', page, re.S)
    assert row and "未登録" in row.group(1)
    shown = _post(client, "/manage/contacts/tanaka/invite")
    [code] = re.findall(r"登録コード：([A-Z0-9]{6})", shown)
    with _db(demo) as session:
        invite = session.scalar(select(InviteCode).where(InviteCode.code == code))
        tanaka = session.scalar(select(Contact).where(Contact.key == "tanaka"))
        assert invite is not None and tanaka is not None and invite.contact_id == tanaka.id
    # Not a contact of みなと市 or its agreements: no code.
    res = client.post("/manage/contacts/takahashi/invite", data={"csrf_token": csrf_of(page)})
    assert res.status_code == 404
    with _db(demo) as session:
        assert session.scalar(select(func.count(InviteCode.id))) == 1
        assert session.scalar(select(Agreement.id).where(Agreement.key == "minato-acme"))


def test_secretariat_edits_the_agreement_and_its_roles(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    page = _page(client)
    assert 'name="minato-city.primary"' in page and 'name="acme.secondary"' in page
    form = {
        "title": "みなと市と株式会社アクメとの包括連携協定",
        "fields": "防災、観光、子育て、DX",
        "ends_on": "2027-03-31",
        "renew_term_months": "12",
        "notice_days": "60",
        "minato-city.primary": "suzuki",
        "minato-city.secondary": "kanko",
        "acme.primary": "sato",
        "acme.secondary": "",
    }
    wrong = _post(client, "/manage/agreements/minato-acme", **{**form, "acme.primary": "tanaka"})
    assert "株式会社アクメの正担当は株式会社アクメの担当者から" in wrong
    bad = _post(client, "/manage/agreements/minato-acme", **{**form, "ends_on": "2023-01-01"})
    assert "保存しませんでした：終了日が開始日より前です" in bad
    with _db(demo) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None and a.notice_days == 90 and "DX" not in a.fields
    assert "協定を保存しました" in _post(client, "/manage/agreements/minato-acme", **form)
    with _db(demo) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert (
            a is not None and a.notice_days == 60 and a.fields == ["防災", "観光", "子育て", "DX"]
        )
        roles = {
            (org, role): key
            for org, role, key in session.execute(
                select(Organization.key, AgreementContact.role, Contact.key)
                .join(AgreementContact, AgreementContact.organization_id == Organization.id)
                .join(Contact, Contact.id == AgreementContact.contact_id)
                .where(AgreementContact.agreement_id == a.id)
            )
        }
        assert roles == {
            ("minato-city", "primary"): "suzuki",
            ("minato-city", "secondary"): "kanko",
            ("acme", "primary"): "sato",
        }
    # The new primary sees the agreement in chat; the old one no longer does.
    assert "みなと市" in say(demo, "suzuki", "状況").as_text()
    assert "担当している協定がまだありません" in say(demo, "tanaka", "状況").text


def test_secretariat_registers_a_contact(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    bad = _post(client, "/manage/contacts", key="bad key!", name="山田", organization="minato-city")
    assert "保存しませんでした" in bad
    taken = _post(client, "/manage/contacts", key="tanaka", name="山田", organization="minato-city")
    assert "すでに使われています" in taken
    foreign = _post(
        client, "/manage/contacts", key="yamada", name="山田", organization="sakura-town"
    )
    assert "当事者から選んで" in foreign
    ok = _post(client, "/manage/contacts", key="yamada", name="山田 太郎", organization="acme")
    assert "山田 太郎さんを登録しました" in ok
    with _db(demo) as session:
        c = session.scalar(select(Contact).where(Contact.key == "yamada"))
        assert c is not None and c.organization.key == "acme" and not c.secretariat


def test_a_meeting_or_task_of_another_agreement_is_not_found_here(demo: Flask) -> None:
    """Ids are guessable: one of another agreement, through this agreement's address, is 404."""
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    token = csrf_of(_page(client))
    with _db(demo) as session:
        other = session.scalar(select(Agreement.id).where(Agreement.key != "minato-acme"))
        meeting = session.scalar(select(Meeting).where(Meeting.agreement_id == other))
        task = session.scalar(select(ActionItem).where(ActionItem.agreement_id == other))
        assert meeting is not None and task is not None
        meeting_id, task_id, starts = meeting.id, task.id, meeting.starts_at
    base = "/manage/agreements/minato-acme"
    cancel = {"csrf_token": token, "action": "cancel"}
    assert client.post(f"{base}/meetings/{meeting_id}", data=cancel).status_code == 404
    done = {"csrf_token": token}
    assert client.post(f"{base}/tasks/{task_id}/done", data=done).status_code == 404
    with _db(demo) as session:
        meeting = session.get(Meeting, meeting_id)
        task = session.get(ActionItem, task_id)
        assert meeting is not None and not meeting.cancelled and meeting.starts_at == starts
        assert task is not None and task.done_at is None


def test_out_of_range_values_in_the_forms_are_refused_not_a_500(demo: Flask) -> None:
    """Found by posting what no person means: ids past the ids' type were a 500 (SQLite's
    OverflowError, PostgreSQL's 'integer out of range'), a meeting on 0001-01-01 was a 500,
    and 9999-12-31 was stored (a date the planner could not convert)."""
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    token = csrf_of(_page(client))
    big = "9" * 20
    for path in (
        f"/manage/agreements/minato-acme/meetings/{big}",
        f"/manage/agreements/minato-acme/tasks/{big}/done",
        f"/agreements/minato-acme/activities/{big}/success",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    with _db(demo) as session:
        before = (
            session.scalar(select(func.count(Meeting.id))),
            session.scalar(select(func.count(ActionItem.id))),
        )
    for day in ("0001-01-01", "9999-12-31"):
        shown = _post(
            client,
            "/manage/agreements/minato-acme/meetings",
            kind="working",
            title="遠い会議",
            date=day,
            time="00:00",
        )
        assert "保存しませんでした" in shown, day
        shown = _post(client, "/manage/agreements/minato-acme/tasks", title="遠い宿題", due_on=day)
        assert "保存しませんでした" in shown, day
        shown = _post(client, "/manage/agreements/minato-acme/meetings/1", date=day, time="10:00")
        assert "保存しませんでした" in shown, day
    with _db(demo) as session:
        after = (
            session.scalar(select(func.count(Meeting.id))),
            session.scalar(select(func.count(ActionItem.id))),
        )
        first = session.get(Meeting, 1)
        assert first is not None and 2000 <= first.starts_at.year <= 2100
    assert after == before
