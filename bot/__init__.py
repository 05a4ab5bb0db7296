"""The web app, platform adapters, senders, scheduler and CLI. `bot:create_app()` is the WSGI app.

`create_app` is looked up on first use, so importing a module of this package (the clock's
`bot.clock_main`) does not build or import the web app."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from bot.app import create_app

        return create_app
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
