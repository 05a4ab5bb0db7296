"""登録 CODE: link this chat account to a contact with a one-time code."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.messages import Incoming, Reply
from storage.identities import (
    MAX_WRONG_CODES,
    clear_wrong_codes,
    locked_out_until,
    record_wrong_code,
    redeem_invite,
    void_invite,
)

log = logging.getLogger(__name__)

USAGE = "登録コードを続けて送ってください。例：「登録 ABC123」"


def link(session: Session, incoming: Incoming, args: str, *, now: datetime) -> Reply:
    """Works for strangers too: this is how they become contacts."""
    code = args.strip().split(" ")[0] if args.strip() else ""
    if not code:
        return Reply(USAGE, private=True)
    if incoming.platform == "local" and incoming.chat_id is None:
        return Reply("ローカルチャネルでは登録は不要です（--as で担当者を指定します）。")
    # Guessing is limited per account, in a group too (voiding there tells a live code apart).
    account = {"platform": incoming.platform, "external_id": incoming.user_id}
    if until := locked_out_until(session, **account, now=now):
        return _locked(until, now)
    if incoming.chat_id is not None:
        # Everyone in the group has read the code now: it must not link anyone.
        voided = void_invite(session, code=code, now=now)
        if not voided and (until := _wrong(session, incoming, now)):
            return _locked(until, now)
        return Reply(
            "登録コードはグループやチャンネルでは使えません。"
            + ("このコードは無効にしました。" if voided else "")
            + "事務局に新しいコードを依頼し、ボットとの1対1のトークで「登録 コード」と送ってください。"
        )
    contact = redeem_invite(session, code=code, **account, now=now)
    if contact is None:
        if until := _wrong(session, incoming, now):
            return _locked(until, now)
        return Reply(
            "登録コードが正しくないか、期限切れ・使用済みです。事務局に新しいコードを依頼してください。",
            private=True,  # a code typed in a channel is nobody else's business
        )
    clear_wrong_codes(session, **account)
    return Reply(
        f"{contact.name}さん、登録しました。これからよろしくお願いします。\n「ヘルプ」で使い方を表示します。",
        private=True,
    )


def _wrong(session: Session, incoming: Incoming, now: datetime) -> datetime | None:
    """Count a wrong code; the end of the lockout when this one starts it (logged)."""
    until = record_wrong_code(
        session, platform=incoming.platform, external_id=incoming.user_id, now=now
    )
    if until is not None:
        log.warning(
            "invite codes: %s account %s locked out until %s after %d wrong codes",
            incoming.platform,
            incoming.user_id,
            until.isoformat(),
            MAX_WRONG_CODES,
        )
    return until


def _locked(until: datetime, now: datetime) -> Reply:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return Reply(
        f"登録コードの入力に{MAX_WRONG_CODES}回続けて失敗したため、しばらく登録できません。"
        f"{minutes}分ほどたってからもう一度お試しいただくか、事務局に新しいコードを依頼してください。",
        private=True,
    )
