"""The web server: the API, the page, and the few files the page needs, all from this machine.

``create_app(results_dir)`` builds the FastAPI application; ``serve(results_dir)`` runs it with
uvicorn on 127.0.0.1 and prints where to open it. Nothing is loaded from the internet: plotly.js
comes from the installed ``plotly`` Python package, the world map from ``static/vendor`` (Natural
Earth via world-atlas, with its licence), and FastAPI's Swagger/ReDoc pages (which load from a
CDN) are switched off; the OpenAPI document is at ``/openapi.json``. A Content-Security-Policy of
``'self'`` tells the browser the same thing.

Static files are a fixed table of names -> files known at start-up; a request names one of those
or gets 404. No request path is ever joined to a folder.

Who may ask (:class:`Access`):

* **Host allow-list.** Every request's ``Host`` header must name this machine as the browser
  reached it: a localhost name (``localhost``, ``127.0.0.1``, ``::1``), the bound address, and
  names given with ``--allowed-host``; listening on a wildcard address (``0.0.0.0``, ``::``) with
  ``--allow-remote`` also accepts this machine's host names and any IP literal (a DNS-rebinding
  page always comes under a name of its own). Anything else is answered 400 before any work.
* **Beyond localhost, a token.** Binding anything but a loopback address needs ``--allow-remote``,
  and then a token (given, or generated and printed): every ``/api`` and ``/openapi.json`` request
  must carry it, as the header ``X-Leonet-Token: T``, ``Authorization: Bearer T``, or the query
  parameter ``token=T``; without it, 401. The page gets it from the URL it is opened with
  (``/?token=T``, printed at start) and sends it as the header.
* **Bounded work.** Every parameter is bounded (:mod:`leonet.app.api`); dish answers come from
  per-chunk site indexes read once per chunk file (:class:`leonet.app.dish_rows.DishChunk`, memory
  bounded by ``CHUNK_CACHE_BYTES``), so no request reads a whole table.
"""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager
import ipaddress
import secrets
import socket
import sys
import threading
import webbrowser
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response

from .._version import __version__
from .api import router
from .network import warm_up
from .errors import BadQuery, NotFound
from .run import RunData

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")

DESCRIPTION = """\
The simulated dishes of one leonet run, in the Starlink dish's own vocabulary, plus the whole
constellation at any step. Read-only; every query is bounded (time span, list sizes, points).

* Times: `step` (0 = the run's start) or `t` (UTC, ISO 8601; the step at or before it).
* Windows are half-open `[start_step, end_step)` of at most 3,600 steps; longer is 422.
* Unknown dish: 404. Bad parameter: 422.
* **Throughput** (`downlink_throughput_bps`, `uplink_throughput_bps`): the rates leonet allocated,
  in a run with capacity (the default scenario has it on); in a run with `capacity.enabled: false`
  (the schema's default) the fields are present and null. No number is ever made up.
* **Speed test** (`speedtest_down_bps`, `speedtest_up_bps` of a dish's status and history): what
  the dish could get at that step, as the Starlink app's speed test measures it (what `leonet dish`
  prints as "speed test p50"); not the throughput, which is what the dish's own traffic carries.
  With capacity only; null otherwise.
* Satellites behind a dish's mask (`satellites_behind_mask`, `blocked_sat` of the status; the
  obstruction map's tracks) come from the visibility table (`outputs.visibility_pairs`); a run
  without it says so (`satellites_behind_mask_note`, `behind_mask_note`).
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


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name of a Host header, without its port and IPv6 brackets, lower case."""
    h = header.strip().lower()
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h
    if h.count(":") == 1:
        h = h.split(":", 1)[0]
    return h.rstrip(".")


@dataclass
class Access:
    """Who may ask: the Host names accepted and the token every API call must carry (None: no
    token, the localhost default)."""

    bind: str = "127.0.0.1"
    token: str | None = None
    extra_hosts: tuple[str, ...] = ()
    allowed: set[str] = field(init=False)

    def __post_init__(self):
        self.allowed = {*LOOPBACK_NAMES, host_name(self.bind), *(host_name(h) for h in self.extra_hosts)}
        self.any_ip = self.bind in WILDCARD
        if self.any_ip:
            for name in (socket.gethostname(), socket.getfqdn()):
                if name:
                    self.allowed.add(name.lower())

    def host_ok(self, header: str | None) -> bool:
        if not header:
            return False
        name = host_name(header)
        return name in self.allowed or (self.any_ip and _is_ip(name))

    def token_ok(self, request: Request) -> bool:
        if self.token is None:
            return True
        given = request.headers.get("x-leonet-token")
        if given is None:
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
        if given is None:
            given = request.query_params.get("token")
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())


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


def create_app(results_dir: str | Path, access: Access | None = None) -> FastAPI:
    """The application for one results folder; ``access`` (default: localhost only, no token)
    says which Host names are served and which token the API needs.

    Raises :class:`~leonet.errors.InputError` when ``results_dir`` is not a leonet results folder.
    """
    data = RunData(results_dir)
    data.sky  # build the constellation now, so the first request is quick

    @asynccontextmanager
    async def lifespan(_app):
        # Run-wide aggregates in the background once the server starts listening (not before:
        # they would compete with start-up for the interpreter and delay the first answer).
        warm_up(data)
        yield

    app = FastAPI(
        lifespan=lifespan,
        title=f"leonet dish API - {data.manifest.scenario or data.root.name}",
        version=__version__, description=DESCRIPTION,
        docs_url=None, redoc_url=None, openapi_url="/openapi.json",
    )
    app.state.run_data = data
    app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    files = _static_files()
    index_html = Path(str(resources.files("leonet.app") / "static" / "index.html"))

    access = access or Access()
    app.state.access = access


    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        if not access.host_ok(request.headers.get("host")):
            response = JSONResponse({"detail": "this server answers only requests addressed to it by one of its own "
                                               "names (Host header not allowed); see `leonet serve --help`"},
                                    status_code=400)
        elif (request.url.path.startswith("/api/") or request.url.path == "/openapi.json") and not access.token_ok(request):
            response = JSONResponse({"detail": "a token is required: open the URL `leonet serve` printed (it ends in "
                                               "?token=...), or send the header X-Leonet-Token"},
                                    status_code=401)
        else:
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


def app_url(host: str, port: int, token: str | None = None, dish: str | None = None) -> str:
    """The page's URL (with the token and the dish to open as query parameters)."""
    from urllib.parse import urlencode

    if host in WILDCARD:
        host = socket.gethostname() or "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    query = {k: v for k, v in (("token", token), ("dish", dish)) if v}
    return f"http://{shown}:{port}/" + (f"?{urlencode(query)}" if query else "")


def serve(results_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False,
          allow_remote: bool = False, token: str | None = None, allowed_hosts: tuple[str, ...] = (),
          dish: str | None = None) -> None:
    """Serve one results folder until interrupted (Ctrl-C).

    ``host`` beyond loopback needs ``allow_remote=True``, and then a token (``token``, or one
    generated here and printed in the URL). ``dish`` opens that dish's view in the printed URL.

    Raises :class:`~leonet.errors.InputError` before binding anything when ``results_dir`` is not
    a results folder, or when ``host`` is not loopback and ``allow_remote`` is not set.
    """
    from urllib.parse import urlencode

    import uvicorn

    from ..errors import InputError

    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise InputError(f"listening on {host} would let other machines reach this server: add --allow-remote "
                         "(a token is then required; one is generated unless --token gives it)", location="--host")
    if token is not None and len(token) < 16:
        raise InputError("a token must be at least 16 characters", location="--token")
    if remote and token is None:
        token = secrets.token_urlsafe(24)
    access = Access(bind=host, token=token, extra_hosts=tuple(allowed_hosts))
    app = create_app(results_dir, access)
    url = app_url(host, port, token, dish)
    print(f"leonet app: open {url}", flush=True)
    base = app_url(host, port)
    # With a token, the URLs printed carry it (as the page's does), so they open as printed.
    with_token = f"?{urlencode({'token': token})}" if token is not None else ""
    print(f"  serving {app.state.run_data.root} (read-only); API at {base}api/v1/run{with_token}, "
          f"OpenAPI at {base}openapi.json{with_token}; Ctrl-C stops it.", flush=True)
    if token is not None:
        print(f"  every API call needs the token: ?token=... as above, or the header X-Leonet-Token: {token}",
              flush=True)
    if remote:
        print(f"  warning: bound to {host}, so other machines can reach this server (token required).",
              file=sys.stderr, flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
