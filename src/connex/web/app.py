"""A standalone FastAPI app with the web API, the dashboard and ``/docs``.

The gateway (``connex.gateway.app.create_app``) includes :func:`connex.web.api.build_router`
in its own app; this small app is for running the dashboard alone and for tests.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from .api import ConsolidatedProvider, HealthProvider, StoreProvider, build_router

__all__ = ["create_web_app"]


def create_web_app(
    store_provider: StoreProvider,
    health_provider: HealthProvider,
    consolidated_provider: ConsolidatedProvider | None,
    exchanges: list[str],
    *,
    symbols: list[str] | None = None,
    health_ttl_s: float = 10.0,
    heatmap_cache_ttl_s: float = 2.0,
    max_concurrent_heatmaps: int = 4,
    **fastapi_kwargs: Any,
) -> FastAPI:
    """Build the app: API routes at the root, dashboard at ``/``, OpenAPI docs at ``/docs``.

    Args are those of :func:`connex.web.api.build_router`; extra keyword arguments go to
    ``FastAPI(...)``.
    """
    app = FastAPI(
        title="Connex web API",
        summary="Liquidations, liquidation heatmap, exchange health and consolidated books.",
        docs_url="/docs",
        **fastapi_kwargs,
    )
    app.include_router(
        build_router(
            store_provider,
            health_provider,
            consolidated_provider,
            exchanges,
            symbols=symbols,
            health_ttl_s=health_ttl_s,
            heatmap_cache_ttl_s=heatmap_cache_ttl_s,
            max_concurrent_heatmaps=max_concurrent_heatmaps,
        )
    )
    return app
