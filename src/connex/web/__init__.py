"""Web API (liquidations, heatmap, health, consolidated book) and the browser dashboard.

- :func:`build_router` (``connex.web.api``): the FastAPI router the gateway includes.
- :func:`create_web_app` (``connex.web.app``): a standalone app (router + dashboard + docs).
- :func:`run_http_load_bench` (``connex.web.bench``): HTTP load benchmark of the heatmap.

See ``docs/dashboard.md``.
"""

from .api import HealthCache, build_router
from .app import create_web_app
from .dashboard import build_dashboard_router, plotly_js_path

__all__ = [
    "HealthCache",
    "build_dashboard_router",
    "build_router",
    "create_web_app",
    "plotly_js_path",
]
