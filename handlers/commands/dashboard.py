"""ダッシュボード / カレンダー: a private link to the web (one-time sign-in) or to one's
calendar feed. Links are secrets: the answers are private, so in a group they reach the
person alone (LINE: a 1:1 push; Slack: an ephemeral message)."""

from __future__ import annotations

from handlers.context import Context
from handlers.messages import Reply
from storage.web_access import LOGIN_LINK_TTL, calendar_token, issue_login_link

ONE_TO_ONE = "リンクは本人だけに送ります。ボットとの1対1のトークで「{word}」と送ってください。"


def _base_url() -> str:
    # The public address is deployment configuration, read the way the app reads it.
    from config import load_settings

    return load_settings().public_base_url


def dashboard(ctx: Context, args: str) -> Reply:
    token = issue_login_link(ctx.session, ctx.contact, now=ctx.now)
    minutes = int(LOGIN_LINK_TTL.total_seconds() // 60)
    return Reply(
        f"ダッシュボードを開くリンクです（{minutes}分間・1回限り有効）。他の人には送らないでください。\n"
        f"{_base_url()}/login/{token}",
        private=True,
    )


def calendar(ctx: Context, args: str) -> Reply:
    token = calendar_token(ctx.session, ctx.contact, now=ctx.now)
    return Reply(
        "担当の協定の会議と期限を、お使いのカレンダー（Outlook・Google カレンダー・Garoon など）に"
        "「URLで追加（購読）」できます。会議の変更・中止も反映されます。他の人には知らせないでください。\n"
        f"{_base_url()}/calendar/{token}.ics",
        private=True,
    )
