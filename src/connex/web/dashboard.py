"""Routes that serve the dashboard: ``/`` (the page) and ``/static/*`` (its assets).

plotly.js is served from the installed ``plotly`` Python package
(``plotly/package_data/plotly.min.js``), so the page needs no CDN and works offline.
The page learns the API's base path from a ``data-api-base`` attribute computed with
``url_for``, so the router can be included under any prefix.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["STATIC_DIR", "add_dashboard_routes", "build_dashboard_router", "plotly_js_path"]

STATIC_DIR = Path(__file__).with_name("static")
_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}


@lru_cache(maxsize=1)
def plotly_js_path() -> Path:
    """Path of ``plotly.min.js`` inside the installed ``plotly`` package."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():  # pragma: no cover - broken plotly install
        raise FileNotFoundError(path)
    return path


def _index_template() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def add_dashboard_routes(router: APIRouter, *, key_header: str = "X-Connex-Key") -> None:
    """Add ``/``, ``/static/plotly.min.js`` and ``/static/{asset}`` to ``router``.

    The page's API base is derived from the ``web_exchanges`` route of the same app,
    so the API router must be included in the app too.
    """

    @router.get("/", name="web_dashboard", include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        api_base = request.url_for("web_exchanges").path.removesuffix("/exchanges")
        static_base = request.url_for("web_static", asset="x").path.removesuffix("/x")
        page = _index_template()
        page = page.replace("{{API_BASE}}", html.escape(api_base, quote=True))
        page = page.replace("{{STATIC}}", html.escape(static_base, quote=True))
        page = page.replace("{{KEY_HEADER}}", html.escape(key_header, quote=True))
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @router.get("/static/plotly.min.js", name="web_plotly_js", include_in_schema=False)
    async def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_js_path(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @router.get("/static/{asset}", name="web_static", include_in_schema=False)
    async def static_asset(asset: str) -> FileResponse:
        media_type = _ASSETS.get(asset)
        if media_type is None:
            raise HTTPException(status_code=404, detail="no such asset")
        return FileResponse(
            STATIC_DIR / asset, media_type=media_type, headers={"Cache-Control": "no-cache"}
        )


def build_dashboard_router(*, key_header: str = "X-Connex-Key") -> APIRouter:
    """A router with only the dashboard routes (for apps that include the API separately)."""
    router = APIRouter()
    add_dashboard_routes(router, key_header=key_header)
    return router
