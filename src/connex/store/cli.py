"""Functions behind ``connex db migrate | stats | export`` (the CLI module wires them).

Each returns a process exit code: 0 on success, 1 on a database error, 2 on bad input.
"""

from __future__ import annotations

import json
import os
import sys

import duckdb

from .db import Store

__all__ = ["db_export", "db_migrate", "db_stats"]


def _err(msg: str) -> None:
    print(f"error: {msg}", file=sys.stderr)


def db_migrate(path: str | os.PathLike[str]) -> int:
    """Create/upgrade the database at ``path`` to the latest schema version."""
    try:
        with Store(path) as store:
            before = store.schema_version()
            applied = store.migrate()
            after = store.schema_version()
    except (duckdb.Error, ValueError) as e:
        _err(str(e))
        return 1
    if applied:
        print(
            f"{path}: schema {before} -> {after} (applied {', '.join(f'{v:04d}' for v in applied)})"
        )
    else:
        print(f"{path}: schema {after}, up to date")
    return 0


def db_stats(path: str | os.PathLike[str], as_json: bool = False) -> int:
    """Print row counts and time ranges per table (``as_json``: one JSON object)."""
    if not os.path.exists(path):
        _err(f"no database at {path}")
        return 2
    try:
        with Store(path) as store:
            st = store.stats()
    except duckdb.Error as e:
        _err(str(e))
        return 1
    if as_json:
        print(json.dumps(st, sort_keys=True))
        return 0
    print(
        f"{st['path']}: schema {st['schema_version']}/{st['latest_version']}, "
        f"{st['file_bytes']} bytes"
    )
    for name, t in st["tables"].items():
        line = f"  {name:<16} {t['rows']:>10} rows"
        if t.get("by_exchange"):
            line += "  " + ", ".join(f"{k}={v}" for k, v in t["by_exchange"].items())
        print(line)
    return 0


def db_export(path: str | os.PathLike[str], out_dir: str | os.PathLike[str]) -> int:
    """Export all tables to Parquet under ``out_dir`` (partitioned by exchange and date)."""
    if not os.path.exists(path):
        _err(f"no database at {path}")
        return 2
    try:
        with Store(path) as store:
            files = store.export_parquet(out_dir)
    except (duckdb.Error, OSError) as e:
        _err(str(e))
        return 1
    print(f"wrote {len(files)} Parquet files under {out_dir}")
    return 0
