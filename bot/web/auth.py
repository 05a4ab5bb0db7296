"""Sign-in by one-time link, the session of a working day, and CSRF tokens on every form."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from bot.renkei import current_renkei as renkei
from storage.db import transaction
from storage.models import Contact
from storage.web_access import redeem_login_link

F = TypeVar("F", bound=Callable[..., Any])


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _check_csrf() -> Response | tuple[str, int] | None:
    if request.method != "POST":
        return None
    sent = request.form.get("csrf_token", "")
    kept = session.get("csrf", "")
    if not sent or not kept or not hmac.compare_digest(str(sent), str(kept)):
        return (
            render_template(
                "message.html",
                title="送信できませんでした",
                message="フォームの有効期限が切れたか、正しくない送信です。ページを開き直して、もう一度お試しください。",
            ),
            400,
        )
    return None


def signed_in(db: Session) -> Contact | None:
    """The signed-in contact, while their working-day session lasts and they are active."""
    contact_id, since = session.get("cid"), session.get("since")
    if not isinstance(contact_id, int) or not isinstance(since, str):
        return None
    r = renkei()
    started = datetime.fromisoformat(since)
    if r.clock() - started > current_app.permanent_session_lifetime:
        session.clear()
        return None
    contact = db.get(Contact, contact_id)
    return contact if contact is not None and contact.active else None


def login_required(view: F) -> F:
    """Runs the view with `g.db` (a read-write transaction) and `g.me` (the contact)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transaction(renkei().sessions) as db:
            me = signed_in(db)
            if me is None:
                return (
                    render_template(
                        "message.html",
                        title="サインインしてください",
                        message="チャットでボットに「ダッシュボード」と送ると、サインイン用のリンクが届きます（15分間・1回限り有効）。",
                    ),
                    401,
                )
            g.db, g.me = db, me
            return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def register(web: Blueprint) -> None:
    web.before_request(_check_csrf)
    web.app_context_processor(lambda: {"csrf_token": csrf_token})

    @web.get("/login/<token>")
    def login_page(token: str) -> str:
        # Redeemed only by the button: link previews (LINE, Slack) fetch the URL with GET.
        return render_template("login.html", token=token)

    @web.post("/login/<token>")
    def login(token: str) -> Response | tuple[str, int]:
        r = renkei()
        with transaction(r.sessions) as db:
            found = redeem_login_link(db, token, now=r.clock())
        if found is None:
            return (
                render_template(
                    "message.html",
                    title="リンクが使えません",
                    message="このリンクは期限切れか、すでに使われています。チャットで「ダッシュボード」と送り、新しいリンクを受け取ってください。",
                ),
                410,
            )
        session.clear()  # a fresh session: nothing carried over from before signing in
        session.permanent = True
        session["cid"] = found.contact_id
        session["since"] = r.clock().isoformat()
        csrf_token()
        return redirect(found.next_path)

    @web.post("/logout")
    def logout() -> Response:
        session.clear()
        return redirect("/signed-out")

    @web.get("/signed-out")
    def signed_out() -> str:
        return render_template(
            "message.html",
            title="サインアウトしました",
            message="またチャットの「ダッシュボード」からどうぞ。",
        )


def not_found() -> Any:
    abort(404)
