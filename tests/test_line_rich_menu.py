"""`renkei line rich-menu`: the menu is drawn, created, uploaded and made the default through the
real MessagingApi / MessagingApiBlob clients against the stub LINE API; the stub's log says
what LINE would have received."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from pytest_httpserver import HTTPServer

from bot.app import create_app
from bot.line_rich_menu import AREAS, HEIGHT, WIDTH, Area, rich_menu_request
from config import Settings
from handlers.dispatch import respond
from handlers.messages import Incoming
from handlers.registry import match
from storage.db import transaction
from tests.conftest import NOW, TOKYO
from tests.support import LINE_TOKEN, Clock


def old_menu(menu_id: str, name: str) -> dict:
    return {"richMenuId": menu_id, **rich_menu_request().to_dict(), "name": name}


def stub_rich_menu_api(line_api: HTTPServer) -> None:
    line_api.expect_request("/v2/bot/richmenu", method="POST").respond_with_json(
        {"richMenuId": "richmenu-new"}
    )
    line_api.expect_request(
        "/v2/bot/richmenu/richmenu-new/content", method="POST"
    ).respond_with_json({})
    line_api.expect_request(
        "/v2/bot/user/all/richmenu/richmenu-new", method="POST"
    ).respond_with_json({})
    line_api.expect_request("/v2/bot/richmenu/list", method="GET").respond_with_json(
        {
            "richmenus": [
                old_menu("richmenu-old", "Renkei"),
                old_menu("richmenu-other-app", "Campaign"),
                old_menu("richmenu-new", "Renkei"),
            ]
        }
    )
    line_api.expect_request("/v2/bot/richmenu/richmenu-old", method="DELETE").respond_with_json({})


def test_rich_menu_is_drawn_uploaded_and_made_the_default(
    app: Flask, line_api: HTTPServer, tmp_path: Path
) -> None:
    stub_rich_menu_api(line_api)
    saved = tmp_path / "menu.png"
    result = app.test_cli_runner().invoke(args=["line", "rich-menu", "--save", str(saved)])
    assert result.exit_code == 0, result.output
    assert "richmenu-new" in result.output
    calls = [(req.method, req.path, req) for req, _ in line_api.log]
    assert [(m, p) for m, p, _ in calls] == [
        ("POST", "/v2/bot/richmenu"),
        ("POST", "/v2/bot/richmenu/richmenu-new/content"),
        ("POST", "/v2/bot/user/all/richmenu/richmenu-new"),
        ("GET", "/v2/bot/richmenu/list"),
        ("DELETE", "/v2/bot/richmenu/richmenu-old"),  # ours from before; not another app's
    ]
    assert all(req.headers["Authorization"] == f"Bearer {LINE_TOKEN}" for _, _, req in calls)

    created = json.loads(calls[0][2].get_data())
    assert created["size"] == {"width": WIDTH, "height": HEIGHT}
    assert [a["action"]["text"] for a in created["areas"]] == [
        "予定",
        "活動",
        "KPI",
        "状況",
        "ダッシュボード",
        "ヘルプ",
    ]
    # The areas tile the picture exactly: no gap a tap falls through, no overlap.
    assert sum(a["bounds"]["width"] * a["bounds"]["height"] for a in created["areas"]) == (
        WIDTH * HEIGHT
    )
    upload = calls[1][2]
    assert upload.headers["Content-Type"] == "image/png"
    picture = Image.open(io.BytesIO(upload.get_data()))
    assert (picture.format, picture.size) == ("PNG", (WIDTH, HEIGHT))
    assert len(upload.get_data()) < 1024 * 1024  # LINE's limit for a rich menu image
    assert saved.read_bytes() == upload.get_data()


def test_rich_menu_needs_line_to_be_configured(
    settings: Settings, clock: Clock, line_api: HTTPServer
) -> None:
    app = create_app(settings.model_copy(update={"line_channel_access_token": ""}), clock=clock)
    try:
        result = app.test_cli_runner().invoke(args=["line", "rich-menu"])
    finally:
        app.extensions["renkei"].engine.dispose()
    assert result.exit_code != 0 and "LINE_CHANNEL_ACCESS_TOKEN" in result.output
    assert line_api.log == []


@pytest.mark.parametrize("area", AREAS, ids=[a.text for a in AREAS])
def test_every_menu_button_sends_a_registered_command(demo: Flask, area: Area) -> None:
    assert match(area.text) is not None, f"{area.text!r} is no command"
    with transaction(demo.extensions["renkei"].sessions) as s:
        reply = respond(s, Incoming("local", "tanaka", area.text), now=NOW, tz=TOKYO)
    assert reply is not None and "わかりませんでした" not in reply.text
