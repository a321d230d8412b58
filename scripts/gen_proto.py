#!/usr/bin/env python
"""Generate the Python protobuf modules Connex needs (run before tests and builds).

Compiles every ``.proto`` under ``src/connex/exchanges/mexc/proto/`` with the protoc that
ships in ``grpcio-tools`` (``python -m grpc_tools.protoc``). The include root is ``src``,
so each file is registered under its package path (e.g.
``connex/exchanges/mexc/proto/mexc_push.proto``) and any import between our ``.proto``
files becomes an absolute Python import (``from connex.exchanges.mexc.proto import …``)
instead of protoc's flat ``import x_pb2``. Output: ``*_pb2.py`` and ``*_pb2.pyi`` next to
each ``.proto``; they are build products, listed in ``.gitignore``, never committed.

Usage::

    python scripts/gen_proto.py           # generate (idempotent, ~0.1 s)
    python scripts/gen_proto.py --check   # exit 1 if a generated module is missing or stale

The simulator does not use these modules: its MEXC venue has its own hand-written
protobuf encoder (``connex/sim/venues/mexc.py``), so the two sides stay independent.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PROTO_DIRS = [SRC / "connex" / "exchanges" / "mexc" / "proto"]


def proto_files() -> list[Path]:
    return sorted(p for d in PROTO_DIRS for p in d.glob("*.proto"))


def outputs(proto: Path) -> list[Path]:
    stem = proto.with_suffix("")
    return [stem.with_name(stem.name + "_pb2.py"), stem.with_name(stem.name + "_pb2.pyi")]


def stale(proto: Path) -> bool:
    return any(not o.exists() or o.stat().st_mtime < proto.stat().st_mtime for o in outputs(proto))


def generate(files: list[Path]) -> None:
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{SRC}",
        f"--python_out={SRC}",
        f"--pyi_out={SRC}",
        *(str(f) for f in files),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr or result.stdout)
        raise SystemExit(f"protoc failed ({result.returncode}): {' '.join(cmd)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that outputs are fresh")
    args = ap.parse_args()
    files = proto_files()
    if not files:
        raise SystemExit(f"no .proto files under {', '.join(map(str, PROTO_DIRS))}")
    if args.check:
        bad = [f for f in files if stale(f)]
        for f in bad:
            print(f"stale or missing generated code for {f.relative_to(ROOT)}", file=sys.stderr)
        return 1 if bad else 0
    generate(files)
    for f in files:
        print(" ".join(str(o.relative_to(ROOT)) for o in outputs(f)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
