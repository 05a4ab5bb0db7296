"""取消 / undo: take back one's own last entry, within 10 minutes; キャンセル: drop a question."""

from __future__ import annotations

from handlers.changes import UNDO_WINDOW, undo_last
from handlers.context import Context
from handlers.messages import Reply
from handlers.questions import close


def undo(ctx: Context, args: str) -> Reply:
    entry = undo_last(ctx)
    if entry is None:
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        return Reply(
            f"取り消せる入力がありません（取り消せるのは、ご自身の{minutes}分以内の入力です）。"
        )
    return Reply(f"取り消しました：{entry.summary}")


def cancel(ctx: Context, args: str) -> Reply:
    close(ctx)
    return Reply("わかりました。何も変更していません。")
