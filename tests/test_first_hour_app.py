"""Issue 13's first-hour items outside the app's API: every group in the report's RTT-over-time
plot (small multiples when many), RTT over time per pair in the report, the hint after a
station-pair run, progress bars on report/export, the dish owner's `leonet dish`, and the
obstruction map a dish exports."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from leonet.errors import InputError
from leonet.ground.obstruction_map import _decode_png, horizon_from_grid, read_obstruction_grid


def _figure(text: str, div_id: str) -> dict:
    """The plotly figure JSON the report embeds for ``div_id``."""
    m = re.search(r'Plotly\.newPlot\("' + re.escape(div_id) + r'"', text)
    assert m, div_id
    start = text.rfind("var f=", 0, m.start()) + len("var f=")
    return json.loads(text[start:m.start()].rstrip().rstrip(";"))


# -- obstruction maps (fast) -------------------------------------------------------------------

def _grid_with(n: int, cells: list[tuple[int, int]], value: float = 0.0) -> np.ndarray:
    g = np.ones((n, n))
    for r, c in cells:
        g[r, c] = value
    return g


def test_obstructed_cell_east_sets_the_horizon_there():
    """A 5 x 5 grid (centre cell 2,2 = zenith; radius 2 cells = the edge at 25 deg). The cell one
    step east of the centre (row 2, col 3) is at r = 0.5: elevation 90 - 0.5 * 65 = 57.5 deg,
    azimuth 90 deg. The cell at the top edge (row 0, col 2) is north at r = 1: 25 deg."""
    az, el = horizon_from_grid(_grid_with(5, [(2, 3), (0, 2)]), min_elevation_deg=25.0)
    assert az.shape == el.shape == (360,)
    assert el[90] == pytest.approx(57.5) and el[0] == pytest.approx(25.0)
    # each cell blocks the azimuths its square spans: the east cell 45-135 deg, the north one +-18.4 deg
    assert el[180] == 0 and el[270] == 0
    assert set(np.flatnonzero(el)) == set(range(45, 135)) | set(range(341, 360)) | set(range(0, 19))


def test_a_blocked_half_sky_blocks_every_azimuth_of_that_half():
    """With the western half of the map blocked, 269 deg once read 28 deg beside 89 deg at 270:
    only cells whose centre fell in a bin counted, and near the zenith the 270 deg row takes them all."""
    g = np.ones((123, 123))
    g[:, :61] = 0.0
    el = horizon_from_grid(g, 25.0)[1]
    assert (el[200:341] > 88.0).all() and not el[1:180].any()
    # bins [180, 181) and [359, 360) are mirror images, low-ish: the centre column is clear
    assert el[180] == pytest.approx(el[359]) and el[181] == pytest.approx(el[358]) and el[180] > 58.0


def test_no_data_and_clear_cells_leave_the_sky_open():
    g = np.full((7, 7), -1.0)
    g[3, 3] = 1.0
    assert not horizon_from_grid(g, 25.0)[1].any()


def test_grid_files(tmp_path):
    g = _grid_with(9, [(4, 8)])
    np.savetxt(tmp_path / "m.csv", g, delimiter=",")
    np.save(tmp_path / "m.npy", g)
    assert np.array_equal(read_obstruction_grid(tmp_path / "m.csv"), g)
    assert np.array_equal(read_obstruction_grid(tmp_path / "m.npy"), g)
    (tmp_path / "bad.csv").write_text("1,1,1\n1,x,1\n1,1,1\n")
    with pytest.raises(InputError, match="line 2"):
        read_obstruction_grid(tmp_path / "bad.csv")
    (tmp_path / "rect.csv").write_text("1,1,1\n1,1,1\n")
    with pytest.raises(InputError, match="square"):
        read_obstruction_grid(tmp_path / "rect.csv")
    (tmp_path / "range.csv").write_text("1,1,1\n1,2,1\n1,1,1\n")
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        read_obstruction_grid(tmp_path / "range.csv")
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="not a PNG"):
        read_obstruction_grid(tmp_path / "x.png")


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "LA"])
def test_png_decoder_matches_pillow(tmp_path, mode):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(7)
    channels = {"RGBA": 4, "RGB": 3, "L": 1, "LA": 2}[mode]
    # smooth gradients plus noise, so that the encoder picks every filter type somewhere
    y, x = np.mgrid[0:61, 0:47]
    base = np.stack([(x * 3 + y * k) % 256 for k in range(channels)], axis=-1)
    px = ((base + rng.integers(0, 3, base.shape)) % 256).astype(np.uint8)
    img = Image.fromarray(px[..., 0] if channels == 1 else px, mode)
    path = tmp_path / f"m-{mode}.png"
    img.save(path, optimize=True)
    ours = _decode_png(path.read_bytes(), str(path))
    ref = np.asarray(Image.open(path).convert("RGBA"))
    assert np.array_equal(ours, ref)


def test_png_obstruction_map_in_the_tools_colours(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    n = 5
    px = np.zeros((n, n, 4), np.uint8)                           # transparent: no data
    px[2, 2] = (0x3E, 0x80, 0xE0, 255)                           # clear
    px[2, 3] = (0xED, 0x52, 0x4A, 255)                           # obstructed, east
    Image.fromarray(px, "RGBA").save(tmp_path / "map.png")
    grid = read_obstruction_grid(tmp_path / "map.png")
    assert grid[2, 2] == pytest.approx(1.0) and grid[2, 3] == pytest.approx(0.0) and grid[0, 0] == -1
    assert horizon_from_grid(grid, 25.0)[1][90] == pytest.approx(57.5)


# -- report, hint, progress (slow: real runs) ---------------------------------------------------

ELEVEN_GROUPS = [{"name": f"G{k:02d}", "lat_deg": 46.0 + 0.5 * k, "lon_deg": 24.0 + 1.2 * k, "count": 1,
                  "radius_km": 1, "seed": k} for k in range(11)]


@pytest.mark.slow
def test_report_draws_every_group_as_small_multiples(shared_run):
    from leonet.results.report import build_report_html

    results = shared_run("ukraine-gen1", {"time.duration_s": 20, "ground.dish_groups": ELEVEN_GROUPS})
    text = build_report_html(results)
    fig = _figure(text, "plot-rtt-time")
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == [g["name"] for g in ELEVEN_GROUPS]
    lines = [t for t in fig["data"] if t.get("mode") == "lines"]
    assert len(lines) == 11 and {t["xaxis"] for t in lines} == {"x"} | {f"x{k}" for k in range(2, 12)}


@pytest.mark.slow
def test_report_rtt_over_time_has_all_six_cities(shared_run):
    from leonet.results.report import build_report_html

    text = build_report_html(shared_run("ukraine-gen1", {"time.duration_s": 20}))
    fig = _figure(text, "plot-rtt-time")
    names = [t["name"] for t in fig["data"] if t.get("mode") == "lines" and "slot" not in t["name"]]
    assert sorted(n.split("(")[-1].rstrip(")") for n in names) == sorted(
        ["Kyiv", "Kharkiv", "Lviv", "Odesa", "Dnipro", "Mariupol"])


@pytest.mark.slow
def test_pair_run_hint_report_and_progress(tmp_path):
    out = tmp_path / "pairs"
    env = {**os.environ, "COLUMNS": "300"}
    r = subprocess.run([sys.executable, "-m", "leonet", "run", "hypatia-starlink", "--duration", "0.3", "-o", str(out)],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    hint = [line for line in r.stdout.splitlines() if "pair_steps" in line]
    assert hint and "filters=[('src', '=', 0), ('dst', '=', 1)]" in hint[0] and "Tokyo -> Delhi" in hint[0]
    assert "dish_steps" not in r.stdout.split("Results:")[1].split("Report:")[0], "no dishes: no dish_steps hint"
    assert "report: done" in r.stderr
    # the hint's read works and reads one pair
    import pyarrow.parquet as pq

    one = pq.read_table(out / "pair_steps", columns=["t", "rtt_ms", "hops"], filters=[("src", "=", 0), ("dst", "=", 1)])
    assert one.num_rows == 3
    text = (out / "report.html").read_text(encoding="utf-8")
    fig = _figure(text, "plot-pair-rtt-time")
    assert len(fig["data"]) == 20 and "the 20 pairs with the highest median RTT" in text
    r = subprocess.run([sys.executable, "-m", "leonet", "export", "czml", str(out), "-o", str(tmp_path / "x.czml")],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "czml: done" in r.stderr


# -- the dish owner's command (slow) -------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_leonet_dish_runs_and_serves_that_dish(tmp_path):
    grid = np.ones((41, 41))
    grid[:, 21:] = 0.0                                     # the whole east half obstructed
    np.save(tmp_path / "map.npy", grid)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "leonet", "dish", "-33.92", "18.42", "--obstruction-map",
                             str(tmp_path / "map.npy"), "--duration", "20", "--no-open", "--port", str(port),
                             "-o", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        lines = []
        deadline = time.time() + 300
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("leonet app: open"):
                break
        out = "".join(lines)
        assert "leonet app: open" in out, out
        assert out.split("leonet app: open ")[1].split()[0] == f"http://127.0.0.1:{port}/?dish=my-dish"
        assert "my-dish: online" in out and "RTT to the PoP p50" in out

        def get(path):
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                        return json.loads(r.read())
                except OSError:
                    time.sleep(0.1)
            raise AssertionError(f"no answer for {path}")

        st = get("/api/v1/dishes/my-dish/status")
        assert st["id"] == "my-dish" and st["lat_deg"] == -33.92 and st["lon_deg"] == 18.42
        assert st["state"] in ("CONNECTED", "OBSTRUCTED", "NO_SATS", "NO_PINGS")
        sky = get("/api/v1/dishes/my-dish/obstruction_map")
        mask = np.array(sky["horizon_mask_deg"])
        assert mask[90] > 80 and mask[270] == 0, "east blocked up to near the zenith, west clear"
        info = get("/api/v1/run")
        assert info["sizes"]["dishes"] == 1 and info["sizes"]["gateways"] >= 5 and info["min_elevation_deg"] == 25
    finally:
        proc.terminate()
        proc.wait(timeout=10)
