"""The web app, platform adapters, senders, scheduler and CLI. `bot:create_app()` is the WSGI app."""

from bot.app import create_app

__all__ = ["create_app"]
