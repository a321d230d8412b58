"""The web API over real HTTP (uvicorn on 127.0.0.1) against a real DuckDB file.

Data: ``tests/browser/webdata.KNOWN`` (5 BTC liquidations on binance/bybit/okx in the
first two minutes after T0, one ETH), crossed books in a real ``ConsolidatedBook``
and a real ``HealthTracker``. Expected values below are worked out by hand from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from connex.web import HealthCache, build_router
from connex.web.bench import run_http_load_bench
from connex.web.cache import ResponseCache
from connex.web.dashboard import plotly_js_path
from connex.web.params import ParamError, parse_time
from connex.web.server import LoopbackServer
from connex.web.sources import nice_bin
from tests.browser.webdata import (
    API_KEY,
    BTC,
    EXCHANGES,
    KNOWN,
    T0,
    WebEnv,
    make_app,
    make_env,
    make_keyed_app,
)

S = 1_000_000_000
HEAT = "/liquidations/heatmap-timeseries"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    e = make_env(tmp_path_factory.mktemp("webapi") / "web.duckdb", KNOWN)
    yield e
    e.store.close()


@pytest.fixture(scope="module")
def client(env: WebEnv) -> Iterator[httpx.Client]:
    with LoopbackServer(make_app(env)) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


def field_of(resp: httpx.Response) -> list[str]:
    assert resp.status_code == 422, resp.text
    return [d["loc"][-1] for d in resp.json()["detail"]]


# -- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/liquidations?exchange=kraken",
        f"{HEAT}?symbol={BTC}&exchanges=binance,kraken",
        f"/consolidated/{BTC}?exchanges=kraken",
    ],
)
def test_unknown_exchange_is_400_listing_valid_ones(client: httpx.Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 400
    body = resp.json()
    assert body["detail"] == "unknown exchange 'kraken'; valid exchanges: binance, bybit, okx"
    assert body["valid_exchanges"] == EXCHANGES
    assert body["unknown"] == ["kraken"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/liquidations?start=yesterday", "start"),
        ("/liquidations?end=2026-13-40", "end"),
        ("/liquidations?limit=0", "limit"),
        ("/liquidations?limit=abc", "limit"),
        (f"/liquidations?start={T0 + 10}&end={T0}", "start"),
        (f"{HEAT}?exchanges=binance", "symbol"),
        (f"{HEAT}?symbol={BTC}&interval=7s", "interval"),
        (f"{HEAT}?symbol={BTC}&interval=fast", "interval"),
        (f"{HEAT}?symbol={BTC}&price_bin=-5", "price_bin"),
        (f"{HEAT}?symbol={BTC}&price_bin=0.00001", "price_bin"),  # too many bins
        (f"{HEAT}?symbol={BTC}&interval=1s&start=0&end={T0}", "interval"),  # too many buckets
        (f"/consolidated/{BTC}?depth=0", "depth"),
    ],
)
def test_bad_parameter_is_422_naming_the_field(client: httpx.Client, path: str, field: str) -> None:
    assert field_of(client.get(path)) == [field]


# -- liquidations ---------------------------------------------------------------------


def test_liquidations_by_exchange_newest_first_exact_strings(client: httpx.Client) -> None:
    body = client.get("/liquidations", params={"exchange": "bybit"}).json()
    rows = body["liquidations"]
    assert [r["liquidation_id"] for r in rows] == ["k5", "k3"]
    assert [(r["price"], r["size"], r["notional"], r["side"]) for r in rows] == [
        ("60150", "0.1", "6015", "short"),
        ("60050", "1", "60050", "short"),
    ]
    assert rows[0]["ts_ns"] == T0 + 70 * S


def test_liquidations_time_range_symbol_and_limit(client: httpx.Client) -> None:
    # ISO and ns bounds select the same rows: [T0+25 s, T0+50 s) holds k3 and k4.
    iso = client.get(
        "/liquidations",
        params={"start": "2026-11-21T00:00:25Z", "end": "2026-11-21T00:00:50", "symbol": BTC},
    ).json()
    ns = client.get("/liquidations", params={"start": T0 + 25 * S, "end": T0 + 50 * S}).json()
    assert [r["liquidation_id"] for r in iso["liquidations"]] == ["k4", "k3"]
    assert iso["liquidations"] == ns["liquidations"]
    assert iso["start_ns"] == T0 + 25 * S
    eth = client.get("/liquidations", params={"symbol": "ETH/USDT:USDT"}).json()
    assert [(r["liquidation_id"], r["price"]) for r in eth["liquidations"]] == [("k6", "3000.5")]
    one = client.get("/liquidations", params={"limit": 1}).json()
    assert [r["liquidation_id"] for r in one["liquidations"]] == ["k5"]


def test_liquidations_reject_sql_in_values(client: httpx.Client) -> None:
    body = client.get("/liquidations", params={"symbol": "BTC' OR '1'='1"}).json()
    assert body["liquidations"] == []


# -- heatmap --------------------------------------------------------------------------


def test_heatmap_bins_of_known_data(client: httpx.Client) -> None:
    body = client.get(
        HEAT, params={"symbol": BTC, "interval": "1m", "price_bin": "100", "estimated": "false"}
    ).json()
    assert (body["interval_s"], body["price_bin"]) == (60, "100")
    layer = body["realized"]
    assert layer["times"] == [T0, T0 + 60 * S]
    assert layer["prices"] == ["59900", "60000", "60100"]
    cells = {(c["t"], c["price"], c["exchange"], c["side"]): c for c in layer["cells"]}
    assert set(cells) == {
        (T0, "59900", "okx", "long"),
        (T0, "60000", "binance", "long"),
        (T0, "60000", "bybit", "short"),
        (T0 + 60 * S, "60100", "bybit", "short"),
    }
    # binance: 0.5 @ 60010 + 0.25 @ 60090.5 -> one cell, 2 liquidations.
    b = cells[(T0, "60000", "binance", "long")]
    assert (b["count"], b["size"], b["notional"]) == (2, "0.75", "45027.625")
    assert cells[(T0, "59900", "okx", "long")]["notional"] == "119980"
    assert cells[(T0 + 60 * S, "60100", "bybit", "short")]["notional"] == "6015"
    assert layer["by_exchange"]["bybit"]["notional"] == "66065"
    assert layer["total"] == {"count": 5, "notional": "231072.625"}
    assert body["colors"]["okx"] == "#2e86de"


def test_heatmap_exchange_filter_and_time_range(client: httpx.Client) -> None:
    body = client.get(
        HEAT,
        params={
            "symbol": BTC,
            "exchanges": "okx,binance",
            "interval": "60",
            "price_bin": "50",
            "start": T0,
            "end": T0 + 60 * S,
            "estimated": "false",
        },
    ).json()
    assert sorted(body["exchanges"]) == ["binance", "okx"]
    layer = body["realized"]
    assert {c["exchange"] for c in layer["cells"]} == {"okx", "binance"}
    by_price = {c["price"]: c["notional"] for c in layer["cells"]}
    # 50-wide bins split the binance pair: 60010 -> 60000, 60090.5 -> 60050.
    assert by_price == {"59950": "119980", "60000": "30005", "60050": "15022.625"}


def test_heatmap_auto_price_bin_and_estimated_layer(client: httpx.Client) -> None:
    body = client.get(HEAT, params={"symbol": BTC, "interval": "60", "bins": 4}).json()
    # prices span 59990..60150 -> 160 / 4 = 40 -> the next round width is 50.
    assert body["price_bin"] == "50"
    assert body["estimated"]["kind"] == "estimate"
    assert {c["exchange"] for c in body["estimated"]["cells"]} <= set(EXCHANGES)


# -- health ---------------------------------------------------------------------------


def test_health_reports_each_exchange_and_is_cached(client: httpx.Client, env: WebEnv) -> None:
    first = client.get("/exchanges/health").json()
    assert [(h["exchange"], h["ok"], h["status"]) for h in first["exchanges"]] == [
        ("binance", True, "up"),
        ("bybit", True, "up"),
        ("okx", True, "up"),
    ]
    assert first["ttl_s"] == 10.0
    env.stop("okx")
    try:
        # Within the 10 s TTL the cached answer is served unchanged.
        again = client.get("/exchanges/health").json()
        assert again["exchanges"] == first["exchanges"]
        assert again["age_s"] >= first["age_s"]
    finally:
        env.start("okx")


async def test_health_cache_calls_provider_once_per_ttl() -> None:
    now = [100.0]
    calls: list[int] = []

    def provider() -> dict[str, object]:
        calls.append(1)
        return {"binance": len(calls) == 1, "okx": "connected"}

    cache = HealthCache(provider, ["binance", "okx", "bybit"], ttl_s=10, clock=lambda: now[0])
    items, _age = await cache.get()
    assert [(i["exchange"], i["ok"], i["status"]) for i in items] == [
        ("binance", True, "up"),
        ("okx", True, "connected"),
        ("bybit", False, "unknown"),
    ]
    now[0] = 109.9
    items2, age2 = await cache.get()
    assert (len(calls), items2, round(age2, 3)) == (1, items, 9.9)
    now[0] = 110.0
    items3, _ = await cache.get()
    assert len(calls) == 2 and items3[0]["ok"] is False and items3[0]["status"] == "down"


# -- exchanges, consolidated, dashboard ----------------------------------------------


def test_exchanges_lists_names_colors_symbols(client: httpx.Client) -> None:
    body = client.get("/exchanges").json()
    assert body["exchanges"] == [
        {"name": "binance", "color": "#f0b90b"},
        {"name": "bybit", "color": "#e4572e"},
        {"name": "okx", "color": "#2e86de"},
    ]
    assert body["symbols"] == [BTC, "ETH/USDT:USDT"]


def test_consolidated_book_spreads_and_arbitrage(client: httpx.Client) -> None:
    body = client.get(f"/consolidated/{BTC}", params={"depth": 2}).json()
    assert body["consolidated"]["bid_exchange"] == "bybit"
    assert body["consolidated"]["ask_exchange"] == "binance"
    assert body["consolidated"]["crossed"] is True
    assert body["book"]["bids"] == [
        {"price": "60100", "size": "1", "by_exchange": {"bybit": "1"}},
        {"price": "60099", "size": "1", "by_exchange": {"bybit": "1"}},
    ]
    assert body["book"]["asks"][0] == {
        "price": "60001",
        "size": "1",
        "by_exchange": {"binance": "1"},
    }
    assert body["best"]["okx"]["bid"] == "60002" and body["best"]["okx"]["spread"] == "2"
    top = body["spreads"][0]
    assert (top["buy_exchange"], top["sell_exchange"], top["spread"]) == ("binance", "bybit", "99")
    assert len(body["spreads"]) == 6
    arb = body["arbitrage"][0]
    assert (arb["buy_exchange"], arb["sell_exchange"], arb["buy_price"], arb["sell_price"]) == (
        "binance",
        "bybit",
        "60001",
        "60100",
    )
    # net per unit = 60100 * (1 - 0.0002) - 60001 * (1 + 0.0002) = 75.0198
    assert Decimal(arb["net_per_unit"]) == Decimal("60100") * Decimal("0.9998") - Decimal(
        "60001"
    ) * Decimal("1.0002")


def test_consolidated_filters_exchanges_and_unknown_symbol(client: httpx.Client) -> None:
    body = client.get(f"/consolidated/{BTC}", params={"exchanges": "binance,okx"}).json()
    assert set(body["best"]) == {"binance", "okx"}
    assert body["arbitrage"] == []  # 1 tick across, less than 2 x 2 bp of fees
    assert {(s["buy_exchange"], s["sell_exchange"]) for s in body["spreads"]} == {
        ("binance", "okx"),
        ("okx", "binance"),
    }
    assert client.get("/consolidated/DOGE/USDT").status_code == 404


def test_dashboard_page_assets_and_docs(client: httpx.Client) -> None:
    page = client.get("/").text
    assert 'data-api-base=""' in page
    assert '<script src="/static/plotly.min.js"></script>' in page
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and js.content == plotly_js_path().read_bytes()
    assert "window.__rendered" in client.get("/static/app.js").text
    assert client.get("/static/../api.py").status_code == 404
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/liquidations", HEAT, "/exchanges", "/exchanges/health"} <= set(paths)


def test_router_under_a_prefix_with_objects_as_providers(env: WebEnv) -> None:
    app = FastAPI()
    # Store, HealthTracker and ConsolidatedBook passed directly instead of callables.
    app.include_router(build_router(env.store, env.tracker, env.book, EXCHANGES), prefix="/v1/web")
    with LoopbackServer(app) as srv, httpx.Client(base_url=srv.url) as c:
        page = c.get("/v1/web/").text
        assert 'data-api-base="/v1/web"' in page
        assert '<script src="/v1/web/static/app.js"></script>' in page
        rows = c.get("/v1/web/liquidations", params={"exchange": "okx"}).json()["liquidations"]
        assert [r["liquidation_id"] for r in rows] == ["k4", "k6"]
        health = c.get("/v1/web/exchanges/health").json()["exchanges"]
        assert [(h["exchange"], h["ok"], h["connected"]) for h in health] == [
            ("binance", True, True),
            ("bybit", True, True),
            ("okx", True, True),
        ]
        arb = c.get(f"/v1/web/consolidated/{BTC}").json()["arbitrage"]
        assert (arb[0]["buy_exchange"], arb[0]["sell_exchange"]) == ("binance", "bybit")


# -- pure helpers ---------------------------------------------------------------------


def test_parse_time_and_nice_bin() -> None:
    assert parse_time("start", "2026-11-21T00:00:00.5Z", None) == T0 + S // 2
    assert parse_time("start", str(T0), None) == T0
    with pytest.raises(ParamError) as err:
        parse_time("end", "-1", None)
    assert err.value.field == "end"
    assert nice_bin(Decimal("59990"), Decimal("60150"), 4) == Decimal("50")
    assert nice_bin(Decimal("1.001"), Decimal("1.009"), 40) == Decimal("0.0002")
    assert nice_bin(Decimal("3000"), Decimal("3000"), 40) == Decimal("1")


async def test_health_provider_failure_reports_every_exchange_down() -> None:
    def broken() -> None:
        raise ConnectionError("tracker gone")

    items, _ = await HealthCache(broken, ["binance", "okx"], ttl_s=10).get()
    assert items == [
        {
            "exchange": "binance",
            "ok": False,
            "status": "error",
            "detail": "health unavailable: ConnectionError",
        },
        {
            "exchange": "okx",
            "ok": False,
            "status": "error",
            "detail": "health unavailable: ConnectionError",
        },
    ]


def test_http_load_bench_smoke(tmp_path) -> None:
    """A tiny run of the benchmark harness (not a timing test)."""
    result = run_http_load_bench(
        n_rows=300, clients=3, duration_s=0.5, db_path=tmp_path / "b.duckdb", think_s=0
    )
    assert result["rows"] == 300
    assert result["errors"] == 0 and result["statuses"] == {200: result["requests"]}
    assert result["requests"] >= 3
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


async def test_response_cache_single_flight_ttl_and_errors() -> None:
    now = [0.0]
    cache = ResponseCache(2.0, max_concurrent=1, clock=lambda: now[0])
    started: list[str] = []
    release = asyncio.Event()

    async def compute(tag: str) -> str:
        started.append(tag)
        await release.wait()
        return f"body-{tag}-{len(started)}"

    # Two identical concurrent requests share one computation.
    a = asyncio.ensure_future(cache.get("k", lambda: compute("a")))
    b = asyncio.ensure_future(cache.get("k", lambda: compute("b")))
    other = asyncio.ensure_future(cache.get("k2", lambda: compute("c")))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert started == ["a"]  # "c" waits: max_concurrent=1
    release.set()
    assert await a == await b == "body-a-1"
    assert await other == "body-c-2"
    assert (cache.misses, cache.joined) == (2, 1)
    # Within the TTL the stored body is served; after it, recomputed.
    now[0] = 1.9
    assert await cache.get("k", lambda: compute("d")) == "body-a-1"
    now[0] = 2.0
    assert await cache.get("k", lambda: compute("e")) == "body-e-3"

    async def boom() -> str:
        raise ParamError("price_bin", "bad")

    with pytest.raises(ParamError):
        await cache.get("bad", boom)
    assert await cache.get("bad", lambda: compute("f")) == "body-f-4"  # errors not cached


def test_api_key_dependency_guards_api_not_page(env: WebEnv) -> None:
    with LoopbackServer(make_keyed_app(env)) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/liquidations").status_code == 401
        assert c.get(HEAT, params={"symbol": BTC}).status_code == 401
        assert c.get("/exchanges/health").status_code == 401
        ok = c.get("/liquidations", params={"exchange": "okx"}, headers={"X-Connex-Key": API_KEY})
        assert [r["liquidation_id"] for r in ok.json()["liquidations"]] == ["k4", "k6"]
        page = c.get("/")
        assert page.status_code == 200 and 'data-key-header="X-Connex-Key"' in page.text
        assert c.get("/static/app.js").status_code == 200
