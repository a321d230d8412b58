"""``connex replay``: replay a recording and print its summary.

The lead wires ``replay_command`` into ``connex.cli``; it is a plain function so it can
be tested without the CLI framework.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

import orjson

from connex.model.errors import ConnexError

from .replay import replay

__all__ = ["replay_command"]


def replay_command(
    files: list[str],
    exchange: str,
    market: str | None = None,
    as_json: bool = False,
    *,
    out: TextIO | None = None,
) -> int:
    """Replay ``files`` through ``exchange``'s connector and print the summary.

    Returns the process exit code: 0 when the replay ran with no parse error and every
    book ended valid and never crossed, 1 when it ran but found problems, 2 when the
    recording could not be replayed at all (the reason goes to stderr).
    """
    stream = out if out is not None else sys.stdout
    try:
        result = replay(files, exchange, market)
    except (ConnexError, ValueError, OSError) as exc:
        print(f"connex replay: {exc}", file=sys.stderr)
        return 2
    summary = result.summary()
    if as_json:
        stream.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _print_rich(summary, stream)
    books = summary["books"].values()
    ok = summary["errors"]["parse_errors"] == 0 and all(
        b["valid"] and b["crossed"] == 0 for b in books
    )
    return 0 if ok else 1


def _print_rich(summary: dict[str, Any], stream: TextIO) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=stream, width=max(160, Console().width))
    err = summary["errors"]
    snaps = summary["snapshots"]
    console.print(
        f"[bold]{summary['exchange']}[/] replay of {', '.join(summary['files'])} "
        f"({summary['format']} format)"
    )
    console.print(
        f"frames {summary['frames']}  events "
        + ", ".join(f"{k} {v}" for k, v in summary["events"].items())
    )
    console.print(
        f"errors {err['count']} (parse {err['parse_errors']}, unsupported {err['unsupported']})"
        f"  snapshots used {snaps['used']}, unavailable {snaps['unavailable']}"
        f"  reconnects {summary['reconnects']}"
    )
    table = Table("book", "valid", "gaps", "resyncs", "crossed", "dups", "cksum ok/bad",
                  "best bid", "best ask", "depth b/a")  # fmt: skip
    for col in table.columns:
        col.no_wrap = True
    for symbol, b in summary["books"].items():
        bid = f"{b['best_bid'][0]} x {b['best_bid'][1]}" if b["best_bid"] else "-"
        ask = f"{b['best_ask'][0]} x {b['best_ask'][1]}" if b["best_ask"] else "-"
        table.add_row(
            symbol,
            "[green]yes[/]" if b["valid"] else "[red]no[/]",
            str(b["gaps"]),
            str(b["resyncs"]),
            str(b["crossed"]),
            str(b["duplicates"]),
            f"{b['checksums_verified']}/{b['checksum_failures']}",
            bid,
            ask,
            f"{b['depth']['bids']}/{b['depth']['asks']}",
        )
    console.print(table)
    seen: set[str] = set()
    for sample in err["samples"]:
        if sample["message"] not in seen:
            seen.add(sample["message"])
            console.print(f"[yellow]{escape(sample['kind'])}[/]: {escape(sample['message'])}")
