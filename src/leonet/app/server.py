"""The web server: the API, the page, and the few files the page needs, all from this machine.

``create_app(results_dir)`` builds the FastAPI application; ``serve(results_dir)`` runs it with
uvicorn on 127.0.0.1 and prints where to open it. Nothing is loaded from the internet: plotly.js
comes from the installed ``plotly`` Python package, the world map from ``static/vendor`` (Natural
Earth via world-atlas, with its licence), and FastAPI's Swagger/ReDoc pages (which load from a
CDN) are switched off; the OpenAPI document is at ``/openapi.json``. A Content-Security-Policy of
``'self'`` tells the browser the same thing.

Static files are a fixed table of names -> files known at start-up; a request names one of those
or gets 404. No request path is ever joined to a folder.
"""

from __future__ import annotations

import sys
import threading
import webbrowser
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response

from .._version import __version__
from .api import router
from .network import warm_up
from .run import BadQuery, NotFound, RunData

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

DESCRIPTION = """\
The simulated dishes of one leonet run, in the Starlink dish's own vocabulary, plus the whole
constellation at any step. Read-only; every query is bounded (time span, list sizes, points).

* Times: `step` (0 = the run's start) or `t` (UTC, ISO 8601; the step at or before it).
* Windows are half-open `[start_step, end_step)` of at most 3,600 steps; longer is 422.
* Unknown dish: 404. Bad parameter: 422.
* **Throughput** (`downlink_throughput_bps`, `uplink_throughput_bps`) is **not modelled yet** in a
  run without capacity (the default, `capacity.enabled: false`): the fields are present and null.
  No number is ever made up; a run with capacity gives the rates leonet allocated.
* `state`: CONNECTED, NO_SATS, OBSTRUCTED; NO_PINGS for leonet's NO_PATH (a satellite in view but
  no PoP reachable), NO_DOWNLINK for JAMMED, DISH_UNREACHABLE for OFFLINE, and CONNECTED for
  CONGESTED (alert `congested`). `leonet_state` carries leonet's state verbatim. The whole
  vocabulary (names, the dish's words, colours, outage or not) is at `/api/v1/states`.
* A results folder whose chunk files are missing, truncated or changed since the run wrote them
  is not served: the server refuses to start and names the damaged files.
* A run made with `leonet run SCENARIO --baseline` (the same scenario without its events in
  RESULTS/baseline): `/api/v1/compare` gives what the events cost per dish group, and a dish's
  history with `baseline=true` carries the baseline's state and latency beside its own. Without a
  baseline both are 404.
* `fraction_obstructed` / `wedges_fraction_obstructed`: over the whole run, the share of the
  dish's look directions (step, satellite above the minimum elevation) that were behind its horizon
  mask, overall and per 30 deg wedge clockwise from north.
"""


def _static_files() -> dict[str, tuple[Path, str]]:
    """The only files served under /static: name -> (file, media type)."""
    here = Path(str(resources.files("leonet.app") / "static"))
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return {
        "app.js": (here / "app.js", "text/javascript"),
        "app.css": (here / "app.css", "text/css"),
        "plotly.min.js": (plotly_js, "text/javascript"),
        "world_110m.json": (here / "vendor" / "world_110m.json", "application/json"),
        "LICENSE-world-atlas.txt": (here / "vendor" / "LICENSE-world-atlas.txt", "text/plain"),
    }


def create_app(results_dir: str | Path) -> FastAPI:
    """The application for one results folder.

    Raises :class:`~leonet.errors.InputError` when ``results_dir`` is not a leonet results folder.
    """
    data = RunData(results_dir)
    data.sky  # build the constellation now, so the first request is quick
    warm_up(data)
    app = FastAPI(
        title=f"leonet dish API - {data.manifest.scenario or data.root.name}",
        version=__version__, description=DESCRIPTION,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    app.state.run_data = data
    app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    files = _static_files()
    index_html = Path(str(resources.files("leonet.app") / "static" / "index.html"))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound):
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(BadQuery)
    async def bad_query(request: Request, exc: BadQuery):
        # The same shape as FastAPI's own 422, so clients handle both alike.
        return JSONResponse({"detail": [{"type": "value_error", "loc": ["query", exc.param], "msg": exc.message}]},
                            status_code=422)

    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(index_html, media_type="text/html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        entry = files.get(name)
        if entry is None or not entry[0].is_file():
            return JSONResponse({"detail": f"no static file {name!r}"}, status_code=404)
        return FileResponse(entry[0], media_type=entry[1], headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    return app


def app_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(results_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> None:
    """Serve one results folder until interrupted (Ctrl-C).

    Raises :class:`~leonet.errors.InputError` before binding anything when ``results_dir`` is not
    a results folder.
    """
    import uvicorn

    app = create_app(results_dir)
    url = app_url(host, port)
    print(f"leonet app: open {url}", flush=True)
    print(f"  serving {app.state.run_data.root} (read-only); API at {url}api/v1/run, "
          f"OpenAPI at {url}openapi.json; Ctrl-C stops it.", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"  warning: bound to {host}, so other machines can reach this server.", file=sys.stderr, flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
