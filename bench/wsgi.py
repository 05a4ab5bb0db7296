"""What gunicorn serves in the benchmarks: Renkei's own factory, and the bare baseline.

gunicorn 'bench.wsgi:renkei()'   # the real app, its clock set to the data set's Monday
gunicorn 'bench.wsgi:bare()'     # only verifies the LINE signature and answers 200
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, Response, jsonify, request
from linebot.v3.webhook import SignatureValidator

from bot.app import create_app
from config import load_settings


def data_set_clock() -> Callable[[], datetime]:
    """Real time flowing, but starting from BENCH_NOW: the data set is dated around that day."""
    anchor = datetime.fromisoformat(os.environ["BENCH_NOW"])
    started = time.monotonic()
    return lambda: anchor + timedelta(seconds=time.monotonic() - started)


def renkei() -> Flask:
    return create_app(load_settings(), clock=data_set_clock())


def bare() -> Flask:
    """The floor: the same server and client, the same signature check, nothing else."""
    app = Flask("bare")
    validator = SignatureValidator(os.environ["LINE_CHANNEL_SECRET"])

    @app.post("/line/webhook")
    def webhook() -> tuple[Response, int]:
        body = request.get_data(as_text=True)
        if not validator.validate(body, request.headers.get("X-Line-Signature", "")):
            return jsonify(error="invalid signature"), 400
        return jsonify(status="ok"), 200

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return jsonify(status="ok"), 200

    return app
