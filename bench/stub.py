"""A stand-in for api.line.me and slack.com/api, run as its own process on a socket it inherits.

It counts what a platform would bill or show: replies per reply token, pushes and their
recipients, Slack posts. Pushes are held to a rate limit (LINE's 2,000 requests per second by
default) and answered 429 with Retry-After beyond it; a retry key that was already accepted gets
LINE's 409. `GET /__stats` reports; `POST /__reset` clears; `POST /__config` sets the limit.

    python -m bench.stub --fd 5 [--push-per-s 2000]
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

NOT_SAVED_MARK = "システムの問題"  # bot/inbound.py's apology when a handler failed
LINE_PUSH_LIMIT = 2_000  # requests per second, LINE Messaging API push
SENT = {"sentMessages": [{"id": "461230966842064897", "quoteToken": "q"}]}


class _State:
    def __init__(self, push_per_s: float) -> None:
        self.lock = threading.Lock()
        self.push_per_s = push_per_s
        self.reset()

    def reset(self) -> None:
        self.reply_tokens: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.retry_keys: set[str] = set()
        self.recipients: Counter[str] = Counter()
        self.window_start = time.monotonic()
        self.window_count = 0

    def allow_push(self) -> bool:
        """A fixed one-second window, as LINE counts it; False means answer 429."""
        now = time.monotonic()
        if now - self.window_start >= 1:
            self.window_start, self.window_count = now, 0
        if self.window_count >= self.push_per_s:
            return False
        self.window_count += 1
        return True

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "reply_tokens": len(self.reply_tokens),
            "reply_tokens_answered_twice": sum(1 for n in self.reply_tokens.values() if n > 1),
            "push_recipients_distinct": len(self.recipients),
            "push_per_s_limit": self.push_per_s,
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    # Headers and body go out in two writes; with Nagle on, the client's delayed ACK holds the
    # body for 40 ms and the stub, not the bot, would be what gets measured.
    disable_nagle_algorithm = True
    state: _State

    def log_message(self, format: str, *args: Any) -> None:
        pass  # thousands of lines per second would measure the terminal, not the bot

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get_content_type() == "application/json":
            return json.loads(raw or b"{}")
        return {k: v[0] for k, v in parse_qs(raw.decode()).items()}  # Slack's form posts

    def do_GET(self) -> None:
        if self.path == "/__stats":
            with self.state.lock:
                stats = self.state.stats()
            self._answer(200, stats)
            return
        self._answer(404, {"message": "Not found"})

    def do_POST(self) -> None:
        if self.path.startswith("/upload"):  # files upload v2, step 2: the bytes themselves
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with self.state.lock:
                self.state.counts["slack_files_uploaded"] += 1
            self._answer(200, "OK")
            return
        body = self._body()
        with self.state.lock:  # count under the lock, answer outside it
            status, answer, headers = self._route(self.path.split("?", 1)[0], body)
        self._answer(status, answer, headers)

    def _route(self, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        st = self.state
        if path == "/__reset":
            st.reset()
            return 200, {}, {}
        if path == "/__config":
            st.push_per_s = float(body.get("push_per_s", st.push_per_s))
            return 200, {}, {}
        if path == "/v2/bot/message/reply":
            st.counts["replies"] += 1
            st.reply_tokens[str(body.get("replyToken"))] += 1
            if NOT_SAVED_MARK in json.dumps(body, ensure_ascii=False):
                st.counts["replies_apologising"] += 1
            return 200, SENT, {}
        if path in ("/v2/bot/message/push", "/v2/bot/message/multicast"):
            return self._push(body, multicast=path.endswith("multicast"))
        if path == "/api/auth.test":
            return 200, {"ok": True, "team_id": "T1", "user_id": "UBOT", "bot_id": "BBOT"}, {}
        if path == "/api/chat.postMessage":
            st.counts["slack_posts"] += 1
            if str(body.get("channel", "")).startswith("D"):  # a DM answer, not a channel post
                st.counts["slack_dm_posts"] += 1
            if NOT_SAVED_MARK in str(body):
                st.counts["slack_posts_apologising"] += 1
            return 200, {"ok": True, "channel": "D1", "ts": f"{time.time():.6f}"}, {}
        if path == "/api/files.getUploadURLExternal":  # files upload v2, step 1
            st.counts["slack_files"] += 1
            file_id = f"F{st.counts['slack_files']:08d}"
            host = self.headers.get("Host", "127.0.0.1")
            upload = f"http://{host}/upload?file={file_id}"
            return 200, {"ok": True, "upload_url": upload, "file_id": file_id}, {}
        if path == "/api/files.completeUploadExternal":  # step 3: the files, shared nowhere
            files = json.loads(body.get("files") or "[]")
            shown = [
                {"id": f["id"], "permalink": f"https://files.example/{f['id']}"} for f in files
            ]
            return 200, {"ok": True, "files": shown}, {}
        st.counts["unknown_paths"] += 1
        return 404, {"message": "Not found"}, {}

    def _push(self, body: dict[str, Any], *, multicast: bool) -> tuple[int, Any, dict[str, str]]:
        st = self.state
        if not st.allow_push():
            st.counts["push_429"] += 1
            return 429, {"message": "The API rate limit has been exceeded."}, {"Retry-After": "1"}
        key = self.headers.get("X-Line-Retry-Key")
        if key and key in st.retry_keys:
            st.counts["push_409_retried_key"] += 1
            return 409, {"message": "Already accepted"}, {"x-line-accepted-request-id": key}
        if key:
            st.retry_keys.add(key)
        to = body.get("to")
        recipients = to if multicast and isinstance(to, list) else [to]
        st.counts["push_requests"] += 1
        st.counts["push_billed"] += len(recipients)  # LINE bills per recipient of a request
        st.counts["push_bubbles"] += len(body.get("messages") or [])
        for r in recipients:
            st.recipients[str(r)] += 1
        return 200, SENT, {}


def serve(fd: int, push_per_s: float) -> None:
    state = _State(push_per_s)
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=fd)
    server.daemon_threads = True
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="a listening socket to serve on")
    parser.add_argument("--push-per-s", type=float, default=LINE_PUSH_LIMIT)
    args = parser.parse_args()
    serve(args.fd, args.push_per_s)


if __name__ == "__main__":
    main()
