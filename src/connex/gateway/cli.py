"""Entry points for the ``connex serve`` and ``connex compare`` commands (return exit codes)."""

from __future__ import annotations

import json
import sys
from typing import Any

from .serve import serve_command

__all__ = ["compare_command", "serve_command"]


def compare_command(
    config_path: str | None, duration: float = 10.0, depth: int = 20, as_json: bool = True
) -> int:
    """Compare direct connectors with the gateway (``CONNEX_WS_URL``/``CONNEX_API_KEY``).

    Prints the report (JSON) and returns 0 when every compared book matched, else 1.
    """
    from connex.client.compare import compare_command as run

    report: dict[str, Any] = run(config_path, duration=duration, depth=depth)
    if as_json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for name, b in report["books"].items():
            print(
                f"{name}: {b['equal']}/{b['compared']} equal, {b['mismatched']} mismatched",
                file=sys.stdout,
            )
        for ex, lat in report["latency_ms"].items():
            p50, p99, n = lat["p50"], lat["p99"], lat["samples"]
            print(f"{ex}: gateway adds p50 {p50:.2f} ms, p99 {p99:.2f} ms ({n} samples)")
    return 0 if report["ok"] else 1
