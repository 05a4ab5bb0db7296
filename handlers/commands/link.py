"""登録 CODE: link this chat account to a contact with a one-time code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from handlers.messages import Incoming, Reply
from storage.identities import redeem_invite, void_invite

USAGE = "登録コードを続けて送ってください。例：「登録 ABC123」"


def link(session: Session, incoming: Incoming, args: str, *, now: datetime) -> Reply:
    """Works for strangers too: this is how they become contacts."""
    code = args.strip().split(" ")[0] if args.strip() else ""
    if not code:
        return Reply(USAGE, private=True)
    if incoming.chat_id is not None:
        # Everyone in the group has read the code now: it must not link anyone.
        voided = void_invite(session, code=code, now=now)
        return Reply(
            "登録コードはグループやチャンネルでは使えません。"
            + ("このコードは無効にしました。" if voided else "")
            + "事務局に新しいコードを依頼し、ボットとの1対1のトークで「登録 コード」と送ってください。"
        )
    if incoming.platform == "local":
        return Reply("ローカルチャネルでは登録は不要です（--as で担当者を指定します）。")
    contact = redeem_invite(
        session, code=code, platform=incoming.platform, external_id=incoming.user_id, now=now
    )
    if contact is None:
        return Reply(
            "登録コードが正しくないか、期限切れ・使用済みです。事務局に新しいコードを依頼してください。",
            private=True,  # a code typed in a channel is nobody else's business
        )
    return Reply(
        f"{contact.name}さん、登録しました。これからよろしくお願いします。\n「ヘルプ」で使い方を表示します。",
        private=True,
    )
