"""The secretariat's web: pages, exports and calendar feeds, beside the chat adapters.

Views read through the same queries and agreement facts that 状況 and 引継ぎ use
(`handlers.agreement_facts`, `storage.due`, `storage.kpi_progress`); templates only show.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask

from bot.web import auth, calendar, exports, manage, new_agreement, pages
from bot.web.filters import register_filters
from config.settings import Settings, secret_key_of

SESSION_LIFETIME = timedelta(hours=10)  # a working day


def init_web(app: Flask, settings: Settings) -> None:
    """Session cookies and the blueprint; the webhooks keep their own signatures, no CSRF."""
    app.secret_key = secret_key_of(settings)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_NAME="renkei_session",
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    web = Blueprint(
        "web",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/web",
    )
    auth.register(web)
    pages.register(web)
    exports.register(web)
    calendar.register(web)
    manage.register(web)
    new_agreement.register(web)
    register_filters(web)
    app.register_blueprint(web)
