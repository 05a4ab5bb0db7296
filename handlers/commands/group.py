"""このグループを協定に登録: a contact ties the group (LINE) or channel (Slack) they type in to one
of their agreements, so its digests go there. And what the bot says when it joins or leaves one.

The tie is the agreement's `line_group` / `slack_channel`, the same field the agreement file
sets; the answer shows the id, so the secretariat can write it into the file too (an import
sets the field from the file).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from handlers.agreements import pick_agreement
from handlers.context import Context
from handlers.messages import Reply
from handlers.text import short_title
from storage.models import Agreement

GROUP_COMMAND = "このグループを協定に登録"
FIELD = {"line": "line_group", "slack": "slack_channel"}


def group_intro(group_id: str) -> Reply:
    """The bot's first words in a group it was invited to (not private: it is for everyone)."""
    return Reply(
        "Renkei です。包括連携協定の予定・活動・KPIをお手伝いします。\n"
        f"このグループに週次ダイジェストを届けるには、協定の担当者がここで「{GROUP_COMMAND}」と"
        "送ってください。\n"
        "個人あての回答（予定の一覧や登録コードなど）は、グループではなく1対1のトークでお送りします。\n"
        f"グループID：{group_id}"
    )


def tie_group(ctx: Context, args: str) -> Reply:
    chat_id = ctx.incoming.chat_id
    field = FIELD.get(ctx.incoming.platform)
    if chat_id is None or field is None:
        return Reply(
            f"「{GROUP_COMMAND}」は、ダイジェストを届けたいLINEグループ（またはSlackのチャンネル）の中で"
            "送ってください。",
            private=True,
        )
    picked = pick_agreement(
        ctx, args, command=GROUP_COMMAND, question="どの協定をこのグループに登録しますか？"
    )
    if isinstance(picked, Reply):
        return picked
    agreement, _ = picked
    before = getattr(agreement, field)
    title = short_title(agreement.title)
    if before == chat_id:
        return Reply(f"このグループは「{title}」に登録済みです。週次ダイジェストはここに届きます。")
    setattr(agreement, field, chat_id)
    ctx.session.flush()
    moved = "（これまでの送り先には届かなくなります）" if before else ""
    return Reply(
        f"このグループを「{title}」に登録しました。週次ダイジェストはここに届きます{moved}。\n"
        f"協定ファイルにも {field}: {chat_id} と書いておくと、次の取り込みでも保たれます。"
    )


def untie_group(session: Session, *, platform: str, chat_id: str) -> int:
    """The bot left (or was removed from) the group: no agreement sends there any more."""
    column = getattr(Agreement, FIELD[platform])
    result = session.execute(update(Agreement).where(column == chat_id).values({column: None}))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def tied_agreements(session: Session, *, platform: str, chat_id: str) -> set[int]:
    """Ids of the agreements whose digests go to this group or channel."""
    field = FIELD.get(platform)
    if field is None:
        return set()
    return set(session.scalars(select(Agreement.id).where(getattr(Agreement, field) == chat_id)))
