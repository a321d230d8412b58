"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Python Playwright.

No ``playwright install``: Playwright launches the system Chromium. The browser is a
plain session-scoped async fixture (pytest-playwright's sync fixtures break
pytest-asyncio; see ENV-NOTES §1), so browser tests are marked
``pytest.mark.asyncio(loop_scope="session")``. Without Chromium every test here skips
with the reason; ``make`` installs it (``apt-get install -y chromium``).
``CONNEX_CHROMIUM`` points at another Chromium binary.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from connex.web.server import LoopbackServer

from .webdata import KNOWN, WebEnv, make_app, make_env, synthetic, synthetic_trades

CHROMIUM = os.environ.get("CONNEX_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Chromium still resolves google hosts on its own; map every name to NOTFOUND except
    # the loopback the tests use (without the EXCLUDEs 127.0.0.1 would fail too).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_MISSING = not Path(CHROMIUM).exists()
SKIP_REASON = f"{CHROMIUM} not installed (apt-get install -y chromium; `make` does it)"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[object]:
    """One Chromium for the whole session."""
    if CHROMIUM_MISSING:
        pytest.skip(SKIP_REASON)
    playwright = pytest.importorskip("playwright.async_api")
    async with playwright.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


@pytest.fixture(scope="session")
def web_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebEnv]:
    """A real DuckDB file: known + 600 synthetic liquidations and 1,500 trades, 3 exchanges."""
    db = tmp_path_factory.mktemp("web") / "connex.duckdb"
    env = make_env(db, [*KNOWN, *synthetic(600)], synthetic_trades(1500))
    yield env
    env.store.close()


@pytest.fixture(scope="session")
def web_server(web_env: WebEnv) -> Iterator[LoopbackServer]:
    """uvicorn on 127.0.0.1:<free port>, health cache 0.2 s so flips show quickly."""
    with LoopbackServer(make_app(web_env, health_ttl_s=0.2)) as srv:
        yield srv


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
