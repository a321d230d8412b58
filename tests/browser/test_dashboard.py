"""The dashboard in real headless Chromium against a real uvicorn + DuckDB file.

Asserts on content: the heatmap's numbers equal the notional of the stored
liquidations, the hover text carries each exchange's share, switching exchanges changes
the plotted data, badges follow the health tracker, the consolidated tab shows the
aggregator's books and arbitrage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio

from connex.web.server import LoopbackServer

from .conftest import CHROMIUM_MISSING, SKIP_REASON
from .webdata import API_KEY, BTC, KNOWN, WebEnv, make_keyed_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.asyncio(loop_scope="session"),
    pytest.mark.skipif(CHROMIUM_MISSING, reason=SKIP_REASON),
]

TIMEOUT_MS = 20_000
KNOWN_VIEW = "?symbol=BTC%2FUSDT%3AUSDT&interval=1m&price_bin=100&health_interval=1"


def notional(env: WebEnv, exchanges: set[str]) -> float:
    return float(
        sum(
            liq.price * liq.size
            for liq in env.liquidations
            if liq.symbol == BTC and liq.exchange in exchanges
        )
    )


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser, web_server: LoopbackServer) -> AsyncIterator[object]:
    """A fresh page; every request that is not to 127.0.0.1 is recorded and aborted."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = await ctx.new_page()
    pg.external_requests = []  # type: ignore[attr-defined]
    pg.local_requests = []  # type: ignore[attr-defined]

    async def guard(route, request) -> None:
        host = urlsplit(request.url).hostname
        if request.url.startswith("data:") or host == "127.0.0.1":
            pg.local_requests.append(request.url)
            await route.continue_()
        else:
            pg.external_requests.append(request.url)
            await route.abort()

    await pg.route("**/*", guard)
    yield pg
    await ctx.close()


async def rendered(pg, count: int = 1) -> None:
    await pg.wait_for_function(
        f"window.__rendered === true && window.__renderCount >= {count}", timeout=TIMEOUT_MS
    )


async def heat_trace(pg) -> dict:
    return await pg.evaluate(
        """() => { const t = document.getElementById('heatmap').data[0];
                   return {type: t.type, z: t.z, text: t.text, x: t.x.map(String), y: t.y}; }"""
    )


def zsum(trace: dict) -> float:
    return sum(v for row in trace["z"] for v in row if v is not None)


async def test_page_loads_offline_and_renders_heatmap(page, web_server, web_env, artifacts) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW)
    await rendered(page)

    assert page.external_requests == []
    assert any(u.endswith("/static/plotly.min.js") for u in page.local_requests)
    assert await page.evaluate("typeof window.Plotly.newPlot") == "function"
    assert await page.locator("#heatmap .plotly").count() == 1
    assert await page.locator("#heatmap svg.main-svg").count() >= 1
    assert await page.locator("#heatmap g.heatmaplayer image").count() == 1

    trace = await heat_trace(page)
    assert trace["type"] == "heatmap"
    # The heatmap shows exactly the stored BTC notional of all three exchanges.
    assert zsum(trace) == pytest.approx(notional(web_env, {"binance", "bybit", "okx"}), rel=1e-9)

    # Hover text of the known cell (T0, 60000-60100): binance 2 liquidations, bybit 1.
    b = sum(liq.price * liq.size for liq in KNOWN[:2])
    y = KNOWN[2].price * KNOWN[2].size
    row = trace["y"].index(60000)
    text = trace["text"][row][0]
    assert "price 60000 – 60100" in text
    assert f"binance: {100 * b / (b + y):.1f}%" in text
    assert f"bybit: {100 * y / (b + y):.1f}%" in text
    assert "okx" not in text

    # Stacked bars: one trace per exchange in its fixed color, legend shown.
    bars = await page.evaluate(
        "() => document.getElementById('breakdown').data.map(t => [t.type, t.name, t.marker.color])"
    )
    assert bars == [
        ["bar", "binance", "#f0b90b"],
        ["bar", "bybit", "#e4572e"],
        ["bar", "okx", "#2e86de"],
    ]
    assert await page.evaluate("document.getElementById('breakdown').layout.barmode") == "stack"
    assert await page.locator("#breakdown .legend").count() == 1
    await page.screenshot(path=str(artifacts / "dashboard-heatmap.png"), full_page=True)


async def test_switching_exchange_reloads_and_changes_chart(
    page, web_server, web_env, artifacts
) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW)
    await rendered(page)
    before = await heat_trace(page)

    # Hold the heatmap request so the loading state can be observed.
    gate = asyncio.Event()
    seen: list[str] = []

    async def hold(route, request) -> None:
        seen.append(request.url)
        await gate.wait()
        await route.continue_()

    await page.route("**/liquidations/heatmap-timeseries*", hold)
    await page.locator("#ex-bybit").uncheck()
    await page.wait_for_selector("#loading:not([hidden])", timeout=TIMEOUT_MS)
    assert await page.evaluate("window.__rendered") is False
    assert len(seen) == 1 and "exchanges=binance%2Cokx" in seen[0]
    gate.set()
    await rendered(page, count=2)
    assert await page.locator("#loading").is_hidden()

    after = await heat_trace(page)
    assert after["z"] != before["z"]
    assert zsum(after) == pytest.approx(notional(web_env, {"binance", "okx"}), rel=1e-9)
    bars = await page.evaluate("() => document.getElementById('breakdown').data.map(t => t.name)")
    assert bars == ["binance", "okx"]
    row = after["y"].index(60000)
    assert "binance: 100.0%" in after["text"][row][0]
    await page.screenshot(path=str(artifacts / "dashboard-binance-okx.png"), full_page=True)


async def test_badges_turn_red_when_exchange_stops(page, web_server, web_env) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW)
    for ex in ("binance", "bybit", "okx"):
        await page.wait_for_selector(f'.badge.ok[data-exchange="{ex}"]', timeout=TIMEOUT_MS)
    web_env.stop("okx")
    try:
        await page.wait_for_selector('.badge.down[data-exchange="okx"]', timeout=TIMEOUT_MS)
        title = await page.get_attribute('.badge[data-exchange="okx"]', "title")
        assert "disconnected" in title
        assert await page.locator('.badge.ok[data-exchange="binance"]').count() == 1
        web_env.start("okx")
        await page.wait_for_selector('.badge.ok[data-exchange="okx"]', timeout=TIMEOUT_MS)
    finally:
        web_env.start("okx")


async def test_consolidated_tab_shows_book_spreads_and_arbitrage(
    page, web_server, artifacts
) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW + "&book_interval=1")
    await rendered(page)
    await page.click("#tab-consolidated")
    await page.wait_for_selector("#arb-table tbody tr.arb", timeout=TIMEOUT_MS)
    assert await page.locator("#view-heatmap").is_hidden()

    arb = await page.locator("#arb-table tbody tr.arb").first.locator("td").all_inner_texts()
    assert arb[:4] == ["binance", "bybit", "60001", "60100"]
    # Consolidated top: best bid is bybit's 60100, best ask binance's 60001 (crossed).
    top = await page.locator("#book-table tbody tr").first.locator("td").all_inner_texts()
    assert top == ["bybit 1", "1", "60100", "60001", "1", "binance 1"]
    summary = await page.inner_text("#consolidated-summary")
    assert "Best bid 60100 (bybit) · best ask 60001 (binance)" in summary
    assert "CROSSED" in summary
    best = await page.locator('#best-table tr[data-exchange="okx"] td').all_inner_texts()
    assert best[1:3] == ["60002", "60004"]
    spreads = await page.locator("#spread-table tbody tr").count()
    assert spreads == 6  # every ordered pair of the 3 venues
    await page.screenshot(path=str(artifacts / "dashboard-consolidated.png"), full_page=True)


async def test_estimated_layer_is_labelled_and_matches_api(page, web_server, artifacts) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW)
    await rendered(page)
    await page.select_option("#layer", "estimated")
    await rendered(page, count=2)
    trace = await heat_trace(page)
    title = await page.evaluate("document.getElementById('heatmap').layout.title.text")
    assert "estimated liquidation levels (model)" in title

    async with httpx.AsyncClient(base_url=web_server.url) as c:
        api = (
            await c.get(
                "/liquidations/heatmap-timeseries",
                params={"symbol": BTC, "interval": "1m", "price_bin": "100"},
            )
        ).json()
    est = api["estimated"]
    assert est["kind"] == "estimate" and est["cells"], "trades are stored, so levels exist"
    assert zsum(trace) == pytest.approx(sum(float(c["notional"]) for c in est["cells"]), rel=1e-9)
    assert len(trace["y"]) == len(est["prices"]) and len(trace["x"]) == len(est["times"])
    summary = await page.inner_text("#summary")
    assert summary.startswith("Estimated open levels:") and f"source: {est['source']}" in summary
    await page.screenshot(path=str(artifacts / "dashboard-estimated.png"), full_page=True)


async def test_bad_price_bin_shows_the_api_error(page, web_server) -> None:
    await page.goto(web_server.url + "/" + KNOWN_VIEW)
    await rendered(page)
    await page.fill("#price-bin", "0.00001")
    await page.press("#price-bin", "Enter")
    await page.wait_for_selector("#error:not([hidden])", timeout=TIMEOUT_MS)
    text = await page.inner_text("#error")
    assert text.startswith("price_bin: ") and "choose a larger price_bin" in text
    assert await page.locator("#loading").is_hidden()
    assert await page.evaluate("window.__rendered") is False


async def test_dashboard_sends_api_key_from_url(page, web_env) -> None:
    with LoopbackServer(make_keyed_app(web_env)) as srv:
        await page.goto(srv.url + f"/?key={API_KEY}&interval=1m&price_bin=100&health_interval=1")
        await rendered(page)
        assert "key=" not in page.url  # removed from the address bar once stored
        await page.wait_for_selector('.badge.ok[data-exchange="okx"]', timeout=TIMEOUT_MS)
        trace = await heat_trace(page)
        assert zsum(trace) == pytest.approx(
            notional(web_env, {"binance", "bybit", "okx"}), rel=1e-9
        )
