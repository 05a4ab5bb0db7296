"""Processes the benchmarks talk to: gunicorn and the API stub, each serving a socket on a random
127.0.0.1 port that we open first and hand over, so there is no port to guess and no race."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60.0


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


@contextmanager
def _process(
    args: list[str], sock: socket.socket, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, pass_fds=[sock.fileno()], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        sock.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until the server answers; a benchmark may poll, a unit test would not."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as res:
                if res.status < 500:
                    return
        except urllib.error.HTTPError as err:
            if err.code == 503:  # /healthz: the clock's heartbeat is stale, the server is up
                return
            time.sleep(0.1)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not ready after {STARTUP_TIMEOUT:.0f} s; see {log}")


@contextmanager
def stub(log: Path, *, push_per_s: float | None = None) -> Iterator[Stub]:
    sock = listening_socket()
    args = [sys.executable, "-m", "bench.stub", "--fd", str(sock.fileno())]
    if push_per_s is not None:
        args += ["--push-per-s", str(push_per_s)]
    url = base_url(sock)
    with _process(args, sock, dict(os.environ), log) as proc:
        _wait_ready(f"{url}/__stats", proc, log)
        yield Stub(url)


@contextmanager
def gunicorn(app: str, env: dict[str, str], log: Path, *, workers: int) -> Iterator[str]:
    """`app` served by gunicorn's sync workers, as the Procfile's web process; yields its URL."""
    sock = listening_socket()
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"fd://{sock.fileno()}",
        "--workers", str(workers),
        "--backlog", "2048",
        "--timeout", "60",
        "--log-level", "warning",
        app,
    ]  # fmt: skip
    url = base_url(sock)
    with _process(args, sock, {**os.environ, **env}, log) as proc:
        _wait_ready(f"{url}/healthz", proc, log)
        yield url


class Stub:
    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.loads(res.read())  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        return self._call("/__stats")

    def reset(self) -> None:
        self._call("/__reset", {})

    def configure(self, *, push_per_s: float) -> None:
        self._call("/__config", {"push_per_s": push_per_s})
