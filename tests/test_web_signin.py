"""Signing in to the web: one-time links from chat and the CLI, sessions, CSRF, who sees what."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.app import create_app
from config import Settings
from config.settings import secret_key_of
from storage.db import transaction
from storage.models import Activity, ChangeLog, LoginLink
from tests.support import (
    Clock,
    RecordingExecutor,
    line_body,
    line_text_event,
    link_account,
    post_line,
    say,
)
from tests.web_support import (
    add_secretariat,
    csrf_of,
    follow_link,
    login_url,
    path_of,
    signed_in_client,
)


def _links(app: Flask) -> list[LoginLink]:
    with transaction(app.extensions["renkei"].sessions) as session:
        return list(session.scalars(select(LoginLink)))


def test_dashboard_in_chat_answers_privately_with_a_one_time_link(demo: Flask) -> None:
    reply = say(demo, "tanaka", "ダッシュボード")
    assert reply.private
    assert "15分間・1回限り" in reply.text
    [url] = re.findall(r"https?://\S+/login/\S+", reply.text)
    [link] = _links(demo)
    assert link.used_at is None and link.token_hash not in url  # only the hash is kept
    client = demo.test_client()
    res = follow_link(client, url)
    assert res.status_code == 302 and res.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "田中 花子" in page and "みなと市と株式会社アクメ" in page
    assert _links(demo)[0].used_at is not None
    assert say(demo, "tanaka", "dashboard").private  # the English alias


def test_in_a_line_group_the_link_is_pushed_to_the_person_alone(
    demo: Flask, line_api: HTTPServer, executor: RecordingExecutor
) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    for path in ("/v2/bot/message/reply", "/v2/bot/message/push"):
        line_api.expect_request(path, method="POST").respond_with_json(
            {"sentMessages": [{"id": "461230966842064897", "quoteToken": "IStG5h1Tz7b"}]}
        )
    body = line_body(
        line_text_event("ダッシュボード", user_id="Utanaka", event_id="d1", group_id="Cgroup")
    )
    assert post_line(demo.test_client(), body).status_code == 200
    executor.drain()  # LINE answers leave from a small pool once the event is committed
    sent = {req.path.rsplit("/", 1)[-1]: json.loads(req.get_data()) for req, _ in line_api.log}
    assert sent["push"]["to"] == "Utanaka"
    assert "/login/" in sent["push"]["messages"][0]["text"]
    assert "/login/" not in json.dumps(sent["reply"], ensure_ascii=False)
    assert len(_links(demo)) == 1


def test_a_link_works_once(demo: Flask) -> None:
    url = login_url(demo, "tanaka")
    assert follow_link(demo.test_client(), url).status_code == 302
    again = follow_link(demo.test_client(), url)
    assert again.status_code == 410
    assert "すでに使われています" in again.get_data(as_text=True)


def test_a_link_expires_after_fifteen_minutes(demo: Flask, clock: Clock) -> None:
    url = login_url(demo, "tanaka")
    start = clock.now
    clock.now = start + timedelta(minutes=15, seconds=1)
    res = follow_link(demo.test_client(), url)
    assert res.status_code == 410
    assert _links(demo)[0].used_at is None


def test_opening_the_link_does_not_use_it(demo: Flask) -> None:
    # LINE and Slack fetch a link to preview it: only the button signs in.
    url = login_url(demo, "tanaka")
    for _ in range(3):
        assert demo.test_client().get(path_of(url)).status_code == 200
    assert _links(demo)[0].used_at is None


def test_next_path_and_no_open_redirect(demo: Flask) -> None:
    url = login_url(demo, "tanaka", next_path="/agreements/minato-acme")
    res = follow_link(demo.test_client(), url)
    assert res.headers["Location"] == "/agreements/minato-acme"
    bad = demo.test_cli_runner().invoke(args=["login-link", "tanaka", "--next", "//evil.example"])
    assert bad.exit_code != 0 and "path of this site" in bad.output
    unknown = demo.test_cli_runner().invoke(args=["login-link", "nobody"])
    assert unknown.exit_code != 0 and "nobody" in unknown.output


def test_the_session_lasts_a_working_day(demo: Flask, clock: Clock) -> None:
    client = signed_in_client(demo, "tanaka")
    clock.now += timedelta(hours=9)
    assert client.get("/").status_code == 200
    clock.now += timedelta(hours=2)
    res = client.get("/")
    assert res.status_code == 401 and "ダッシュボード" in res.get_data(as_text=True)


def test_session_cookie_flags(demo: Flask) -> None:
    client = demo.test_client()
    res = follow_link(client, login_url(demo, "tanaka"))
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_nobody_signed_in_sees_nothing(demo: Flask) -> None:
    client = demo.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/agreements/minato-acme").status_code == 401
    assert client.get("/export/activities.csv").status_code == 401


def test_who_sees_what(demo: Flask) -> None:
    add_secretariat(demo)
    tanaka = signed_in_client(demo, "tanaka")  # みなと市, a contact of minato-acme only
    assert tanaka.get("/agreements/minato-acme").status_code == 200
    assert tanaka.get("/agreements/sakura-hikari").status_code == 404
    assert tanaka.get("/agreements/no-such-thing").status_code == 404
    overview = tanaka.get("/").get_data(as_text=True)
    assert 'data-key="minato-acme"' in overview and 'data-key="sakura-hikari"' not in overview

    kanko = signed_in_client(demo, "kanko")  # みなと市, but of no agreement and not 事務局
    assert kanko.get("/agreements/minato-acme").status_code == 404
    assert "表示できる協定がありません" in kanko.get("/").get_data(as_text=True)

    jimu = signed_in_client(demo, "jimukyoku")  # みなと市の事務局: every みなと市 agreement
    overview = jimu.get("/").get_data(as_text=True)
    keys = set(re.findall(r'data-key="([^"]+)"', overview))
    assert "minato-acme" in keys and "sakura-hikari" not in keys
    assert jimu.get("/agreements/minato-acme").status_code == 200
    assert jimu.get("/agreements/sakura-hikari").status_code == 404


def test_csrf_is_required_on_forms(demo: Flask) -> None:
    assert "記録しました" in say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名").text
    client = signed_in_client(demo, "tanaka")
    page = client.get("/agreements/minato-acme").get_data(as_text=True)
    [activity_id] = re.findall(r"/activities/(\d+)/success", page)[:1]
    action = f"/agreements/minato-acme/activities/{activity_id}/success"
    refused = client.post(action, data={"success": "1"})
    assert refused.status_code == 400 and "送信できませんでした" in refused.get_data(as_text=True)
    forged = client.post(action, data={"success": "1", "csrf_token": "forged"})
    assert forged.status_code == 400
    with transaction(demo.extensions["renkei"].sessions) as session:
        assert session.get(Activity, int(activity_id)).success is False  # type: ignore[union-attr]

    ok = client.post(action, data={"success": "1", "csrf_token": csrf_of(page)})
    assert ok.status_code == 302
    with transaction(demo.extensions["renkei"].sessions) as session:
        assert session.get(Activity, int(activity_id)).success is True  # type: ignore[union-attr]
        log = session.scalars(select(ChangeLog).where(ChangeLog.table == "activity")).all()
        assert [(e.action, e.before) for e in log] == [
            ("create", None),
            ("update", {"success": False}),
        ]
    shown = client.get("/agreements/minato-acme").get_data(as_text=True)
    assert "成功事例を解除" in shown and '<span class="badge">成功事例</span>' in shown


def test_webhooks_need_no_csrf_token(demo: Flask) -> None:
    # The LINE webhook answers on its own signature: a missing one is 400 from LINE's check,
    # not the web's CSRF page.
    res = demo.test_client().post("/line/webhook", data="{}")
    assert "送信できませんでした" not in res.get_data(as_text=True)


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    path = tmp_path / "instance" / "secret_key"
    first = secret_key_of(settings, path)
    assert len(first) >= 40 and path.read_text() == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert secret_key_of(settings, path) == first  # kept across restarts
    given = Settings(_env_file=None, secret_key="from-the-environment")  # type: ignore[call-arg]
    assert secret_key_of(given, path) == "from-the-environment"


def test_cookies_are_secure_under_https_only(settings: Settings, demo: Flask) -> None:
    for base, secure in (("https://renkei.example.jp", True), ("http://127.0.0.1:8000", False)):
        # LINE is off here: it refuses a plain-http PUBLIC_BASE_URL at startup.
        changed = settings.model_copy(update={"public_base_url": base, "line_channel_secret": ""})
        app = create_app(changed)
        try:
            res = follow_link(app.test_client(), login_url(app, "tanaka"))
            # Over plain http a Secure cookie would never come back: it is left off there.
            assert ("Secure" in res.headers["Set-Cookie"]) is secure
        finally:
            app.extensions["renkei"].engine.dispose()
