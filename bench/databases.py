"""Where the benchmark data lives: SQLite files under bench/results/, and on PostgreSQL two
schemas of our own (bench_full, bench_tenth) in the database DATABASE_URL names.

Only those schemas are ever dropped, so pointing DATABASE_URL at a database that holds other
data leaves that data alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import upgrade

RESULTS = Path(__file__).resolve().parent / "results"
SCHEMAS = {"full": "bench_full", "tenth": "bench_tenth"}


@dataclass(frozen=True)
class Database:
    kind: str  # sqlite | postgresql
    urls: dict[str, str]  # variant (full | tenth) -> SQLAlchemy URL, as the app takes it

    @property
    def full(self) -> str:
        return self.urls["full"]

    @property
    def tenth(self) -> str:
        return self.urls["tenth"]


def sqlite_database(root: Path = RESULTS / "db") -> Database:
    return Database("sqlite", {v: f"sqlite:///{root / f'{v}.db'}" for v in SCHEMAS})


def postgres_database(database_url: str | None = None) -> Database | None:
    """The PostgreSQL target when DATABASE_URL (or the argument) names one, else None."""
    url = database_url if database_url is not None else os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres://")):
        return None
    base = make_url(url.replace("postgres://", "postgresql://", 1)).set(
        drivername="postgresql+psycopg"
    )
    return Database(
        "postgresql",
        {
            v: base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
            for v, schema in SCHEMAS.items()
        },
    )


def recreate(url: str) -> None:
    """An empty, migrated database at `url` (the Alembic migrations own the schema)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        schema = schema_of(url)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    upgrade(url)


def schema_of(url: str) -> str:
    options = make_url(url).query.get("options", "")
    assert isinstance(options, str) and options.startswith("-csearch_path=")
    return options.removeprefix("-csearch_path=")
