"""The positions table says where every satellite is: a lost one (failed, destroyed) still orbits,
so its position stays (it was NaN with error code 0, read as a propagation failure that was none);
the dish table shows it serves nothing."""

from __future__ import annotations

import numpy as np
import pytest

import leonet

# end to end: simulation runs (the fast lane leaves them out)
pytestmark = pytest.mark.slow


def test_lost_satellites_keep_their_positions(tmp_path):
    sc = leonet.scenario_from_dict({
        "name": "lost", "constellation": {"shells": [{"name": "s1", "altitude_km": 550, "inclination_deg": 53,
                                                      "planes": 12, "sats_per_plane": 12}]},
        "ground": {"sites": [{"name": "Kyiv", "lat_deg": 50.45, "lon_deg": 30.52},
                             {"name": "gw", "kind": "gateway", "lat_deg": 50.0, "lon_deg": 20.0},
                             {"name": "pop", "kind": "pop", "lat_deg": 52.2, "lon_deg": 21.0}]},
        "network": {"backbone": "none"},
        "time": {"start": "2024-01-15T12:00:00Z", "duration_s": 40, "step_s": 10},
        "events": [{"name": "storm", "type": "satellite_loss", "start_s": 10, "target": {"fraction": 0.5, "seed": 1}}],
        "outputs": {"positions": True, "visibility_pairs": False}})
    r = leonet.run(sc, out_dir=tmp_path / "o")
    pos = r.store.read("positions").to_pandas()
    assert np.isfinite(pos[["x_m", "y_m", "z_m"]].to_numpy()).all() and (pos["error_code"] == 0).all()
    radius_km = np.linalg.norm(pos[["x_m", "y_m", "z_m"]].to_numpy(), axis=1) / 1e3
    assert ((radius_km > 6_900) & (radius_km < 6_950)).all()
    lost = {int(e) for r_ in r.model.timeline.events for e in r_.sats}
    serving = r.store.read("dish_steps", columns=["t", "serving_sat"]).to_pandas()
    after = serving[serving["t"].astype("int64") >= r.model.t_ns[1]]
    assert len(lost) == 72 and not set(after["serving_sat"].astype(int)) & lost
