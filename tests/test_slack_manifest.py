"""deploy/slack-manifest.yaml: what a real Slack app needs for what bot/slack.py does."""

from __future__ import annotations

from pathlib import Path

import yaml
from flask import Flask

MANIFEST = Path(__file__).parent.parent / "deploy" / "slack-manifest.yaml"


def test_the_manifest_asks_for_what_the_bot_uses(app: Flask) -> None:
    m = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {
        "commands",
        "chat:write",
        "im:history",
        "im:write",
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "files:write",
    } <= scopes
    settings = m["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.im",
        "app_mention",
        "app_home_opened",
    }
    assert settings["interactivity"]["is_enabled"] is True
    home = m["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert home["messages_tab_read_only_enabled"] is False
    [slash] = m["features"]["slash_commands"]
    assert slash["command"] == "/renkei" and slash["should_escape"] is True
    # Every URL is the one endpoint the app serves.
    urls = [
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    urls.append(slash["url"])
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    for url in urls:
        assert url.startswith("https://YOUR-HOST/")
        assert url.removeprefix("https://YOUR-HOST") in routes
