"""`renkei contacts`, `renkei agreements` and `renkei forget` through Flask's CLI runner; the
console script refuses LINE with a plain-http PUBLIC_BASE_URL in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from storage.models import ActionItem, ChatIdentity, Contact, InviteCode
from tests.support import link_account, say


def cli(app: Flask, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_contacts_lists_who_is_linked_where(demo: Flask) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    link_account(demo, "slack", "sato", "Usato")
    result = cli(demo, "contacts")
    assert result.exit_code == 0
    out = result.output
    block = out[out.index("tanaka\t田中 花子\tminato-city") :].split("\n")[:3]
    assert "accounts:   line:Utanaka" in block[1]
    assert "minato-acme(主担当)" in block[2]
    assert "suzuki\t鈴木 一郎\tminato-city" in out and "not linked (renkei invite KEY)" in out
    assert "accounts:   slack:Usato" in out


def test_agreements_lists_contacts_by_role(demo: Flask) -> None:
    link_account(demo, "line", "tanaka", "Utanaka")
    result = cli(demo, "agreements")
    assert result.exit_code == 0
    out = result.output
    section = out[out.index("minato-acme\t") :].split("\n\n")[0]
    assert "主担当\ttanaka\t田中 花子\tline:Utanaka" in section
    assert "副担当\tsuzuki\t鈴木 一郎\tnot linked" in section
    assert "sakura-hikari\t" in out


def test_forget_removes_identities_email_and_name_but_keeps_records(demo: Flask) -> None:
    r = demo.extensions["renkei"]
    link_account(demo, "line", "tanaka", "Utanaka")
    assert cli(demo, "invite", "tanaka").exit_code == 0
    with r.sessions() as s:
        tanaka_id = s.scalar(select(Contact.id).where(Contact.key == "tanaka"))
        owned = s.scalar(select(func.count()).where(ActionItem.owner_id == tanaka_id))
    assert owned

    refused = cli(demo, "forget", "tanaka", input="n\n")
    assert refused.exit_code != 0  # asked, and "no" changes nothing
    with r.sessions() as s:
        assert s.scalar(select(Contact.name).where(Contact.key == "tanaka")) == "田中 花子"

    result = cli(demo, "forget", "tanaka", "--yes")
    assert result.exit_code == 0 and "forgotten (1 chat account(s) unlinked" in result.output
    with r.sessions() as s:
        contact = s.scalar(select(Contact).where(Contact.key == "tanaka"))
        assert contact is not None
        assert (contact.name, contact.email, contact.active) == ("退職者", None, False)
        assert s.scalar(select(func.count()).select_from(ChatIdentity)) == 0
        assert s.scalar(select(func.count()).where(InviteCode.contact_id == tanaka_id)) == 0
        # the records stay, now shown as 退職者
        assert s.scalar(select(func.count()).where(ActionItem.owner_id == tanaka_id)) == owned
    assert "田中 花子" not in cli(demo, "contacts").output
    assert "田中" not in say(demo, "suzuki", "タスク").as_text()
    assert cli(demo, "forget", "nobody", "--yes").exit_code != 0


def test_line_with_a_plain_http_public_base_url_is_refused_at_startup(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "PUBLIC_BASE_URL": "http://renkei.example.jp",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "renkei"), "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("renkei: PUBLIC_BASE_URL must be an https:// address")
