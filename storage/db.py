"""Engine, sessions and migrations. Nothing connects at import time."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, Executable, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a SQLite writer waits for the lock: well under gunicorn's 30 s worker timeout, so a
# request that cannot get the database fails cleanly (503, the platform redelivers) instead of
# being killed with its worker.
BUSY_TIMEOUT_SECONDS = 5


def make_engine(url: str, *, prepared_statements: int = 128) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout.

    hide_parameters: SQL errors are logged without their bound values, which hold what people
    typed (message texts, names, e-mail addresses). `prepared_statements`: how many SQLite
    keeps prepared per connection (the driver's default; the clock wants few, see
    bot/clock_main.py)."""
    engine: Engine
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(
            url,
            connect_args={
                "timeout": BUSY_TIMEOUT_SECONDS,
                "check_same_thread": False,
                "cached_statements": prepared_statements,
            },
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emitting it ourselves makes
        # SQLite take the write lock at the start, so concurrent writers wait instead of
        # failing halfway. Read-only work (see `read_only`) begins deferred and blocks nobody.
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    event.listen(engine, "before_cursor_execute", _refuse_writes)
    return engine


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get("read_only", False):
        conn.exec_driver_sql("BEGIN")
    else:
        _begin_immediate(conn)


# SQLite's own busy handler sleeps 1, 2, 5, 10, 15… ms between tries, long beside what a chat
# message holds the write lock for (its event claim: a fifth of a millisecond): two web workers
# spent a sixth of their wall time beginning transactions (py-spy), where those sleeps are. Waiting here, the next writer starts within a
# tenth of a millisecond or so of the lock's release.
_FIRST_WAIT_S, _LONGEST_WAIT_S = 0.0001, 0.002


def _begin_immediate(conn: Any) -> None:
    """BEGIN IMMEDIATE, retried with short sleeps for up to BUSY_TIMEOUT_SECONDS; the last try
    (or any error but a lock) goes through SQLAlchemy, so it fails as its OperationalError."""
    raw = conn.connection.dbapi_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    wait = _FIRST_WAIT_S
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    break
            time.sleep(wait)
            wait = min(wait * 2, _LONGEST_WAIT_S)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook, not the driver, decide when a transaction starts.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    # In WAL mode NORMAL never corrupts the file; it syncs at checkpoints instead of at every
    # commit, so the write lock is held for microseconds, not an fsync. What it can lose is the
    # last transactions before a power cut (not a process crash).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Every write that can move a reminder is recorded for the planner's index (its listeners).
    import storage.plan_index  # noqa: F401 - registers the session events

    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def read_only(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for long reads: on SQLite it does not take the write lock, so chat messages
    are not kept waiting behind, say, a planning run. Nothing written in it is committed."""
    with factory(bind=factory.kw["bind"].execution_options(read_only=True)) as session:
        yield session
        session.rollback()


class WouldWrite(Exception):
    """A statement that writes was about to run in `reads_first`: redo the work in
    `transaction`."""


@contextmanager
def reads_first(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction that may only read: the first INSERT, UPDATE or DELETE (a flush included)
    raises `WouldWrite` before it reaches the database, and so does anything left unflushed at
    the end. Most chat messages only read; on SQLite they then never take the write lock, so
    two workers answer them side by side instead of one after the other. Writes handed to
    `write_blind` are kept in `session.info[BLIND_WRITES]` for the caller's next transaction."""
    bind = factory.kw["bind"].execution_options(read_only=True, refuse_writes=True)
    with factory(bind=bind) as session:
        yield session
        session.flush()  # what a handler added but nothing flushed yet must raise too
        session.rollback()


BLIND_WRITES = "renkei.blind_writes"


def write_blind(session: Session, statement: Executable) -> None:
    """Run a write that depends on nothing the transaction read (a DELETE by key): at once, or
    in `reads_first` kept for the transaction that follows (the one that claims the event).
    Closing a chat's open question is one: 予定 from someone who left a question unanswered
    would otherwise be redone whole as a write."""
    if session.get_bind().get_execution_options().get("refuse_writes"):
        session.info.setdefault(BLIND_WRITES, []).append(statement)
    else:
        session.execute(statement)


def _refuse_writes(
    conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    if conn.get_execution_options().get("refuse_writes") and _WRITES.match(statement):
        raise WouldWrite(statement.split(None, 1)[0])


_WRITES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.I)


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def ping(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar() == 1


def no_tables(exc: BaseException) -> bool:
    """A database the migrations never ran on: SQLite's "no such table", PostgreSQL's
    undefined_table (SQLSTATE 42P01)."""
    orig = getattr(exc, "orig", None)
    return "no such table" in str(orig) or getattr(orig, "sqlstate", None) == "42P01"
