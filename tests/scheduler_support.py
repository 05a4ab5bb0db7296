"""Stand-ins for the LINE and Slack APIs that remember what a person was *shown*.

LINE: a push is shown once per `X-Line-Retry-Key`; the same key again is answered 409, as LINE
does. Slack: every chat.postMessage is shown; conversations.history answers from what was
posted, with metadata, so an in-doubt retry can look itself up. Both can be told to answer the
next requests with an error status (and Retry-After) or to hang past the client's timeout (the
request is taken, the answer never arrives in time: a lost answer). Threaded servers on
127.0.0.1, random ports. A hanging answer waits on an event that the fixture sets at the end,
so nothing in a test sleeps.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from bot.clock import ClockWorker
from bot.line import line_api
from bot.senders import LineSender, LocalSender, SlackSender, slack_sender_client
from config.demo import DEMO_FILE, render_demo
from storage.agreement_file import parse_agreement_file
from storage.db import transaction
from storage.importer import import_agreements
from storage.lease import make_guard
from storage.models import ChatIdentity, Contact

TOKYO = ZoneInfo("Asia/Tokyo")
CLIENT_TIMEOUT = 0.3  # seconds: how long a sender waits for a hanging stub
HANG_LIMIT = 5.0  # a hanging answer is released at the latest after this (or at teardown)
LINKS = {"tanaka": ("line", "Utanaka"), "sato": ("slack", "Usato"), "ito": ("slack", "Uito")}
SLACK_CHANNEL = "C0MINATO"
LINE_GROUP = "Cminatogroup"


@dataclass
class Fault:
    status: int | None = None  # answer with this status (nothing is shown)
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # take the request (shown), answer only after the client gave up
    error: str = ""  # Slack: answer 200 with ok=false and this error (nothing is shown)


@dataclass(frozen=True)
class Shown:
    to: str  # LINE user/group id, or Slack channel/user id
    subject: str  # the first line of the notification
    at: datetime  # when the platform took it (the test's clock)
    key: str  # the retry key (LINE) or the metadata key (Slack)


class _Stub:
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.faults: deque[Fault] = deque()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0

    def fail_next(
        self,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        hang: bool = False,
        error: str = "",
        times: int = 1,
    ) -> None:
        """The next `times` sends answer `status` (with Retry-After), or a Slack `error`, or
        hang past the client's timeout."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.faults.extend(Fault(status, headers, hang, error) for _ in range(times))

    def _fault(self) -> Fault | None:
        with self.lock:
            self.requests += 1
            return self.faults.popleft() if self.faults else None

    def _error(self, fault: Fault, body: dict[str, Any]) -> Response:
        return Response(
            json.dumps(body),
            status=fault.status or 500,
            headers=fault.headers,
            content_type="application/json",
        )

    def _hang(self) -> None:
        self.release.wait(HANG_LIMIT)


class LineStub(_Stub):
    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.accepted: dict[str, dict[str, Any]] = {}
        self.keys: list[str] = []  # the retry key of every request, in order
        self.conflicts = 0
        server.expect_request("/v2/bot/message/push", method="POST").respond_with_handler(
            self._push
        )

    @property
    def endpoint(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _push(self, request: Request) -> Response:
        key = request.headers.get("X-Line-Retry-Key") or "no-key"
        body = json.loads(request.get_data())
        self.keys.append(key)
        fault = self._fault()
        if fault is not None and fault.status:
            return self._error(fault, {"message": "stub says no"})
        with self.lock:
            if key in self.accepted:
                self.conflicts += 1
                return Response(
                    json.dumps({"message": "The retry key is already accepted"}),
                    status=409,
                    headers={"x-line-accepted-request-id": key},
                    content_type="application/json",
                )
            self.accepted[key] = {**body, "at": datetime.now(TOKYO)}
        if fault is not None and fault.hang:
            self._hang()
        return Response(
            json.dumps({"sentMessages": [{"id": "1", "quoteToken": "q"}]}),
            content_type="application/json",
        )

    def shown(self) -> list[Shown]:
        out = []
        for key, push in self.accepted.items():
            for subject in line_subjects(push["messages"]):
                out.append(Shown(push["to"], subject, push["at"], key))
        return out


def line_subjects(messages: list[dict[str, Any]]) -> list[str]:
    """The notifications in one push: each reminder bubble (it has buttons) and each text."""
    out = []
    for m in messages:
        if m["type"] == "text":
            first = m["text"].split("\n", 1)[0]
            if first.startswith("【"):
                out.append(first)
        elif m["type"] == "flex" and m["contents"]["type"] == "carousel":
            for bubble in m["contents"]["contents"]:
                if "footer" in bubble:
                    out.append(bubble["body"]["contents"][0]["text"])
    return out


class SlackStub(_Stub):
    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.posted: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        routes = {
            "/api/chat.postMessage": self._post,
            "/api/conversations.open": self._open,
            "/api/conversations.history": self._history,
            "/api/files.getUploadURLExternal": self._upload_url,
            "/api/files.completeUploadExternal": self._complete,
        }
        for path, handler in routes.items():
            server.expect_request(path).respond_with_handler(handler)
        server.expect_request("/upload", method="POST").respond_with_handler(self._upload)
        server.expect_request("/api/auth.test").respond_with_json({"ok": True, "user_id": "UBOT"})

    @property
    def api_url(self) -> str:
        return self.server.url_for("/api/")

    @staticmethod
    def _args(request: Request) -> dict[str, Any]:
        if request.mimetype == "application/json":
            return dict(json.loads(request.get_data()))
        return {**request.args.to_dict(), **request.form.to_dict()}

    def _post(self, request: Request) -> Response:
        args = self._args(request)
        fault = self._fault()
        if fault is not None and fault.error:
            body = {"ok": False, "error": fault.error}
            return Response(json.dumps(body), content_type="application/json")
        if fault is not None and fault.status:
            error = "ratelimited" if fault.status == 429 else "internal_error"
            return self._error(fault, {"ok": False, "error": error})
        channel = args["channel"]
        conversation = f"D{channel}" if channel.startswith("U") else channel
        with self.lock:
            ts = f"{1700000000 + next(self._ids)}.000100"
            self.posted.append(
                {**args, "conversation": conversation, "ts": ts, "at": datetime.now(TOKYO)}
            )
        if fault is not None and fault.hang:
            self._hang()
        return Response(
            json.dumps({"ok": True, "channel": conversation, "ts": ts}),
            content_type="application/json",
        )

    def _open(self, request: Request) -> Response:
        users = self._args(request)["users"]
        return Response(
            json.dumps({"ok": True, "channel": {"id": f"D{users}"}}),
            content_type="application/json",
        )

    def _history(self, request: Request) -> Response:
        channel = self._args(request)["channel"]
        with self.lock:
            messages = [
                {"ts": p["ts"], "text": p.get("text", ""), "metadata": p.get("metadata")}
                for p in self.posted
                if p["conversation"] == channel
            ]
        return Response(
            json.dumps({"ok": True, "messages": messages[::-1], "has_more": False}),
            content_type="application/json",
        )

    def _upload_url(self, request: Request) -> Response:
        file_id = f"F{next(self._ids):06d}"
        url = self.server.url_for(f"/upload?file={file_id}")
        return Response(
            json.dumps({"ok": True, "upload_url": url, "file_id": file_id}),
            content_type="application/json",
        )

    def _upload(self, request: Request) -> Response:
        self.files[request.args["file"]] = request.get_data()
        return Response("OK", content_type="text/plain")

    def _complete(self, request: Request) -> Response:
        files = json.loads(self._args(request)["files"])
        return Response(
            json.dumps(
                {
                    "ok": True,
                    "files": [
                        {
                            "id": f["id"],
                            "title": f.get("title"),
                            "permalink": f"https://x/{f['id']}",
                        }
                        for f in files
                    ],
                }
            ),
            content_type="application/json",
        )

    def shown(self) -> list[Shown]:
        out = []
        for p in self.posted:
            key = ((p.get("metadata") or {}).get("event_payload") or {}).get("key", "")
            for subject in slack_subjects(p.get("blocks") or []):
                out.append(Shown(p["channel"], subject, p["at"], key))
        return out


def slack_subjects(blocks: list[dict[str, Any]]) -> list[str]:
    """The first section after each divider (and at the start) is a notification."""
    out, fresh = [], True
    for block in blocks:
        if block["type"] == "divider":
            fresh = True
        elif block["type"] == "section" and fresh:
            out.append(block["text"]["text"].split("\n", 1)[0])
            fresh = False
    return out


@pytest.fixture(scope="session")
def _threaded_stubs() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    servers = (
        HTTPServer(host="127.0.0.1", port=0, threaded=True),
        HTTPServer(host="127.0.0.1", port=0, threaded=True),
    )
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def line_stub(_threaded_stubs: tuple[HTTPServer, HTTPServer]) -> Iterator[LineStub]:
    server = _threaded_stubs[0]
    server.clear()
    stub = LineStub(server)
    yield stub
    stub.release.set()
    server.clear()


@pytest.fixture
def slack_stub(_threaded_stubs: tuple[HTTPServer, HTTPServer]) -> Iterator[SlackStub]:
    server = _threaded_stubs[1]
    server.clear()
    stub = SlackStub(server)
    yield stub
    stub.release.set()
    server.clear()


class RecordingLocal(LocalSender):
    """The local channel, remembering when each message was logged."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[datetime] = []

    def send(self, recipient: str, message: Any, *, retry_key: str | None = None) -> None:
        super().send(recipient, message, retry_key=retry_key)
        self.at.append(datetime.now(TOKYO))


def link(session: Any, *, now: datetime, links: dict[str, tuple[str, str]] = LINKS) -> None:
    ids = {k: i for k, i in session.execute(select(Contact.key, Contact.id))}
    for key, (platform, external) in links.items():
        session.add(
            ChatIdentity(
                platform=platform, external_id=external, contact_id=ids[key], linked_at=now
            )
        )


@dataclass
class Platforms:
    """The stubs and the local log; what tests use (they do not import this module)."""

    line: LineStub
    slack: SlackStub
    local: RecordingLocal
    workers: list[ClockWorker] = field(default_factory=list)
    channel = SLACK_CHANNEL
    group = LINE_GROUP
    links = LINKS
    tz = TOKYO
    link = staticmethod(link)

    def senders(self) -> dict[str, Any]:
        return {
            "line": LineSender(
                line_api(self.line.endpoint, "line-token"),
                public_base_url="https://renkei.example.jp",
                timeout=CLIENT_TIMEOUT,
            ),
            "slack": SlackSender(
                slack_sender_client(self.slack.api_url, "xoxb-test", timeout=CLIENT_TIMEOUT),
                public_base_url="https://renkei.example.jp",
            ),
            "local": self.local,
        }

    def shown(self) -> list[Shown]:
        local = [
            Shown(to, reply.text.split("\n", 1)[0], at, "")
            for (to, reply), at in zip(self.local.sent, self.local.at, strict=True)
        ]
        return self.line.shown() + self.slack.shown() + local

    def counts(self) -> Counter[tuple[str, str]]:
        """How often each (recipient, subject) was shown."""
        return Counter((s.to, s.subject) for s in self.shown())

    def worker(self, app: Flask, *, holder: str = "clock-1", **kw: Any) -> ClockWorker:
        """A clock process on the app's database, sending to the stubs (stopped at the end of
        the test, so no lock outlives it)."""
        r = app.extensions["renkei"]
        clock = ClockWorker(
            sessions=r.sessions,
            guard=make_guard(r.engine, r.sessions, holder=holder),
            senders=self.senders(),
            tz=TOKYO,
            **kw,
        )
        self.workers.append(clock)
        return clock

    @staticmethod
    def load_minato(app: Flask, *, today: date) -> None:
        """Only the demo's みなと市 × アクメ agreement, with a Slack channel and a LINE group,
        and chat accounts: tanaka on LINE, sato and ito on Slack, suzuki none (local)."""
        r = app.extensions["renkei"]
        text = render_demo(DEMO_FILE.read_text(encoding="utf-8"), today=today)
        data = parse_agreement_file(text)
        minato = next(a for a in data.agreements if a.key == "minato-acme")
        data.agreements = [
            minato.model_copy(update={"slack_channel": SLACK_CHANNEL, "line_group": LINE_GROUP})
        ]
        now = datetime.combine(today, datetime.min.time(), TOKYO)
        with transaction(r.sessions) as session:
            import_agreements(session, data, tz=TOKYO, now=now)
            link(session, now=now)


@pytest.fixture
def platforms(line_stub: LineStub, slack_stub: SlackStub) -> Iterator[Platforms]:
    found = Platforms(line_stub, slack_stub, RecordingLocal())
    yield found
    for clock in found.workers:
        clock.stop()
