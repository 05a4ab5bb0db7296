"""事務局 creates an agreement on the web: checked by the agreement file's schema and the
importer, change-logged (取消 takes it back), visible at once on the web and in chat. Others
get 404; bad input and a missing CSRF token change nothing."""

from __future__ import annotations

from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bot.web.new_agreement import suggest_key
from storage.db import transaction
from storage.models import Agreement, AgreementContact, ChangeLog, Contact, Organization
from tests.support import say
from tests.web_support import add_secretariat, csrf_of, signed_in_client

FORM = {
    "title": "みなと市と株式会社アクメとの子育て支援協定",
    "key": "minato-acme-kosodate",
    "fields": "子育て、教育",
    "signed_on": "2026-11-20",
    "starts_on": "2026-12-01",
    "ends_on": "2029-11-30",
    "renew_term_months": "12",
    "notice_days": "60",
    "steering": "12",
    "working": "3",
    "party": "acme",
    "minato-city.primary": "suzuki",
    "acme.primary": "ito",
}


def _create(client: FlaskClient, **data: str) -> tuple[int, str]:
    page = client.get("/manage/new-agreement")
    assert page.status_code == 200
    data["csrf_token"] = csrf_of(page.get_data(as_text=True))
    res = client.post("/manage/new-agreement", data=data, follow_redirects=True)
    return res.status_code, res.get_data(as_text=True)


def _counts(app: Flask) -> tuple[int, int, int, int]:
    with transaction(app.extensions["renkei"].sessions) as s:
        return (
            s.scalar(select(func.count(Agreement.id))) or 0,
            s.scalar(select(func.count(Organization.id))) or 0,
            s.scalar(select(func.count(Contact.id))) or 0,
            s.scalar(select(func.count(ChangeLog.id))) or 0,
        )


def test_only_the_secretariat_creates_and_csrf_is_required(demo: Flask) -> None:
    add_secretariat(demo)
    tanaka = signed_in_client(demo, "tanaka")
    assert tanaka.get("/manage/new-agreement").status_code == 404
    token = csrf_of(tanaka.get("/agreements/minato-acme").get_data(as_text=True))
    assert (
        tanaka.post("/manage/new-agreement", data={**FORM, "csrf_token": token}).status_code == 404
    )
    jimu = signed_in_client(demo, "jimukyoku")
    assert 'href="/manage/new-agreement"' in jimu.get("/manage").get_data(as_text=True)
    before = _counts(demo)
    assert jimu.post("/manage/new-agreement", data=FORM).status_code in (400, 403)
    assert _counts(demo) == before


def test_secretariat_creates_an_agreement_with_existing_contacts(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    status, page = _create(client, **FORM)
    assert (
        status == 200 and "協定「みなと市と株式会社アクメとの子育て支援協定」を作成しました" in page
    )
    assert "<h1" in page and "子育て支援協定" in page  # landed on the agreement's page
    with transaction(demo.extensions["renkei"].sessions) as s:
        a = s.scalar(select(Agreement).where(Agreement.key == "minato-acme-kosodate"))
        assert a is not None
        assert [o.key for o in a.parties] == ["minato-city", "acme"]
        assert a.fields == ["子育て", "教育"] and a.signed_on == date(2026, 11, 20)
        assert a.starts_on == date(2026, 12, 1) and a.ends_on == date(2029, 11, 30)
        assert (a.renew_term_months, a.notice_days) == (12, 60)
        assert (a.steering_cadence_months, a.working_cadence_months) == (12, 3)
        roles = {
            (org, role): who
            for org, role, who in s.execute(
                select(Organization.key, AgreementContact.role, Contact.key)
                .join(AgreementContact, AgreementContact.organization_id == Organization.id)
                .join(Contact, Contact.id == AgreementContact.contact_id)
                .where(AgreementContact.agreement_id == a.id)
            )
        }
        assert roles == {("minato-city", "primary"): "suzuki", ("acme", "primary"): "ito"}
        log = s.scalar(select(ChangeLog).where(ChangeLog.table == "agreement"))
        assert log is not None and log.row_id == a.id and log.action == "create"
    overview = client.get("/").get_data(as_text=True)
    assert 'data-key="minato-acme-kosodate"' in overview
    assert "アクメとの子育て支援" in say(demo, "ito", "状況").as_text()
    assert "アクメとの子育て支援" in say(demo, "suzuki", "状況").as_text()


def test_secretariat_creates_one_with_a_new_partner_and_new_contacts(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    with transaction(demo.extensions["renkei"].sessions) as s:
        roles_before = s.scalar(select(func.count(AgreementContact.id)))
    form = {
        "title": "みなと市とみなと観光協会の連携協定",
        "starts_on": "2026-12-01",
        "ends_on": "2027-11-30",
        "minato-city.new_key": "ogawa",
        "minato-city.new_name": "小川 優",
        "_new.name": "一般社団法人みなと観光協会",
        "_new.key": "minato-kanko",
        "_new.kind": "other",
        "_new.new_key": "mori",
        "_new.new_name": "森 さやか",
        "_new.new_email": "mori@kanko.example.jp",
    }
    status, page = _create(client, **form)
    assert status == 200 and "作成しました（キー：minato-city-minato-kanko）" in page
    with transaction(demo.extensions["renkei"].sessions) as s:
        a = s.scalar(select(Agreement).where(Agreement.key == "minato-city-minato-kanko"))
        assert a is not None and [o.key for o in a.parties] == ["minato-city", "minato-kanko"]
        mori = s.scalar(select(Contact).where(Contact.key == "mori"))
        assert mori is not None and mori.organization.kind == "other"
        assert mori.email == "mori@kanko.example.jp" and not mori.secretariat
        assert a.renew_term_months is None
    # The new contact can get an invite code from the secretariat (a contact of its agreements).
    assert client.get("/manage").get_data(as_text=True).count('data-contact="mori"') == 1
    # 取消 in chat takes the creation back (the agreement, its parties and roles); the people
    # and the partner stay registered, as 担当者を登録 leaves them.
    assert "取り消しました" in say(demo, "jimukyoku", "取消").text
    with transaction(demo.extensions["renkei"].sessions) as s:
        assert s.scalar(select(Agreement.id).where(Agreement.key.like("minato-city-%"))) is None
        assert s.scalar(select(func.count(AgreementContact.id))) == roles_before
        assert s.scalar(select(Contact.id).where(Contact.key == "mori")) is not None
    assert client.get("/agreements/minato-city-minato-kanko").status_code == 404


def test_bad_input_is_explained_and_writes_nothing(demo: Flask) -> None:
    add_secretariat(demo)
    client = signed_in_client(demo, "jimukyoku")
    before = _counts(demo)
    cases = [
        ({"key": "minato-acme"}, "キー「minato-acme」はすでに使われています"),
        ({"key": "bad key!"}, "キーの値が正しくありません"),
        ({"title": ""}, "協定名の値が正しくありません"),
        ({"ends_on": "2020-01-01"}, "終了日が開始日より前です"),
        ({"starts_on": "2026-02-30"}, "開始日の値が正しくありません"),
        ({"renew_term_months": "abc"}, "自動更新の値が正しくありません"),
        ({"party": ""}, "相手方を選ぶか、新しい相手方を入力してください"),
        ({"party": "hikari-bank"}, "相手方は一覧から選んでください"),
        ({"acme.primary": "tanaka"}, "株式会社アクメの正担当は株式会社アクメの担当者から"),
        ({"acme.primary": ""}, "株式会社アクメの正担当を選ぶか"),
        (
            {"acme.primary": "", "acme.new_key": "tanaka", "acme.new_name": "別人"},
            "担当者のキー「tanaka」はすでに使われています",
        ),
        (
            {
                "_new.name": "さくら町",
                "_new.key": "sakura-town",
                "_new.new_key": "x1",
                "_new.new_name": "新人",
            },
            "相手方のキー「sakura-town」はすでに使われています",
        ),
        (
            {
                "_new.name": "観光協会",
                "_new.key": "kanko kyokai",
                "_new.new_key": "x1",
                "_new.new_name": "新人",
                "_new.kind": "club",
            },
            "新しい相手方のキーの値が正しくありません・新しい相手方の種別の値が正しくありません",
        ),
    ]
    for change, message in cases:
        status, page = _create(client, **{**FORM, **change})
        assert status == 422, change
        assert "作成しませんでした" in page and message in page, (change, page[-2000:])
        assert 'value="子育て、教育"' in page  # what was typed is kept
    assert _counts(demo) == before


def test_suggested_keys_are_url_safe_and_unique() -> None:
    assert suggest_key("ACME Corp 連携協定", ["minato-city", "acme"], set()) == "acme-corp"
    taken = {"minato-city-acme", "minato-city-acme-2"}
    assert suggest_key("包括連携協定", ["minato-city", "acme"], taken) == "minato-city-acme-3"
