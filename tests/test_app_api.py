"""The dish app's HTTP API, asked over real HTTP: a uvicorn server started by ``serve()`` in a
subprocess, on a free port of 127.0.0.1, against a small results folder made here.

The run: the default scenario (Gen1, 30 dishes in six Ukrainian cities) for 60 s, with the Kyiv
dishes in a courtyard that shows them the sky only through a gap to the south-west, so that the
OBSTRUCTED state, outages and obstruction maps have something to show.

A second run, with events (a 10 s core outage, the ground internet of Kharkiv and Odesa down) and
its baseline (the same scenario without them, in RESULTS/baseline, as `leonet run --baseline`
writes it), serves the scenario-vs-baseline comparison.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pandas as pd
import pytest

import leonet
from leonet.errors import InputError
from leonet.ground.obstructions import horizon_from_points

# End to end: real runs served over HTTP by a server subprocess (the fast lane leaves these out).
pytestmark = pytest.mark.slow

COURTYARD = [[0, 85], [180, 85], [200, 40], [230, 40], [250, 85]]
DISH_FIELDS = {
    "state", "pop_ping_latency_ms", "pop_ping_drop_rate", "downlink_throughput_bps", "uplink_throughput_bps",
    "fraction_obstructed", "wedges_fraction_obstructed", "currently_obstructed", "direction_azimuth",
    "direction_elevation", "uptime_s", "serving_sat", "gateway", "pop", "alerts", "leonet_state",
}


def run_overrides(duration_s: int = 60) -> dict:
    """The small run: ukraine-gen1 with the Kyiv dishes behind a courtyard mask."""
    return {"time.duration_s": duration_s, "ground.obstructions": [{"groups": ["Kyiv"], "profile": COURTYARD}]}


EVENTS = [
    {"name": "core", "type": "core_outage", "start_s": 10, "end_s": 20, "description": "every PoP down for 10 s"},
    {"name": "fibre-east", "type": "terrestrial_outage", "start_s": 5, "target": {"groups": ["Kharkiv", "Odesa"]},
     "description": "the ground internet of Kharkiv and Odesa goes down"},
]


def compare_overrides(duration_s: int = 40) -> dict:
    """A run with events; run with ``baseline=True`` its baseline goes to RESULTS/baseline (what
    `leonet run --baseline` writes)."""
    return {**run_overrides(duration_s), "events": EVENTS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``leonet.app.server.serve`` in a subprocess; stopped by ``close``."""

    def __init__(self, results_dir):
        self.port = free_port()
        code = f"from leonet.app.server import serve; serve({str(results_dir)!r}, port={self.port})"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.banner = self.proc.stdout.readline()
        self.url = f"http://127.0.0.1:{self.port}"
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
        raise RuntimeError("server did not start listening within 60 s")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def results(shared_run):
    return shared_run("ukraine-gen1", run_overrides())


@pytest.fixture(scope="module")
def server(results):
    s = Server(results)
    yield s
    s.close()


def get(server, path: str, params: dict | None = None) -> tuple[int, dict | str]:
    url = server.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as err:
        body, status = err.read(), err.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode("utf-8", "replace")


def raw_get(port: int, raw_path: str) -> tuple[int, bytes]:
    """A GET with the path sent exactly as written (no client-side normalisation of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", raw_path, skip_accept_encoding=True)
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


@pytest.fixture(scope="module")
def compare_results(shared_run):
    return shared_run("ukraine-gen1", compare_overrides(), baseline=True)


@pytest.fixture(scope="module")
def compare_server(compare_results):
    s = Server(compare_results)
    yield s
    s.close()


@pytest.fixture(scope="module")
def dish_steps(results):
    d = leonet.ResultStore(results).read("dish_steps").to_pandas()
    d["state"] = d["state"].astype(str)
    return d


@pytest.fixture(scope="module")
def sites(results):
    return leonet.ResultStore(results).read("sites").to_pandas()


def kyiv_with_outages(dish_steps, sites):
    lost = dish_steps[(dish_steps["state"] != "CONNECTED")]
    site = int(lost["site"].value_counts().index[0])
    assert sites["group"].iat[site] == "Kyiv"
    return str(sites["name"].iat[site]), site


# -- the server itself ---------------------------------------------------------------------------

def test_server_prints_where_to_open_and_binds_loopback(server):
    assert server.banner.strip() == f"leonet app: open http://127.0.0.1:{server.port}/"
    import inspect

    from leonet.app.server import serve
    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"


def test_refuses_a_folder_that_is_not_results(tmp_path):
    from leonet.app.server import create_app, serve

    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="not a leonet results folder"):
        create_app(tmp_path)
    with pytest.raises(InputError, match="not a leonet results folder"):
        serve(tmp_path, port=free_port())
    with pytest.raises(InputError, match="missing: no such results folder") as err:  # as leonet summary says it
        create_app(tmp_path / "missing")
    assert err.value.source == str(tmp_path / "missing")
    import os

    here = os.getcwd()
    os.chdir(tmp_path)
    try:   # a relative path is named as typed, not resolved
        with pytest.raises(InputError) as err:
            create_app("missing")
        assert err.value.source == "missing"
    finally:
        os.chdir(here)
    with pytest.raises(InputError, match="is a file, not a leonet results folder"):
        create_app(tmp_path / "notes.txt")


def test_no_swagger_from_a_cdn_and_openapi_documents_throughput(server):
    for path in ("/docs", "/redoc"):
        assert get(server, path)[0] == 404
    status, spec = get(server, "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    text = json.dumps(spec)
    assert "Not modelled yet" in text and "present and null. No number is ever made up" in spec["info"]["description"]
    assert "Speed test" in spec["info"]["description"]
    paths = set(spec["paths"])
    assert {"/api/v1/run", "/api/v1/dishes", "/api/v1/dishes/{dish_id}/status", "/api/v1/dishes/{dish_id}/history",
            "/api/v1/dishes/{dish_id}/outages", "/api/v1/dishes/{dish_id}/obstruction_map", "/api/v1/snapshot",
            "/api/v1/regions", "/api/v1/compare"} <= paths
    assert "Compare" in spec["components"]["schemas"] and "404" in spec["paths"]["/api/v1/compare"]["get"]["responses"]
    assert not any("path" in p.get("name", "") for op in spec["paths"].values() for m in op.values()
                   for p in m.get("parameters", []))  # no file path parameters at all


def test_page_and_its_files_are_local(server):
    status, html = get(server, "/")
    assert status == 200 and "/static/plotly.min.js" in html
    for name in ("app.js", "app.css", "plotly.min.js", "world_110m.json"):
        conn_status, body = raw_get(server.port, f"/static/{name}")
        assert conn_status == 200 and len(body) > 100, name
    _, js = raw_get(server.port, "/static/app.js")
    assert not re.search(rb"https?://", js) and not re.search(r"https?://", html)


# -- run info and dishes ---------------------------------------------------------------------------

def test_run_info(server):
    status, info = get(server, "/api/v1/run")
    assert status == 200
    assert info["name"] == "ukraine-gen1" and info["steps"] == 60 and info["step_s"] == 1.0
    assert info["start"] == "2022-03-01T12:00:00Z" and info["completed"]
    assert info["sizes"]["satellites"] == 4408 and info["sizes"]["dishes"] == 30
    assert info["sizes"]["horizon_masks"] == 1 and info["sizes"]["masked_dishes"] == 5
    assert {"dish_steps", "site_steps", "visibility"} <= set(info["tables"])
    assert info["states"]["NO_PATH"] == "NO_PINGS" and info["limits"]["max_history_steps"] == 3600
    assert info["baseline"] is False and info["events"] == 0


def test_dish_list_is_paged_and_bounded(server, sites):
    status, page = get(server, "/api/v1/dishes", {"limit": 7, "offset": 3})
    assert status == 200 and page["total"] == 30 and len(page["dishes"]) == 7
    dishes = sites[sites["kind"] == "dish"]
    assert [d["id"] for d in page["dishes"]] == dishes["name"].iloc[3:10].tolist()
    status, page = get(server, "/api/v1/dishes", {"group": "Lviv"})
    assert page["total"] == 5 and all(d["group"] == "Lviv" for d in page["dishes"])
    assert get(server, "/api/v1/dishes", {"offset": 1000})[1]["dishes"] == []
    for bad in ({"limit": 100_000}, {"limit": 0}, {"offset": -1}, {"limit": "many"}):
        assert get(server, "/api/v1/dishes", bad)[0] == 422, bad


# -- status ----------------------------------------------------------------------------------------

def test_status_speaks_the_dishs_words(server, results, dish_steps, sites):
    dish = "Lviv0"
    site = int(sites.index[sites["name"] == dish][0])
    status, s = get(server, f"/api/v1/dishes/{dish}/status")
    assert status == 200 and DISH_FIELDS <= set(s)
    assert s["step"] == 59 and s["t"] == "2022-03-01T12:00:59Z"
    assert s["downlink_throughput_bps"] is None and s["uplink_throughput_bps"] is None  # not modelled yet
    row = dish_steps[(dish_steps["site"] == site) & (dish_steps["t"] == pd.Timestamp("2022-03-01T12:00:59Z"))].iloc[0]
    assert s["leonet_state"] == row["state"] == "CONNECTED" == s["state"]
    assert s["pop_ping_latency_ms"] == pytest.approx(float(row["rtt_ms"]), rel=1e-6)
    assert s["pop_ping_drop_rate"] == 0.0 and s["currently_obstructed"] is False
    assert s["serving_sat"] == int(row["serving_sat"]) and s["path"] == list(row["path"])
    names = sites["name"].to_numpy()
    assert s["gateway"] == names[row["gateway"]] and s["pop"] == names[row["pop"]]
    # No mask in Lviv: a clear sky, and 12 wedges of data.
    assert s["fraction_obstructed"] == 0.0 and len(s["wedges_fraction_obstructed"]) == 12
    # The direction to the serving satellite agrees with the run's own visibility table.
    vis = leonet.ResultStore(results).read("visibility", filters=[("site", "=", site), ("sat", "=", int(row["serving_sat"]))]).to_pandas()
    v = vis[vis["t"] == row["t"]].iloc[0]
    assert s["direction_elevation"] == pytest.approx(float(v["elevation_deg"]), abs=0.05)
    assert s["direction_azimuth"] == pytest.approx(float(v["azimuth_deg"]), abs=0.05)
    # Uptime: connected the whole run so far.
    assert (dish_steps[dish_steps["site"] == site]["state"] == "CONNECTED").all()
    assert s["uptime_s"] == 59.0 and s["alerts"] == []


def test_status_when_obstructed(server, dish_steps, sites):
    dish, site = kyiv_with_outages(dish_steps, sites)
    mine = dish_steps[dish_steps["site"] == site].sort_values("t")
    steps = ((mine["t"] - pd.Timestamp("2022-03-01T12:00:00Z")).dt.total_seconds()).astype(int).to_numpy()
    lost = np.flatnonzero(mine["state"].to_numpy() == "OBSTRUCTED")
    assert len(lost), "the courtyard should obstruct some Kyiv steps"
    k = int(lost[0])
    _, s = get(server, f"/api/v1/dishes/{dish}/status", {"step": int(steps[k])})
    assert s["state"] == "OBSTRUCTED" == s["leonet_state"] and s["currently_obstructed"] is True
    assert s["pop_ping_latency_ms"] is None and s["pop_ping_drop_rate"] == 1.0 and s["uptime_s"] == 0.0
    assert "obstructed" in s["alerts"] and "sky_obstructed" in s["alerts"]
    assert 0 < s["fraction_obstructed"] < 1
    # uptime just after the outage: 0 at the first connected step, then one step more per step
    ok_after = [j for j in range(k, len(steps)) if mine["state"].iat[j] == "CONNECTED"]
    if len(ok_after) >= 2 and ok_after[1] == ok_after[0] + 1:
        _, a = get(server, f"/api/v1/dishes/{dish}/status", {"step": int(steps[ok_after[0]])})
        _, b = get(server, f"/api/v1/dishes/{dish}/status", {"step": int(steps[ok_after[1]])})
        assert (a["uptime_s"], b["uptime_s"]) == (0.0, 1.0)


def test_fraction_obstructed_matches_the_visibility_table(server, results, dish_steps, sites):
    dish, site = kyiv_with_outages(dish_steps, sites)
    vis = leonet.ResultStore(results).read("visibility", filters=[("site", "=", site)]).to_pandas()
    wedge = (vis["azimuth_deg"].to_numpy() // 30).astype(int)
    want = [vis["obstructed"][wedge == w].mean() if (wedge == w).any() else None for w in range(12)]
    _, s = get(server, f"/api/v1/dishes/{dish}/status")
    assert s["fraction_obstructed"] == pytest.approx(vis["obstructed"].mean())
    for got, exp in zip(s["wedges_fraction_obstructed"], want):
        assert (got is None and exp is None) or got == pytest.approx(exp)


def test_status_time_parameters(server):
    _, by_step = get(server, "/api/v1/dishes/Odesa0/status", {"step": 30})
    _, by_time = get(server, "/api/v1/dishes/Odesa0/status", {"t": "2022-03-01T12:00:30.400Z"})
    assert by_step == by_time and by_step["t"] == "2022-03-01T12:00:30Z"
    _, other_zone = get(server, "/api/v1/dishes/Odesa0/status", {"t": "2022-03-01T14:00:30+02:00"})
    assert other_zone["step"] == 30
    for bad in ({"step": 60}, {"step": -1}, {"t": "2022-03-01T11:59:59Z"}, {"t": "yesterday"},
                {"step": 3, "t": "2022-03-01T12:00:30Z"}, {"t": "0001-01-01T00:00:00Z"}, {"step": "x"}):
        status, body = get(server, "/api/v1/dishes/Odesa0/status", bad)
        assert status == 422, (bad, body)
        assert isinstance(body["detail"], list) and body["detail"][0]["msg"]


# -- history, outages ---------------------------------------------------------------------------------

def test_history(server, dish_steps, sites):
    dish, site = kyiv_with_outages(dish_steps, sites)
    status, h = get(server, f"/api/v1/dishes/{dish}/history")
    assert status == 200 and h["start_step"] == 0 and h["end_step"] == 60 and len(h["t_s"]) == 60
    mine = dish_steps[dish_steps["site"] == site].sort_values("t")
    lost = mine["state"].to_numpy() != "CONNECTED"
    assert h["pop_ping_drop_rate"] == lost.astype(float).tolist()
    assert h["summary"]["pop_ping_drop_rate"] == pytest.approx(lost.mean())
    assert [v is None for v in h["pop_ping_latency_ms"]] == lost.tolist()
    assert h["downlink_throughput_bps"] is None and h["uplink_throughput_bps"] is None
    assert h["slot_boundaries_s"] == [12.0, 27.0, 42.0, 57.0]  # slots at 12, 27, 42, 57 s past the minute
    _, w = get(server, f"/api/v1/dishes/{dish}/history", {"start_step": 10, "end_step": 20})
    assert w["steps"] == list(range(10, 20)) and w["state"] == h["state"][10:20]


def test_history_bounds(server):
    for bad in ({"end_step": 61}, {"start_step": 60}, {"start_step": 10, "end_step": 10},
                {"start_step": 0, "end_step": 3601}, {"end_step": 10**12}):
        status, body = get(server, "/api/v1/dishes/Kyiv0/history", bad)
        assert status == 422, (bad, body)


@contextlib.contextmanager
def thread_server(app):
    """A real uvicorn server for an app built in this process (so a test can adjust it)."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)

    class Handle:
        url = f"http://127.0.0.1:{port}"

    try:
        yield Handle
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def test_history_span_is_limited_to_3600_steps(results):
    """On a (pretended) long run, a window of 3,601 steps is refused; 3,600 is served."""
    from leonet.app.server import create_app

    app = create_app(results)
    app.state.run_data.n_steps = 10_000
    with thread_server(app) as s:
        status, body = get(s, "/api/v1/dishes/Kyiv0/history", {"start_step": 100, "end_step": 3701})
        assert status == 422 and "at most 3600 steps" in body["detail"][0]["msg"]
        status, body = get(s, "/api/v1/dishes/Kyiv0/history", {"start_step": 0, "end_step": 3600})
        assert status == 200 and body["end_step"] == 3600
        assert get(s, "/api/v1/dishes/Kyiv0/outages", {"start_step": 0, "end_step": 5000})[0] == 422


def test_outages(server, dish_steps, sites):
    dish, site = kyiv_with_outages(dish_steps, sites)
    status, o = get(server, f"/api/v1/dishes/{dish}/outages")
    assert status == 200 and o["total"] == len(o["outages"]) > 0 and not o["truncated"]
    states = dish_steps[dish_steps["site"] == site].sort_values("t")["state"].to_numpy()
    assert sum(x["duration_s"] for x in o["outages"]) == (states != "CONNECTED").sum()
    assert o["seconds_by_cause"] == {"OBSTRUCTED": float((states == "OBSTRUCTED").sum())}
    for x in o["outages"]:
        assert x["cause"] == "OBSTRUCTED" and (states[x["start_step"]:x["end_step"]] == "OBSTRUCTED").all()
        assert x["start_step"] == 0 or states[x["start_step"] - 1] == "CONNECTED"
        assert x["end_step"] == 60 or states[x["end_step"]] == "CONNECTED"
        assert x["ongoing"] == (x["end_step"] == 60)
    _, one = get(server, f"/api/v1/dishes/{dish}/outages", {"limit": 1})
    assert len(one["outages"]) == 1 and one["truncated"] == (o["total"] > 1)
    _, clear = get(server, "/api/v1/dishes/Lviv0/outages")
    assert clear["total"] == 0 and clear["outages"] == []


# -- obstruction map -----------------------------------------------------------------------------------

def test_obstruction_map(server, dish_steps, sites):
    dish, site = kyiv_with_outages(dish_steps, sites)
    status, m = get(server, f"/api/v1/dishes/{dish}/obstruction_map")
    assert status == 200
    az, el = zip(*COURTYARD)
    assert m["horizon_mask_deg"] == pytest.approx(horizon_from_points(az, el).tolist(), abs=0.01)
    assert len(m["wedges_fraction_obstructed"]) == 12 and m["min_elevation_deg"] == 25
    online = dish_steps["state"].astype(str).isin(["CONNECTED", "CONGESTED"])  # served only while online
    served = set(dish_steps[(dish_steps["site"] == site) & (dish_steps["serving_sat"] >= 0) & online]["serving_sat"])
    used = {t["sat"] for t in m["tracks"] if t["used"]}
    assert used == served and m["satellites_used"] == len(served)
    mask = np.array(m["horizon_mask_deg"])
    for t in m["tracks"]:
        assert len(t["t_s"]) == len(t["azimuth_deg"]) == len(t["elevation_deg"]) == len(t["obstructed"])
        assert all(e >= 25 for e in t["elevation_deg"])
        for a, e, o in zip(t["azimuth_deg"], t["elevation_deg"], t["obstructed"]):
            limit = np.interp(a, np.arange(361), np.r_[mask, mask[0]])
            assert o == (e < limit) or abs(e - limit) < 0.05
    _, small = get(server, f"/api/v1/dishes/{dish}/obstruction_map", {"max_tracks": 2, "max_points": 5})
    assert len(small["tracks"]) <= 2 and all(len(t["t_s"]) <= 5 for t in small["tracks"])
    _, clear = get(server, "/api/v1/dishes/Lviv0/obstruction_map")
    assert clear["horizon_mask_deg"] is None and clear["fraction_obstructed"] == 0.0
    for bad in ({"max_tracks": 0}, {"max_tracks": 100_000}, {"max_points": 10**7}):
        assert get(server, f"/api/v1/dishes/{dish}/obstruction_map", bad)[0] == 422


# -- snapshot and regions ------------------------------------------------------------------------------

def test_snapshot(server, dish_steps):
    status, snap = get(server, "/api/v1/snapshot", {"step": 10})
    assert status == 200 and snap["t"] == "2022-03-01T12:00:10Z"
    sats = snap["satellites"]
    assert sats["total"] == sats["shown"] == 4408 and len(sats["lat_deg"]) == 4408
    assert all(500 < a < 600 for a in sats["alt_km"])
    assert snap["shell_names"] == ["shell1", "shell2", "shell3", "shell4", "shell5"]
    assert 8000 < snap["laser_links"]["total"] <= 2 * 4408 and snap["laser_links"]["shown"] <= 3000
    assert len(snap["gateways"]["name"]) == 18 and len(snap["pops"]["name"]) == 3
    at = dish_steps[dish_steps["t"] == pd.Timestamp("2022-03-01T12:00:10Z")]
    want = at["state"].replace({"NO_PATH": "NO_PINGS"}).value_counts().to_dict()
    assert snap["dishes"]["by_state"] == want and snap["dishes"]["shown"] == 30


def test_snapshot_is_bounded(server):
    status, snap = get(server, "/api/v1/snapshot", {"max_satellites": 100, "max_links": 50, "max_dishes": 3})
    assert status == 200
    assert snap["satellites"]["shown"] <= 100 and len(snap["satellites"]["lat_deg"]) <= 100
    assert snap["laser_links"]["shown"] <= 50 and len(snap["laser_links"]["a_lat_deg"]) <= 50
    assert snap["dishes"]["shown"] == len(snap["dishes"]["id"]) <= 3 and snap["dishes"]["total"] == 30
    lost = sum(n for s, n in snap["dishes"]["by_state"].items() if s != "CONNECTED")
    assert sum(s != "CONNECTED" for s in snap["dishes"]["state"]) == min(lost, 3)  # trouble first
    body = urllib.request.urlopen(server.url + "/api/v1/snapshot", timeout=30).read()
    assert len(body) < 1_000_000
    for bad in ({"max_satellites": 10**6}, {"max_links": -1}, {"max_dishes": 10**9}, {"step": 10**6}):
        assert get(server, "/api/v1/snapshot", bad)[0] == 422, bad


def test_regions(server, results):
    status, r = get(server, "/api/v1/regions")
    assert status == 200 and r["total"] == 6
    by = {g["group"]: g for g in r["regions"]}
    assert by["Kyiv"]["availability"] < 1 and by["Kyiv"]["outage_steps"]["OBSTRUCTED"] > 0
    assert by["Lviv"]["availability"] == 1.0 and by["Lviv"]["outage_steps"] == {}
    ref = leonet.results.summary.network_summary(leonet.ResultStore(results)).by_group().set_index("group")
    for g, row in by.items():
        assert row["rtt_p50_ms"] == pytest.approx(ref.loc[g, "rtt_p50_ms"])
        assert row["availability"] == pytest.approx(ref.loc[g, "availability"])
    assert len(get(server, "/api/v1/regions", {"limit": 2})[1]["regions"]) == 2


# -- scenario vs baseline ------------------------------------------------------------------------------

def _event_ends(results):
    """{name: (end_ns, type)} of the events that end within the run, as `leonet run --baseline` gives compare()."""
    model = leonet.build_model(leonet.load_scenario(results / "scenario.yaml"))
    return model.timeline.events, {r.spec.name: (r.end_ns, r.spec.type) for r in model.timeline.events
                                   if r.end_ns <= int(model.t_ns[-1])}


def test_compare_without_a_baseline_is_404(server):
    status, body = get(server, "/api/v1/compare")
    assert status == 404 and "no baseline" in body["detail"] and "--baseline" in body["detail"]
    status, body = get(server, "/api/v1/dishes/Kyiv0/history", {"baseline": "true"})
    assert status == 404 and "no baseline" in body["detail"]
    assert get(server, "/api/v1/dishes/Kyiv0/history", {"baseline": "false"})[1]["baseline"] is None


def test_a_damaged_or_foreign_baseline_is_left_out(results, compare_results, tmp_path):
    """The run is served without its baseline folder when that cannot be read or has another time grid."""
    import json as _json
    import shutil

    from leonet.app.server import create_app

    run = shutil.copytree(results, tmp_path / "run")
    (run / "baseline").mkdir()
    (run / "baseline" / "manifest.json").write_text("{ not json")
    data = create_app(run).state.run_data
    assert data.baseline is None and any("baseline folder could not be read" in w for w in data.warnings)
    shutil.rmtree(run / "baseline")
    shutil.copytree(compare_results / "baseline", run / "baseline")
    manifest = _json.loads((run / "baseline" / "manifest.json").read_text())
    (run / "baseline" / "manifest.json").write_text(_json.dumps({**manifest, "step_ns": 2 * manifest["step_ns"]}))
    app = create_app(run)
    assert app.state.run_data.baseline is None
    with thread_server(app) as s:
        _, info = get(s, "/api/v1/run")
        assert info["baseline"] is False and any("another start or step" in w for w in info["warnings"])
        assert get(s, "/api/v1/compare")[0] == 404


def test_compare_equals_the_library(compare_server, compare_results):
    from leonet.results.compare import LOST_STATES, compare

    _, info = get(compare_server, "/api/v1/run")
    assert info["baseline"] is True and info["events"] == 2
    status, c = get(compare_server, "/api/v1/compare")
    assert status == 200 and c["scenario"] == "ukraine-gen1" and c["baseline"] == "ukraine-gen1-baseline"
    resolved, ends = _event_ends(compare_results)
    assert set(ends) == {"core"}  # the ground outage never ends
    assert c["events_total"] == 2 and [e["name"] for e in c["events"]] == ["core", "fibre-east"]
    for e, r in zip(c["events"], resolved):
        assert e["type"] == r.spec.type and e["description"] == r.spec.description
        assert pd.Timestamp(e["start"]).value == r.start_ns
        assert e["ends_in_run"] == (e["name"] in ends)
        assert (e["end"] is None) if e["name"] == "fibre-east" else (pd.Timestamp(e["end"]).value == r.end_ns)
    assert (c["events"][0]["start_s"], c["events"][0]["end_s"], c["events"][0]["recovery_state"]) == (10.0, 20.0, "NO_PATH")

    ref = compare(leonet.ResultStore(compare_results), leonet.ResultStore(compare_results / "baseline"), ends)
    assert c["total"] == len(ref) == 6 and [g["group"] for g in c["groups"]] == list(ref.index)
    approx = lambda v: None if not np.isfinite(v) else pytest.approx(float(v), rel=1e-9, abs=1e-9)  # noqa: E731
    for g in c["groups"]:
        r = ref.loc[g["group"]]
        assert g["dishes"] == r["dishes"]
        for key in ("availability", "availability_baseline", "availability_change", "rtt_p50_ms",
                    "rtt_p50_ms_baseline", "rtt_p50_change_ms", "rtt_matched_mean_change_ms",
                    "rtt_matched_p50_change_ms", "saved_by_satellite_s"):
            assert g[key] == approx(r[key]), (g["group"], key)
        assert g["lost_s_by_leonet_state"] == {s: approx(r[f"lost_s_{s}"]) for s in LOST_STATES}
        assert g["online_by"] == {h: approx(r[f"online_{h}"]) for h in ("satellite", "ground", "both", "none")}
        assert [x["event"] for x in g["recovery"]] == (["core"] if np.isfinite(r["recover_s_core"]) else [])
        for x in g["recovery"]:
            assert x["median_s"] == approx(r["recover_s_core"]) and x["recovered"] and x["state"] == "NO_PATH"
    by = {g["group"]: g for g in c["groups"]}
    assert by["Lviv"]["recovery"] and by["Lviv"]["recovery"][0]["median_s"] == 0.0  # back at the first step after
    # The core outage: every dish NO_PATH (the dish's NO_PINGS) for 10 s, unless obstructed (Kyiv's
    # courtyard); the baseline had none of it.
    assert all(g["lost_s_by_leonet_state"]["NO_PATH"] == 50.0 == g["lost_s_by_cause"]["NO_PINGS"]
               for g in c["groups"] if g["group"] != "Kyiv")
    assert 0 < by["Kyiv"]["lost_s_by_leonet_state"]["NO_PATH"] <= 50.0
    assert by["Lviv"]["availability_baseline"] == 1.0 and by["Lviv"]["availability"] == pytest.approx(0.75)
    assert by["Kyiv"]["lost_s_by_cause"]["OBSTRUCTED"] > 0 and by["Kyiv"]["availability_baseline"] < 1
    # Kharkiv's ground internet is down: online by satellite, which saved dish-time; Lviv's is up.
    assert by["Kharkiv"]["online_by"]["satellite"] > 0.5 and by["Kharkiv"]["saved_by_satellite_s"] > 0
    assert by["Lviv"]["online_by"]["satellite"] == 0 and by["Lviv"]["saved_by_satellite_s"] == 0
    _, page = get(compare_server, "/api/v1/compare", {"offset": 2, "limit": 3})
    assert [g["group"] for g in page["groups"]] == list(ref.index[2:5]) and page["total"] == 6
    for bad in ({"limit": 0}, {"limit": 10**6}, {"offset": -1}):
        assert get(compare_server, "/api/v1/compare", bad)[0] == 422, bad


def test_history_with_the_baseline(compare_server, compare_results):
    d = leonet.ResultStore(compare_results / "baseline").read("dish_steps").to_pandas()
    sites = leonet.ResultStore(compare_results).read("sites").to_pandas()
    site = int(sites.index[sites["name"] == "Kharkiv0"][0])
    mine = d[d["site"] == site].sort_values("t").iloc[5:25]
    status, h = get(compare_server, "/api/v1/dishes/Kharkiv0/history", {"start_step": 5, "end_step": 25, "baseline": "true"})
    assert status == 200 and h["steps"] == list(range(5, 25))
    b = h["baseline"]
    assert b["name"] == "ukraine-gen1-baseline"
    assert len(b["pop_ping_latency_ms"]) == len(b["state"]) == len(b["pop_ping_drop_rate"]) == len(h["steps"]) == 20
    assert b["leonet_state"] == mine["state"].astype(str).tolist()
    assert b["pop_ping_latency_ms"] == pytest.approx(mine["rtt_ms"].round(3).tolist())
    # The core outage (steps 10..19): the scenario has no latency, the baseline does.
    assert all(v is None for v in h["pop_ping_latency_ms"][5:15]) and all(v is not None for v in b["pop_ping_latency_ms"])
    assert h["state"][5:15] == ["NO_PINGS"] * 10 and b["summary"]["pop_ping_drop_rate"] == 0.0
    assert get(compare_server, "/api/v1/dishes/Kharkiv0/history", {"start_step": 5, "end_step": 25})[1]["baseline"] is None
    # the same bounds as without the baseline
    for bad in ({"end_step": 41}, {"start_step": 0, "end_step": 3601}, {"baseline": "perhaps"}):
        assert get(compare_server, "/api/v1/dishes/Kharkiv0/history", {"baseline": "true", **bad})[0] == 422, bad
    assert get(compare_server, "/api/v1/dishes/Nowhere/history", {"baseline": "true"})[0] == 404


# -- vocabulary and throughput ---------------------------------------------------------------------------

def test_every_leonet_state_has_a_dish_word(results):
    from leonet.app.dish_rows import dish_states
    from leonet.states import DISH_WORD

    dictionary = leonet.ResultStore(results).read("dish_steps", columns=["state"]).column("state").chunk(0).dictionary
    assert set(dictionary.to_pylist()) <= set(DISH_WORD)  # the engine's dictionary
    got = dish_states(["CONNECTED", "CONGESTED", "NO_SATS", "OBSTRUCTED", "NO_PATH", "JAMMED", "OFFLINE", "LATER"])
    assert got.tolist() == ["CONNECTED", "CONNECTED", "NO_SATS", "OBSTRUCTED", "NO_PINGS", "NO_DOWNLINK",
                            "DISH_UNREACHABLE", "LATER"]


def test_the_page_gets_the_state_vocabulary_from_the_api(server):
    """/api/v1/states is leonet.states, in code order; app.js holds no copy of names or colours."""
    from importlib import resources

    from leonet import states

    status, body = get(server, "/api/v1/states")
    assert status == 200 and body == states.as_json()
    assert [s["code"] for s in body] == list(range(len(body)))
    js = (resources.files("leonet.app") / "static" / "app.js").read_text()
    assert not any(s.colour in js for s in states.STATES)
    assert 'api("states")' in js


def test_throughput_comes_from_the_run_when_it_modelled_capacity(tmp_path):
    """Without capacity throughput is null (tested above); with it, the allocated rates."""
    from leonet.app.server import create_app

    scenario = leonet.load_scenario("ukraine-gen1", overrides={"time.duration_s": 8, "capacity.enabled": True})
    leonet.run(scenario, out_dir=tmp_path / "cap")
    d = leonet.ResultStore(tmp_path / "cap").read("dish_steps").to_pandas()
    site = int(leonet.ResultStore(tmp_path / "cap").read("sites").to_pandas().query("name == 'Odesa1'").index[0])
    row = d[(d["site"] == site)].sort_values("t").iloc[-1]
    with thread_server(create_app(tmp_path / "cap")) as s:
        _, st = get(s, "/api/v1/dishes/Odesa1/status")
        assert st["downlink_throughput_bps"] == pytest.approx(float(row["downlink_bps"]))
        assert st["uplink_throughput_bps"] == pytest.approx(float(row["uplink_bps"]))
        _, h = get(s, "/api/v1/dishes/Odesa1/history")
        assert len(h["downlink_throughput_bps"]) == 8 and h["downlink_throughput_bps"][-1] == pytest.approx(float(row["downlink_bps"]), abs=1)
        _, r = get(s, "/api/v1/regions")
        assert all(g["downlink_p50_mbps"] is not None for g in r["regions"])


def test_a_dish_id_with_a_slash_and_a_space(tmp_path):
    """Site names may hold any character: percent-encoded, they reach the dish (and nothing else)."""
    from leonet.app.server import create_app

    scenario = leonet.scenario_from_dict({
        "name": "odd-names", "constellation": "starlink-shell1",
        "ground": {"sites": [{"name": "Farm/North 1", "lat_deg": 50.45, "lon_deg": 30.52, "kind": "dish"}],
                   "builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]},
                               {"name": "starlink-pops-2023", "regions": ["Europe"]}]},
        "time": {"start": "2022-03-01T12:00:00Z", "duration_s": 3, "step_s": 1},
    })
    leonet.run(scenario, out_dir=tmp_path / "odd")
    with thread_server(create_app(tmp_path / "odd")) as s:
        quoted = urllib.parse.quote("Farm/North 1", safe="")
        for route in ("status", "history", "outages", "obstruction_map"):
            status, body = get(s, f"/api/v1/dishes/{quoted}/{route}")
            assert status == 200 and body["id"] == "Farm/North 1", (route, body)
        assert get(s, f"/api/v1/dishes/{urllib.parse.quote('Farm/../North 1', safe='')}/status")[0] == 404


# -- errors and traversal ------------------------------------------------------------------------------

@pytest.mark.parametrize("route", ["status", "history", "outages", "obstruction_map"])
def test_unknown_dish_is_404_with_a_clear_message(server, route):
    status, body = get(server, f"/api/v1/dishes/{urllib.parse.quote('No such dish')}/{route}")
    assert status == 404
    assert "no dish 'No such dish'" in body["detail"] and "/api/v1/dishes" in body["detail"]


TRAVERSALS = [
    "/api/v1/dishes/..%2F..%2Fetc%2Fpasswd/status",
    "/api/v1/dishes/../../../etc/passwd/status",
    "/api/v1/dishes/%2e%2e%2f%2e%2e%2fetc%2fpasswd/history",
    "/api/v1/dishes/..%5C..%5Cetc%5Cpasswd/status",
    "/api/v1/dishes/%2Fetc%2Fpasswd/outages",
    "/api/v1/dishes/Kyiv0%00/status",
    "/static/../../etc/passwd",
    "/static/..%2F..%2Fetc%2Fpasswd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/app.js/../../../../etc/passwd",
    "/static/....//....//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/manifest.json",
    "/static/scenario.yaml",
    "/static/..%2Fscenario.yaml",
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/manifest.json",
    "/scenario.yaml",
    "/dish_steps/part-000000.parquet",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_never_escape(server, path):
    status, body = raw_get(server.port, path)
    assert status in (400, 404, 422), (path, status)
    assert b"root:" not in body and b"scenario_sha256" not in body and b"PAR1" not in body


# -- fuzzing ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,dish,run", [("positive", None, "server"), ("positive", "Kyiv0", "server"),
                                           ("negative", None, "server"), ("positive", "Kharkiv0", "compare_server")])
def test_fuzz_api(request, mode, dish, run):
    """Schema-driven requests from the live server's /openapi.json (schemathesis): valid ones,
    valid ones aimed at a real dish, and invalid ones; and valid ones on a run with a baseline.
    Never a 5xx; every answer as documented."""
    server = request.getfixturevalue(run)
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    strategy = schema.as_strategy(
        generation_mode=getattr(schemathesis.GenerationMode, mode.upper()),
        **({"path_parameters": {"dish_id": dish}} if dish else {}),
    )
    calls = []

    @given(case=strategy)
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case):
        response = case.call_and_validate(
            checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                    response_schema_conformance], timeout=30)
        calls.append(response.status_code)

    check()
    assert len(calls) >= 50 and all(code < 500 for code in calls)
    if mode == "positive" and dish:
        assert calls.count(200) > 10  # a real dish: most valid requests are answered


# -- the results folder is the app's only input -----------------------------------------------------------

def test_a_horizon_mask_from_a_file_shows_in_the_app(tmp_path):
    """A mask given as `file: horizon.csv` (beside the scenario, not in the results folder) is
    stored resolved by the run, so the app shows it even with the input folder gone."""
    import shutil

    from leonet.app.dish import obstruction_map
    from leonet.app.server import create_app
    from leonet.ground.obstructions import read_horizon_csv

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "horizon.csv").write_text("azimuth_deg,elevation_deg\n" + "\n".join(f"{a},{e}" for a, e in COURTYARD) + "\n")
    base = leonet.load_scenario("ukraine-gen1").model_dump(mode="json", exclude={"base_dir"})
    base["time"]["duration_s"] = 10
    base["ground"]["obstructions"] = [{"groups": ["Kyiv"], "file": "horizon.csv"}]
    import yaml

    (inputs / "courtyard.yaml").write_text(yaml.safe_dump(base))
    scenario = leonet.load_scenario(inputs / "courtyard.yaml")
    leonet.run(scenario, out_dir=tmp_path / "out")
    expected = read_horizon_csv(inputs / "horizon.csv")
    shutil.rmtree(inputs)  # the app needs nothing but the results folder
    data = create_app(tmp_path / "out").state.run_data
    assert data.info().sizes.horizon_masks == 1 and data.info().sizes.masked_dishes == 5
    sky = obstruction_map(data, "Kyiv0", 10, 50)
    assert sky.horizon_mask_deg == pytest.approx(np.round(expected, 2).tolist())
    assert obstruction_map(data, "Lviv0", 10, 50).horizon_mask_deg is None


def test_a_run_where_no_dish_connects_is_served_with_its_warnings(tmp_path):
    """No PoPs: every dish NO_PATH all run. The app serves it normally and shows the run's warning
    (the same text `leonet run` printed)."""
    from leonet.app.server import create_app

    scenario = leonet.load_scenario("ukraine-gen1", overrides={
        "time.duration_s": 6, "ground.builtin": [{"name": "starlink-gateways-2023", "regions": ["Europe"]}]})
    result = leonet.run(scenario, out_dir=tmp_path / "nopop")
    assert result.model.network.warnings
    with thread_server(create_app(tmp_path / "nopop")) as s:
        status, info = get(s, "/api/v1/run")
        assert status == 200 and set(result.model.network.warnings) <= set(info["warnings"])
        status, regions = get(s, "/api/v1/regions")
        assert status == 200 and all(r["availability"] == 0.0 and r["rtt_p50_ms"] is None for r in regions["regions"])
        assert all(r["outage_steps"] == {"NO_PINGS": 30} for r in regions["regions"])
        status, st = get(s, "/api/v1/dishes/Kyiv0/status")
        assert status == 200 and st["state"] == "NO_PINGS" and st["pop_ping_latency_ms"] is None
        for path in ("/api/v1/snapshot", "/api/v1/dishes/Kyiv0/history", "/api/v1/dishes/Kyiv0/outages",
                     "/api/v1/dishes/Kyiv0/obstruction_map"):
            assert get(s, path)[0] == 200, path


def test_a_damaged_folder_is_refused_naming_the_file(results, tmp_path):
    import shutil

    from leonet.app.server import create_app
    from leonet.results.store import DamagedResults

    run = shutil.copytree(results, tmp_path / "run")
    part = sorted((run / "dish_steps").glob("part-*.parquet"))[0]
    part.write_bytes(part.read_bytes()[:-100])
    with pytest.raises(DamagedResults, match=r"dish_steps/part-000000.parquet is truncated"):
        create_app(run)
    part.unlink()
    with pytest.raises(DamagedResults, match=r"dish_steps/part-000000.parquet is missing"):
        create_app(run)


def test_the_app_imports_nothing_of_the_engine():
    """The app and the results readers import (transitively) nothing from sim, scenario, network,
    ground or threats: the results folder is their only input (plus space to propagate)."""
    import ast
    from pathlib import Path

    root = Path(leonet.__file__).parent
    forbidden = ("leonet.sim", "leonet.scenario", "leonet.network", "leonet.ground", "leonet.threats")

    def module_file(name: str) -> Path | None:
        rel = Path(*name.split(".")[1:])
        for cand in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
            if cand.is_file():
                return cand
        return None

    def imports_of(name: str, path: Path) -> set[str]:
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name for a in node.names if a.name.startswith("leonet")}
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                mod = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else [])) \
                    if node.level else (node.module or "")
                if not mod.startswith("leonet"):
                    continue
                for a in node.names:  # `from . import x` may name a module
                    out.add(f"{mod}.{a.name}" if module_file(f"{mod}.{a.name}") else mod)
        return out

    readers = ["leonet.app.server", "leonet.app.api", "leonet.app.run", "leonet.app.dish", "leonet.app.network",
               "leonet.results.report", "leonet.results.summary", "leonet.results.compare",
               "leonet.results.csv_export", "leonet.results.czml"]
    seen, todo, chains = set(), list(readers), {r: r for r in readers}
    while todo:
        name = todo.pop()
        if name in seen or name == "leonet":  # the package face is another matter (lazy, issue 10 item 5)
            continue
        seen.add(name)
        path = module_file(name)
        if path is None:
            continue
        for dep in imports_of(name, path):
            chains.setdefault(dep, chains[name] + " -> " + dep)
            todo.append(dep)
    bad = sorted(chains[m] for m in seen if m.startswith(forbidden))
    assert not bad, bad
