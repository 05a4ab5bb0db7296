"""事務局's pages to run agreements without a shell."""

from __future__ import annotations

from flask import Blueprint


def register(web: Blueprint) -> None:
    pass
