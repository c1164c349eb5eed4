"""A dish owner's scenario: one dish at a place, the ground segment around it, a short run.

``leonet dish LAT LON`` builds it with :func:`dish_scenario`, runs it, and opens the app on that
dish. What the scenario holds:

* **the dish**: one site ``my-dish`` (group ``my-dish``) at LAT, LON, with the horizon the owner
  gives (a CSV of azimuth_deg, elevation_deg, or the obstruction map the dish exports:
  :mod:`leonet.ground.obstruction_map`); the kit's minimum elevation (``--kit``,
  leonet/data/terminal_kits.csv) is the run's ``visibility.min_elevation_deg``;
* **the ground segment within reach**: the gateways of a built-in set (``starlink-gateways-2026``
  by default, or ``-2023``) within :data:`GATEWAY_REACH_KM` of the dish (a satellite over the dish
  sees gateways about 1,900 km away at most; lasers carry traffic further, so the reach is
  generous), at least the :data:`MIN_GATEWAYS` nearest (:data:`MIN_GATEWAYS_FAR` where none is
  within reach; every one above :data:`POLAR_LATITUDE_DEG`, where the polar shell serves and its
  planes land on any continent); and the PoPs of the same year within
  :data:`POP_REACH_KM`, at least the :data:`MIN_POPS` nearest, and each chosen gateway's own
  nearest PoP (a gateway's traffic leaves at its nearest PoP: without it, Nome, AK would reach
  Warsaw by fibre). The 2023 map's PoP backbone joins the PoPs of either year that it knows (the
  2026 ones by their code);
* **the service model** with its defaults (docs/service-model.md): the kit's cap at the link's
  MODCOD, the dish's own on/off traffic and speed test, and the latency the dish measures to its
  PoP (propagation, MAC scheduling, processing at its 2025 value, its own queue, jitter, short
  outages); no background subscribers and no cell limits (one dish alone);
* **the constellation of the day**: by default the shipped Starlink element set
  (``starlink-2023-12-27``: 5,202 satellites, CelesTrak GP data, leonet/data/orbits), run on the
  day of its epoch, because SGP4 drifts away from real positions within weeks (a ``start`` more
  than :data:`leonet.constants.SGP4_TRUSTED_DAYS` days from it is an error); or any
  constellation preset (``starlink-gen1``: the FCC Gen1 shells), run from now (UTC, the minute);
* **time**: ``duration_s`` (default 120 s) at 1 s steps.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .errors import InputError

#: The shipped element sets a dish run may use: name -> (file under leonet/data/orbits, start).
ORBIT_SETS = {"starlink-2023-12-27": ("starlink_2023-12-27.tle.gz", "2023-12-27T12:00:12Z")}
DEFAULT_CONSTELLATION = "starlink-2023-12-27"
GATEWAY_REACH_KM = 3000.0
POP_REACH_KM = 3000.0
MIN_GATEWAYS = 5
#: A dish with no gateway within reach (Antarctica, mid-ocean) is served over lasers only, and
#: its laser island lands wherever its satellites pass over gateways: more of them are kept.
MIN_GATEWAYS_FAR = 20
#: Above this latitude (deg, either hemisphere) a dish sees mostly the polar shell, whose planes
#: are 60 deg apart and carry no lasers between them (leonet.network.isl.MAX_PLANE_ANGLE_DEG):
#: each plane's ring lands wherever it passes over a gateway, on any continent, so every gateway
#: of the set is kept.
POLAR_LATITUDE_DEG = 66.0
MIN_POPS = 2
DISH_NAME = "my-dish"
MAX_DURATION_S = 3600.0
EARTH_RADIUS_KM = 6371.0


def _great_circle_km(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    la, lo = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
    a0, o0 = np.radians(lat0), np.radians(lon0)
    c = np.sin(la) * np.sin(a0) + np.cos(la) * np.cos(a0) * np.cos(lo - o0)
    return EARTH_RADIUS_KM * np.arccos(np.clip(c, -1.0, 1.0))


def _near(sites, lat: float, lon: float, reach_km: float, at_least: int) -> np.ndarray:
    """Indices of the sites within reach_km, at least the ``at_least`` nearest, nearest first."""
    d = _great_circle_km(sites.lat_deg, sites.lon_deg, lat, lon)
    order = np.argsort(d, kind="stable")
    keep = order[d[order] <= reach_km]
    return keep if len(keep) >= at_least else order[:at_least]


def ground_near(lat: float, lon: float, year: int = 2026) -> tuple[list[dict], dict]:
    """Site entries (gateways and PoPs within reach, see the module doc) and what was chosen."""
    from .ground.builtin import builtin_sites, nearest_pop

    if year not in (2023, 2026):
        raise InputError(f"the built-in ground segment is of 2023 or 2026, got {year}", location="--ground")
    gws = builtin_sites(f"starlink-gateways-{year}")
    pops = builtin_sites(f"starlink-pops-{year}")
    far = _great_circle_km(gws.lat_deg, gws.lon_deg, lat, lon).min() > GATEWAY_REACH_KM
    if abs(lat) >= POLAR_LATITUDE_DEG:
        g = _near(gws, lat, lon, np.inf, MIN_GATEWAYS)
    else:
        g = _near(gws, lat, lon, GATEWAY_REACH_KM, MIN_GATEWAYS_FAR if far else MIN_GATEWAYS)
    # 2023: every PoP (the backbone joins them); 2026: the PoPs within reach and the gateways' own
    p = np.arange(len(pops.name)) if year == 2023 else _near(pops, lat, lon, POP_REACH_KM, MIN_POPS)
    own = [k for k in dict.fromkeys(nearest_pop(gws.take(g), pops).tolist()) if k not in p]
    p = np.concatenate([p, own]).astype(np.int64)
    entries = [{"name": str(gws.name[k]), "lat_deg": float(gws.lat_deg[k]), "lon_deg": float(gws.lon_deg[k]),
                "elevation_m": float(gws.elevation_m[k]), "kind": "gateway", "group": str(gws.group[k])} for k in g]
    entries += [{"name": str(pops.name[k]), "lat_deg": float(pops.lat_deg[k]), "lon_deg": float(pops.lon_deg[k]),
                 "elevation_m": float(pops.elevation_m[k]), "kind": "pop", "group": str(pops.group[k])} for k in p]
    d_g = _great_circle_km(gws.lat_deg[g], gws.lon_deg[g], lat, lon)
    return entries, {"gateways": len(g), "pops": len(p), "nearest_gateway": str(gws.name[g[0]]),
                     "nearest_gateway_km": float(d_g[0])}


def extract_orbit_set(name: str, folder: Path) -> tuple[Path, str]:
    """Decompress a shipped element set into ``folder`` (once): (the .tle path, its run start)."""
    from importlib.resources import files

    file, start = ORBIT_SETS[name]
    out = Path(folder) / file[: -len(".gz")]
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        with files("leonet").joinpath("data", "orbits", file).open("rb") as raw, gzip.open(raw) as src, \
                open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(out)
    return out, start


def _check_start(when: str, set_start: str, constellation: str) -> None:
    """An InputError when ``when`` (ISO UTC) is more than SGP4_TRUSTED_DAYS from the element set's
    epoch: SGP4 years away puts satellites a million km off, yet in view."""
    from .constants import SGP4_TRUSTED_DAYS

    try:
        t = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"is not an ISO 8601 time (e.g. 2023-12-27T20:00:00Z): {when!r}", location="--start") from None
    t = t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    days = abs((t - datetime.fromisoformat(set_start.replace("Z", "+00:00"))).total_seconds()) / 86_400
    if days > SGP4_TRUSTED_DAYS:
        raise InputError(f"{when} is {days:.0f} days from the epoch of {constellation} ({set_start[:10]}); its satellites "
                         f"are trusted within {SGP4_TRUSTED_DAYS} days of it (SGP4 drifts off real positions within "
                         "weeks): choose a start near that date, or a constellation preset (--constellation)",
                         location="--start")


def dish_scenario(lat: float, lon: float, out_dir: Path, *, horizon: list[tuple[float, float]] | None = None,
                  horizon_file: str | Path | None = None,
                  kit: str = "standard", duration_s: float = 120.0, constellation: str = DEFAULT_CONSTELLATION,
                  ground_year: int = 2026, start: str | None = None) -> tuple[dict, dict]:
    """The scenario (a dict for :func:`leonet.scenario.scenario_from_dict`) of one dish at
    (lat, lon) deg, and a dict saying what was chosen (see the module doc). ``horizon``: the
    dish's horizon profile, (azimuth_deg, elevation_deg) points; ``horizon_file``: a CSV of them
    (columns azimuth_deg, elevation_deg), read by the scenario loader."""
    from .service.kits import get_kit

    if not (np.isfinite(lat) and -90 <= lat <= 90):
        raise InputError(f"latitude must be in [-90, 90] deg, got {lat}", location="LAT")
    if not (np.isfinite(lon) and -180 <= lon <= 180):
        raise InputError(f"longitude must be in [-180, 180] deg, got {lon}", location="LON")
    if not (np.isfinite(duration_s) and 1 <= duration_s <= MAX_DURATION_S):
        raise InputError(f"must be in [1, {MAX_DURATION_S:.0f}] s (a dish run is short), got {duration_s}",
                         location="--duration")
    k = get_kit(kit, location="--kit")
    sites, chosen = ground_near(lat, lon, ground_year)
    sites.insert(0, {"name": DISH_NAME, "lat_deg": float(lat), "lon_deg": float(lon), "kind": "dish", "group": DISH_NAME})
    if constellation in ORBIT_SETS:
        tle, set_start = extract_orbit_set(constellation, Path(out_dir) / ".orbits")
        cons = {"orbit_files": [{"path": str(tle), "format": "tle", "shell": constellation}]}
        when = start or set_start
        _check_start(when, set_start, constellation)
    else:
        cons = constellation      # a constellation preset by name; checked by the scenario loader
        when = start or datetime.now(timezone.utc).replace(second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    scenario = {
        "name": "my-dish",
        "description": f"one dish at {lat:.4f}, {lon:.4f} ({k.name} kit), {chosen['gateways']} gateways and "
                       f"{chosen['pops']} PoPs of {ground_year} within reach, {constellation}",
        "constellation": cons,
        "ground": {"sites": sites},
        "time": {"start": when, "duration_s": float(duration_s), "step_s": 1.0},
        "visibility": {"min_elevation_deg": float(k.min_elevation_deg)},
        "network": {"backbone": "community-2023"},
        "capacity": {"enabled": True},
        "service": {"enabled": True, "kit": k.name},
        "outputs": {"dir": str(out_dir), "chunk_steps": 60},
    }
    if horizon is not None and horizon_file is not None:
        raise InputError("give a horizon file or an obstruction map, not both", location="--horizon")
    if horizon is not None:
        scenario["ground"]["obstructions"] = [{"sites": [DISH_NAME], "profile": [list(p) for p in horizon]}]
    if horizon_file is not None:
        scenario["ground"]["obstructions"] = [{"sites": [DISH_NAME], "file": str(Path(horizon_file).resolve())}]
    chosen.update(kit=k.name, constellation=constellation, start=when)
    return scenario, chosen
