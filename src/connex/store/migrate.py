"""Versioned schema migrations.

Each migration is a file ``migrations/NNNN_name.sql`` (``NNNN`` = its version, counting
from 1 without gaps). ``apply_migrations`` runs every migration newer than the version
recorded in the ``schema_version`` table, each one in its own transaction together with
the row that records it, so a crash mid-migration leaves the previous version intact.
Migrations are never edited after release: a change is a new file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

__all__ = ["MIGRATIONS_DIR", "Migration", "apply_migrations", "current_version", "load_migrations"]

MIGRATIONS_DIR = Path(str(resources.files("connex.store") / "migrations"))
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema migration: ``version``, ``name`` and its SQL text."""

    version: int
    name: str
    sql: str


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """Read ``NNNN_name.sql`` files, sorted by version; gaps or duplicates raise ``ValueError``."""
    directory = directory or MIGRATIONS_DIR
    found: list[Migration] = []
    for p in sorted(directory.iterdir()):
        m = _NAME.match(p.name)
        if m is None:
            continue
        found.append(Migration(int(m.group(1)), m.group(2), p.read_text(encoding="utf-8")))
    for i, mig in enumerate(found, start=1):
        if mig.version != i:
            raise ValueError(
                f"migrations must be numbered 1..n without gaps; got {mig.version} at {i}"
            )
    return found


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest applied migration version (0 for a new database)."""
    _ensure_table(con)
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def apply_migrations(
    con: duckdb.DuckDBPyConnection,
    *,
    target: int | None = None,
    migrations: list[Migration] | None = None,
) -> list[int]:
    """Apply pending migrations up to ``target`` (default: all); return the versions applied.

    Raises ``ValueError`` if the database is newer than this code knows (downgrades are
    not supported).
    """
    migrations = load_migrations() if migrations is None else migrations
    latest = migrations[-1].version if migrations else 0
    target = latest if target is None else target
    if target > latest:
        raise ValueError(f"no migration {target}; latest is {latest}")
    have = current_version(con)
    if have > latest:
        raise ValueError(f"database schema version {have} is newer than this Connex ({latest})")
    applied: list[int] = []
    for mig in migrations:
        if mig.version <= have or mig.version > target:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(mig.sql)
            con.execute(
                "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
                [mig.version, mig.name],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(mig.version)
    return applied
