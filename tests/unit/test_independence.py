"""The simulator must never import the connectors (DESIGN.md rule 5), and the sans-I/O
layers must not import asyncio or read the clock."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CLOCK = re.compile(
    r"\btime\.(time|time_ns|monotonic|monotonic_ns|perf_counter)\(|\bdatetime\.(now|utcnow)\(|\bdate\.today\("
)
SRC = Path(__file__).resolve().parents[2] / "src" / "connex"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:
                # resolve relative imports against the file's package
                pkg = path.relative_to(SRC.parent).with_suffix("").parts[: -node.level]
                mod = ".".join((*pkg, mod)) if mod else ".".join(pkg)
            names.append(mod)
            names.extend(f"{mod}.{a.name}" for a in node.names)
    return names


def _py_files(sub: str) -> list[Path]:
    files = sorted((SRC / sub).rglob("*.py"))
    assert files, f"no python files under {sub}"
    return files


def test_simulator_never_imports_connectors() -> None:
    offenders = {
        str(p.relative_to(SRC)): [n for n in _imports(p) if n.startswith("connex.exchanges")]
        for p in _py_files("sim")
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"connex.sim imports connectors: {offenders}"


def test_the_check_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    # guard against a check that cannot fail: a planted import must be seen
    planted = SRC / "sim" / "_planted_for_test.py"
    planted.write_text("from ..exchanges import binance\nimport connex.exchanges.okx\n")
    try:
        names = _imports(planted)
    finally:
        planted.unlink()
    assert "connex.exchanges" in names and "connex.exchanges.okx" in names


def test_sans_io_layers_do_not_use_asyncio_or_the_clock() -> None:
    bad: dict[str, list[str]] = {}
    for sub in ("exchanges", "book", "model"):
        for p in _py_files(sub):
            if "/proto/" in str(p) or p.name.endswith("_pb2.py"):
                continue
            names = _imports(p)
            hits = [
                n
                for n in names
                if n in ("asyncio", "time", "aiohttp", "httpx", "socket")
                or n.startswith(("asyncio.", "aiohttp.", "httpx."))
            ]
            text = p.read_text()
            if CLOCK.search(text):
                hits.append("reads the clock")
            if hits:
                bad[str(p.relative_to(SRC))] = hits
    assert not bad, f"sans-I/O modules doing I/O: {bad}"


def test_clock_pattern_catches_clock_reads_only() -> None:
    assert CLOCK.search("now = time.time_ns()") and CLOCK.search("datetime.now(tz)")
    assert not CLOCK.search("def _liquidation_time_ns(m):")


def test_book_and_model_import_nothing_above_them() -> None:
    for p in _py_files("model"):
        assert not [
            n for n in _imports(p) if n.startswith("connex.") and not n.startswith("connex.model")
        ], p
    for p in _py_files("book"):
        assert not [
            n
            for n in _imports(p)
            if n.startswith("connex.") and not n.startswith(("connex.model", "connex.book"))
        ], p
