"""Bulk loading: SQLAlchemy Core executemany batches on SQLite, COPY through psycopg on PostgreSQL.

Both variants (full and tenth) are written in one pass over the generator, so they hold the
very same rows wherever the tenth keeps a row.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, create_engine, text

from bench.databases import Database, recreate, schema_of
from bench.dataset import Spec, generate
from storage.models import Base

BATCH = 20_000


class _Writer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.kind = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.engine = create_engine(url)
        self.conn: Connection = self.engine.connect()
        if self.kind == "sqlite":
            # A throw-away load: no fsync, no foreign-key checks (the generator keeps them).
            self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
            self.conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.counts: Counter[str] = Counter()

    def add(self, table: str, row: dict[str, Any]) -> None:
        rows = self.pending.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # Parents first, whatever filled up first: the foreign keys are checked on PostgreSQL.
        for name in [t.name for t in Base.metadata.sorted_tables]:
            rows = self.pending.pop(name, [])
            if not rows:
                continue
            if self.kind == "sqlite":
                self.conn.execute(Base.metadata.tables[name].insert(), rows)
            else:
                self._copy(name, rows)
            self.conn.commit()
            self.counts[name] += len(rows)

    def _copy(self, table: str, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        json_cols = {c for c in columns if isinstance(rows[0][c], dict | list)}
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        names = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        json.dumps(row[c], ensure_ascii=False) if c in json_cols else row[c]
                        for c in columns
                    ]
                )

    def finish(self) -> None:
        self.flush()
        if self.kind == "postgresql":
            schema = schema_of(self.url)
            for table in Base.metadata.sorted_tables:
                if "id" in table.c and table.c.id.primary_key:
                    # Explicit ids were copied in; the app's next insert must not collide.
                    self.conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{schema}\".\"{table.name}\"', 'id'), "
                            f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                        )
                    )
            self.conn.commit()
            # What autovacuum would do after a load this size; the planner needs the figures.
            self.conn.exec_driver_sql("ANALYZE")
            self.conn.commit()
        # SQLite is left without ANALYZE, as the app leaves it in production.
        self.conn.close()
        self.engine.dispose()


def build(
    db: Database, spec: Spec, *, say: Callable[[str], None] = print
) -> dict[str, dict[str, int]]:
    """(Re)create both variants of `db` and fill them; returns the row counts per variant."""
    started = time.perf_counter()
    for url in db.urls.values():
        recreate(url)
    full, tenth = _Writer(db.full), _Writer(db.tenth)
    for table, row, in_tenth in generate(spec):
        full.add(table, row)
        if in_tenth:
            tenth.add(table, row)
    full.finish()
    tenth.finish()
    rows = sum(full.counts.values()) + sum(tenth.counts.values())
    say(f"  {db.kind}: loaded {rows:,} rows in {time.perf_counter() - started:.1f} s")
    return {"full": dict(full.counts), "tenth": dict(tenth.counts)}
