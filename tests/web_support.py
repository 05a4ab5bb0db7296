"""Helpers for the web tests: sign in by a real one-time link, read a form's CSRF token, add a
事務局 contact through the agreement file."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient

from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements

TOKYO = ZoneInfo("Asia/Tokyo")
SECRETARIAT_FILE = """
contacts:
  - {key: jimukyoku, name: 事務局 花子, organization: minato-city, secretariat: true}
  - {key: kanko, name: 観光課 次郎, organization: minato-city}
"""


def add_secretariat(app: Flask) -> None:
    """みなと市の事務局 (jimukyoku) and a みなと市 contact of no agreement (kanko)."""
    r = app.extensions["renkei"]
    with transaction(r.sessions) as session:
        import_agreements(session, parse_agreement_file(SECRETARIAT_FILE), tz=TOKYO, now=r.clock())


def login_url(app: Flask, contact_key: str, *, next_path: str | None = None) -> str:
    args = ["login-link", contact_key] + (["--next", next_path] if next_path else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    url = result.stdout.strip().splitlines()[-1]
    assert url.startswith(app.extensions["renkei"].settings.public_base_url + "/login/")
    return url


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def follow_link(client: FlaskClient, url: str) -> Any:
    """Open the link and press サインイン, as a person does; the answer to the POST."""
    page = client.get(path_of(url))
    assert page.status_code == 200
    return client.post(path_of(url), data={"csrf_token": csrf_of(page.get_data(as_text=True))})


def signed_in_client(app: Flask, contact_key: str) -> FlaskClient:
    client = app.test_client()
    res = follow_link(client, login_url(app, contact_key))
    assert res.status_code == 302, res.get_data(as_text=True)
    return client
