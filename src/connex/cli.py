"""The ``connex`` command line.

Commands: demo | run | sim | record | replay | bench | db | serve | compare | heatmap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connex.model.errors import ConfigError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Connex: verified, normalized crypto market data.",
)
db_app = typer.Typer(no_args_is_help=True, help="DuckDB storage: migrate, stats, export.")
heatmap_app = typer.Typer(no_args_is_help=True, help="Liquidation heatmap tools.")
app.add_typer(db_app, name="db")
app.add_typer(heatmap_app, name="heatmap")
console = Console(stderr=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


def _fail(msg: str) -> typer.Exit:
    console.print(f"[red]error:[/] {msg}")
    return typer.Exit(2)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.command()
def demo(
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary instead of the live table.")
    ] = False,
    exchanges: Annotated[
        str | None, typer.Option(help="Comma-separated exchanges (default: all available).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port of the Connex API and dashboard.")] = 8000,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open a browser.")
    ] = False,
    rate: Annotated[float, typer.Option(help="Simulator updates per second per symbol.")] = 20.0,
    db: Annotated[Path, typer.Option(help="DuckDB file the demo writes.")] = Path(
        "data/demo.duckdb"
    ),
    verbose: Annotated[bool, typer.Option("-v")] = False,
) -> None:
    """Run everything against the built-in simulator: simulator -> connectors -> verified
    books -> aggregation -> DuckDB -> Connex API + dashboard, with a live table."""
    _setup_logging(verbose)
    from connex.demo import add_demo_feeds, demo_exchanges
    from connex.live import run_live
    from connex.runtime import Runner
    from connex.sim import SimServer
    from connex.stack import Stack

    chosen = demo_exchanges(exchanges.split(",") if exchanges else None)
    if not chosen:
        raise _fail("no exchange with both a connector and a simulator venue was found")

    async def main() -> dict[str, Any]:
        async with SimServer(chosen, rate=rate) as sim:
            for model in sim.models.values():
                if model.derivative:
                    model.seed_open_interest()  # leveraged positions near the price: liquidations
            runner = Runner()
            add_demo_feeds(runner, sim, chosen)
            try:
                stack = Stack(runner, db_path=db, port=port, open_mode=True, store_trades=True)
                await stack.__aenter__()
            except OSError as exc:
                raise _fail(
                    f"cannot serve the dashboard on port {port}: {exc} (try --port)"
                ) from None
            try:
                header = (
                    f"Connex dashboard: [bold]{stack.url}[/]  (API docs {stack.url}/docs, "
                    f"stream ws://127.0.0.1:{stack.server.port}/v1/stream)"
                )
                if not as_json:
                    console.print(header)
                else:
                    console.print(f"dashboard: {stack.url}")
                if not no_browser and not as_json:
                    import webbrowser

                    with contextlib.suppress(Exception):
                        webbrowser.open(stack.url)
                result = await run_live(runner, duration, as_json, manage=False)
                result["dashboard"] = stack.url
                result["stored"] = stack.writer.stored
                return result
            finally:
                await stack.__aexit__(None, None, None)

    with contextlib.suppress(KeyboardInterrupt):
        result = _run(main())
        if as_json:
            _print_json(result)


@app.command()
def run(
    config: Annotated[Path, typer.Option("-c", "--config", help="YAML config file.")],
    duration: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    record_to: Annotated[
        Path | None, typer.Option("--record", help="Also record raw frames to FILE.")
    ] = None,
    verbose: Annotated[bool, typer.Option("-v")] = False,
) -> None:
    """Connect to the exchanges in CONFIG (real ones unless endpoints point elsewhere)."""
    _setup_logging(verbose)
    from connex.config import load_config
    from connex.live import run_live

    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    runner, recorder = _runner_from_settings(settings, record_to)
    try:
        result = _run(run_live(runner, duration, as_json))
    except KeyboardInterrupt:
        result = None
    finally:
        if recorder is not None:
            recorder.close()
    if as_json and result is not None:
        _print_json(result)


def _runner_from_settings(settings: Any, record_to: Path | None) -> tuple[Any, Any]:
    from connex.runtime import Runner

    recorder = None
    if record_to is not None:
        from connex.record import Recorder

        recorder = Recorder(record_to, exchange=",".join(sorted(settings.exchanges)))
    runner = Runner(
        proxy=settings.proxy,
        depth_cap=settings.depth_cap,
        recorder=recorder,
        stale_after=settings.stale_after,
    )
    if not settings.exchanges:
        raise _fail("the config names no exchanges")
    for name, ex in settings.exchanges.items():
        endpoints = {m: {"ws": e.ws, "rest": e.rest} for m, e in ex.endpoints.items()}
        try:
            runner.add(name, ex.symbols, ex.channels, endpoints=endpoints)
        except ConfigError as exc:
            raise _fail(str(exc)) from None
    return runner, recorder


@app.command()
def record(
    config: Annotated[Path, typer.Option("-c", "--config")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Recording file (.jsonl.gz).")],
    duration: Annotated[float | None, typer.Option()] = None,
    verbose: Annotated[bool, typer.Option("-v")] = False,
) -> None:
    """Record raw frames and REST replies (with receive timestamps) to a compressed file."""
    _setup_logging(verbose)
    from connex.config import load_config
    from connex.live import run_live

    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    runner, recorder = _runner_from_settings(settings, output)
    try:
        _run(run_live(runner, duration, True))
    except KeyboardInterrupt:
        pass
    finally:
        recorder.close()
    console.print(f"recorded to {output}")


@app.command()
def replay(
    files: Annotated[
        list[Path], typer.Argument(help="Recording files (Connex or cryptofeed format).")
    ],
    exchange: Annotated[str, typer.Option(help="Exchange id, e.g. binance.")],
    market: Annotated[
        str | None, typer.Option(help="spot or linear (default: detected from URLs).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay recordings through the same sans-I/O path and summarise the books."""
    from connex.record.cli import replay_command

    raise typer.Exit(replay_command([str(f) for f in files], exchange, market, as_json))


@app.command()
def sim(
    exchanges: Annotated[str, typer.Option(help="Comma-separated exchanges.")] = "binance",
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated unified symbols (default: demo set).")
    ] = None,
    rate: Annotated[float, typer.Option(help="Updates per second per symbol.")] = 20.0,
    seed: Annotated[int, typer.Option()] = 7,
    duration: Annotated[float | None, typer.Option()] = None,
) -> None:
    """Run the exchange simulator standalone on 127.0.0.1 and print its URLs."""
    from connex.demo import DEMO_SYMBOLS
    from connex.sim import SimServer

    wanted = {
        ex: (symbols.split(",") if symbols else DEMO_SYMBOLS.get(ex, ["BTC/USDT"]))
        for ex in exchanges.split(",")
    }

    async def main() -> None:
        try:
            server = SimServer(wanted, rate=rate, seed=seed)
        except ValueError as exc:
            raise _fail(str(exc)) from None
        async with server:
            _print_json(
                {"venues": server.endpoints(), "control": f"http://127.0.0.1:{server.control_port}"}
            )
            sys.stdout.flush()
            if duration:
                await asyncio.sleep(duration)
            else:
                await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        _run(main())


@app.command()
def bench(
    exchange: Annotated[str, typer.Option(help="Exchange to benchmark.")] = "binance",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the figures as one JSON object.")
    ] = False,
    messages: Annotated[int, typer.Option(help="Messages in the blast run.")] = 200_000,
    peers: Annotated[
        bool, typer.Option(help="Also measure cryptofeed / CCXT Pro when installed.")
    ] = True,
) -> None:
    """Benchmark frame text -> verified book -> consumer over a loopback websocket."""
    from connex.bench import run_bench

    try:
        result = run_bench(exchange, messages=messages, peers=peers)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        _print_json(result)
    else:
        from connex.bench import render

        render(result, Console())


def _optional(module: str, what: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise _fail(f"{what} is not available in this build ({exc.name} missing)") from None


@db_app.command("migrate")
def db_migrate(path: Annotated[Path, typer.Option("--db")] = Path("connex.duckdb")) -> None:
    """Apply schema migrations."""
    raise typer.Exit(_optional("connex.store.cli", "storage").db_migrate(str(path)))


@db_app.command("stats")
def db_stats(
    path: Annotated[Path, typer.Option("--db")] = Path("connex.duckdb"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Row counts and time ranges per table."""
    raise typer.Exit(_optional("connex.store.cli", "storage").db_stats(str(path), as_json))


@db_app.command("export")
def db_export(
    parquet: Annotated[Path, typer.Option("--parquet", help="Output directory.")],
    path: Annotated[Path, typer.Option("--db")] = Path("connex.duckdb"),
) -> None:
    """Export tables to Parquet, partitioned by exchange and date."""
    raise typer.Exit(_optional("connex.store.cli", "storage").db_export(str(path), str(parquet)))


@app.command()
def serve(
    config: Annotated[Path | None, typer.Option("-c", "--config")] = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    open_mode: Annotated[
        bool, typer.Option("--open", help="No API keys (local demos only).")
    ] = False,
    verbose: Annotated[bool, typer.Option("-v")] = False,
) -> None:
    """Run the Connex gateway: API, stream, heatmap API and dashboard, with storage."""
    _setup_logging(verbose)
    from connex.gateway.serve import build_runner, load_keys, load_settings
    from connex.stack import Stack

    try:
        settings, _raw = load_settings(config)
        runner, raw = build_runner(config)
        keys = load_keys(raw)
        if keys is None and not open_mode:
            raise ConfigError(
                "the gateway needs API keys (gateway.keys in the config) or --open for local use"
            )
    except ConfigError as exc:
        raise _fail(str(exc)) from None

    async def main() -> None:
        async with Stack(
            runner,
            db_path=settings.storage.path,
            host=host,
            port=port,
            keys=keys,
            open_mode=open_mode,
            store_trades=settings.storage.trades,
        ) as stack:
            console.print(f"Connex API on {stack.url} (dashboard /, docs /docs, stream /v1/stream)")
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        _run(main())


@app.command()
def compare(
    config: Annotated[Path, typer.Option("-c", "--config")],
    duration: Annotated[float, typer.Option(help="Seconds to compare.")] = 10.0,
    depth: Annotated[int, typer.Option(help="Levels compared per book.")] = 20,
) -> None:
    """Run direct connectors and the Connex gateway side by side and report discrepancies."""
    mod = _optional("connex.gateway.cli", "compare")
    raise typer.Exit(mod.compare_command(str(config), duration, depth))


@heatmap_app.command("validate")
def heatmap_validate(
    symbol: Annotated[str, typer.Option(help="Unified symbol, e.g. BTC/USDT:USDT.")],
    path: Annotated[Path, typer.Option("--db")] = Path("connex.duckdb"),
    exchanges: Annotated[
        str | None, typer.Option(help="Comma-separated exchanges (default: all).")
    ] = None,
    price_bin: Annotated[str, typer.Option(help="Price bin width.")] = "50",
    k: Annotated[int, typer.Option("--top-k", help="Estimated zones that count as a hit.")] = 10,
    windows: Annotated[int, typer.Option(help="Successive validation windows.")] = 4,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Hit rate of the estimated liquidation zones against later realized liquidations,
    next to a uniform-random zone baseline."""
    mod = _optional("connex.heatmap.cli", "the heatmap")
    raise typer.Exit(
        mod.heatmap_validate(
            str(path),
            symbol,
            exchanges.split(",") if exchanges else None,
            price_bin=price_bin,
            k=k,
            windows=windows,
            as_json=as_json,
        )
    )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except ConfigError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
