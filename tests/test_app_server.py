"""Who may ask the app (Host allow-list, --allow-remote and its token), what it shows of events
(struck gateways, the alerts of a jammed dish) and of station-pair runs, asked over real HTTP of
``leonet serve`` started in a subprocess. The Host/token rules are also checked without a server.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse

import numpy as np
import pyarrow.parquet as pq
import pytest
from starlette.requests import Request

from leonet.app.server import Access, host_name, is_loopback, serve
from leonet.errors import InputError

TOKEN = "t0ken-for-the-tests-0123456789"


def _request(headers: dict[str, str], query: str = "") -> Request:
    scope = {"type": "http", "method": "GET", "path": "/api/v1/run", "query_string": query.encode(),
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    return Request(scope)


def test_host_names():
    assert host_name("LocalHost:8000") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"
    assert host_name("example.com.:80") == "example.com"
    assert is_loopback("127.0.0.2") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")


def test_host_allow_list_by_default():
    a = Access()
    for ok in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert a.host_ok(ok), ok
    for bad in ("evil.example:8000", "attacker.localhost.evil.com", "192.168.1.5:8000", "", None):
        assert not a.host_ok(bad), bad


def test_wildcard_bind_accepts_ip_literals_and_named_hosts_only():
    a = Access(bind="0.0.0.0", token=TOKEN, extra_hosts=("leonet.lab.example",))
    assert a.host_ok("192.168.1.5:8000") and a.host_ok("[fe80::1]:8000") and a.host_ok("leonet.lab.example")
    assert not a.host_ok("rebind.attacker.example:8000")
    b = Access(bind="192.168.1.5", token=TOKEN)
    assert b.host_ok("192.168.1.5:8000") and not b.host_ok("10.0.0.1:8000")


def test_token_by_header_bearer_or_query():
    a = Access(bind="0.0.0.0", token=TOKEN)
    assert a.token_ok(_request({"X-Leonet-Token": TOKEN}))
    assert a.token_ok(_request({"Authorization": f"Bearer {TOKEN}"}))
    assert a.token_ok(_request({}, f"token={TOKEN}"))
    assert not a.token_ok(_request({}))
    assert not a.token_ok(_request({"X-Leonet-Token": TOKEN[:-1]}))
    assert Access().token_ok(_request({})), "no token on localhost by default"


def test_remote_bind_needs_allow_remote_and_a_long_token(tmp_path):
    with pytest.raises(InputError, match="--allow-remote"):
        serve(tmp_path, host="0.0.0.0")
    with pytest.raises(InputError, match="at least 16"):
        serve(tmp_path, host="0.0.0.0", allow_remote=True, token="short")


# -- over HTTP -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """`leonet serve RESULTS ARGS...` in a subprocess, on a free port."""

    def __init__(self, results, *args: str):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "leonet", "serve", str(results), "--port", str(self.port),
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.banner = self.proc.stdout.readline()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.banner}{self.proc.stdout.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("the server did not listen within 60 s")

    def get(self, path: str, params: dict | None = None, host: str | None = None,
            headers: dict | None = None) -> tuple[int, object]:
        import http.client

        url = path + ("?" + urllib.parse.urlencode(params) if params else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.putrequest("GET", url, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host or f"127.0.0.1:{self.port}")
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        body = r.read()
        conn.close()
        try:
            return r.status, json.loads(body)
        except ValueError:
            return r.status, body.decode("utf-8", "replace")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


JAM_START_S, JAM_END_S = 10, 20
STRIKE_START_S, STRIKE_END_S = 5, 15


def _events(gateway: str) -> list[dict]:
    return [
        {"name": "jammer", "type": "jamming", "start_s": JAM_START_S, "end_s": JAM_END_S,
         "jammer": {"lat_deg": 47.0971, "lon_deg": 37.5434, "height_m": 50, "eirp_dbw": 40, "band": "user-downlink"},
         "description": "a jammer in Mariupol"},
        {"name": "strike", "type": "gateway_loss", "start_s": STRIKE_START_S, "end_s": STRIKE_END_S,
         "target": {"sites": [gateway]}, "description": "a gateway struck"},
    ]


@pytest.fixture(scope="module")
def event_run(shared_run):
    from leonet.ground.builtin import builtin_sites

    gateway = str(builtin_sites("starlink-gateways-2023", regions=["Europe"]).name[0])
    # capacity: the jammer acts through the link budget (SINR), which the capacity model computes
    return shared_run("ukraine-gen1", {"time.duration_s": 30, "capacity.enabled": True, "events": _events(gateway)}), gateway


@pytest.fixture(scope="module")
def pair_run(shared_run):
    return shared_run("hypatia-starlink", {"time.duration_s": 0.5})


@pytest.mark.slow
def test_host_header_and_token_over_http(event_run):
    results, _ = event_run
    s = Served(results)
    try:
        assert s.get("/api/v1/run")[0] == 200
        assert s.get("/api/v1/run", host=f"localhost:{s.port}")[0] == 200
        status, body = s.get("/api/v1/run", host="rebind.attacker.example")
        assert status == 400 and "Host" in body["detail"]
        assert s.get("/", host="rebind.attacker.example")[0] == 400
    finally:
        s.close()
    r = Served(results, "--host", "0.0.0.0", "--allow-remote", "--token", TOKEN)
    try:
        assert f"?token={TOKEN}" in r.banner, r.banner
        assert r.get("/api/v1/run")[0] == 401
        assert r.get("/openapi.json")[0] == 401
        assert r.get("/api/v1/run", headers={"X-Leonet-Token": TOKEN})[0] == 200
        assert r.get("/api/v1/run", {"token": TOKEN})[0] == 200
        assert r.get("/api/v1/run", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert r.get("/api/v1/run", {"token": "x" * 30})[0] == 401
        assert r.get("/", host="rebind.attacker.example", headers={"X-Leonet-Token": TOKEN})[0] == 400
        assert r.get("/")[0] == 200, "the page itself carries no data; it reads the token from its URL"
    finally:
        r.close()


@pytest.mark.slow
def test_generated_token_is_printed_and_required(event_run):
    results, _ = event_run
    r = Served(results, "--host", "0.0.0.0", "--allow-remote")
    try:
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(r.banner.split("open ", 1)[1].strip()).query)["token"][0]
        assert len(token) >= 24
        assert r.get("/api/v1/run")[0] == 401 and r.get("/api/v1/run", {"token": token})[0] == 200
    finally:
        r.close()


@pytest.fixture(scope="module")
def event_server(event_run):
    s = Served(event_run[0])
    yield s
    s.close()


@pytest.mark.slow
def test_struck_gateway_is_marked_at_the_steps_it_is_down(event_run, event_server):
    _, gateway = event_run
    for step in range(0, 30, 2):
        status, snap = event_server.get("/api/v1/snapshot", {"step": step, "max_satellites": 0, "max_links": 0})
        assert status == 200
        down = dict(zip(snap["gateways"]["name"], snap["gateways"]["down_by"]))
        expected = "strike" if STRIKE_START_S <= step < STRIKE_END_S else None   # 1 s steps
        assert down[gateway] == expected, (step, down[gateway])
        assert all(v is None for k, v in down.items() if k != gateway)


@pytest.mark.slow
def test_jammed_dish_shows_the_jamming_in_its_alerts(event_run, event_server):
    results, _ = event_run
    d = pq.read_table(results / "dish_steps", columns=["t", "site", "state"]).to_pandas()
    sites = pq.read_table(results / "sites.parquet", columns=["name"]).column("name").to_pylist()
    jammed = d[d["state"].astype(str) == "JAMMED"]
    assert len(jammed), "the jammer jams some Mariupol dish"
    row = jammed.iloc[0]
    step = int((row["t"] - d["t"].min()).total_seconds())
    dish = sites[int(row["site"])]
    status, st = event_server.get(f"/api/v1/dishes/{urllib.parse.quote(dish, safe='')}/status", {"step": step})
    assert status == 200 and st["leonet_state"] == "JAMMED" and st["state"] == "NO_DOWNLINK"
    assert "jammed" in st["alerts"] and "jamming" in st["alerts"], st["alerts"]
    assert st["events"] == ["jammer"], st["events"]
    # after the jammer stops, no jamming alert
    status, later = event_server.get(f"/api/v1/dishes/{urllib.parse.quote(dish, safe='')}/status", {"step": 29})
    assert "jamming" not in later["alerts"] and "jammed" not in later["alerts"]
    _, info = event_server.get("/api/v1/run")
    assert {"jammed", "jamming", "ground_segment_loss"} <= set(info["alerts"])


@pytest.fixture(scope="module")
def pair_server(pair_run):
    s = Served(pair_run)
    yield s
    s.close()


@pytest.mark.slow
def test_pairs_list_history_and_routes_match_pair_steps(pair_run, pair_server):
    sites = pq.read_table(pair_run / "sites.parquet").to_pandas()
    table = pq.read_table(pair_run / "pair_steps").to_pandas()
    status, lst = pair_server.get("/api/v1/pairs", {"limit": 5, "order": "rtt_p50_desc"})
    assert status == 200 and lst["total"] == table.groupby(["src", "dst"]).ngroups and lst["stations"] == 100
    med = table.groupby(["src", "dst"])["rtt_ms"].median()
    assert lst["pairs"][0]["rtt_p50_ms"] == pytest.approx(float(med.max()), rel=1e-6)
    names = sites["name"].tolist()
    p = lst["pairs"][1]
    a, b = names.index(p["src"]), names.index(p["dst"])
    status, h = pair_server.get("/api/v1/pairs/history", {"src": p["src"], "dst": p["dst"]})
    assert status == 200
    ref = table[(table["src"] == a) & (table["dst"] == b)].sort_values("t")
    assert h["steps"] == list(range(len(ref)))
    assert np.allclose(h["rtt_ms"], ref["rtt_ms"].to_numpy(), atol=1e-3)
    assert h["hops"] == ref["hops"].astype(int).tolist()
    step = 3
    status, routes = pair_server.get("/api/v1/pairs/routes", {"step": step, "src": p["src"], "dst": p["dst"]})
    assert status == 200 and routes["total"] == 1 and routes["shown"] == 1
    r = routes["routes"][0]
    assert r["path"] == [int(x) for x in ref.iloc[step]["path"]]
    assert len(r["lon_deg"]) == len(r["path"]) + 2
    assert (r["lat_deg"][0], r["lon_deg"][0]) == pytest.approx((sites["lat_deg"][a], sites["lon_deg"][a]), abs=1e-3)
    assert (r["lat_deg"][-1], r["lon_deg"][-1]) == pytest.approx((sites["lat_deg"][b], sites["lon_deg"][b]), abs=1e-3)
    status, snap = pair_server.get("/api/v1/snapshot", {"step": step, "max_satellites": 0})
    assert status == 200 and len(snap["stations"]["name"]) == 100
    assert pair_server.get("/api/v1/pairs/history", {"src": "Atlantis", "dst": p["dst"]})[0] == 404


@pytest.mark.slow
def test_pairs_are_404_on_a_run_without_pairs(event_server):
    status, body = event_server.get("/api/v1/pairs")
    assert status == 404 and "pair" in body["detail"]
