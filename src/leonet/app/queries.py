"""Reading and aggregating a results folder for the app: every answer the API gives, as plain
Python values, with no web in it.

Vocabulary. A dish here speaks the Starlink dish's own words (REFERENCE.md, "The user's app and
the dish's status API"). leonet's states map to the dish's ``state`` as follows:

================  ================  =========================================================
leonet_state      state             why
================  ================  =========================================================
CONNECTED         CONNECTED
CONGESTED         CONNECTED         connected, with a downlink below the scenario's threshold:
                                    the dish still says CONNECTED and shows it in throughput
                                    and latency (alert ``congested``); not an outage here
NO_SATS           NO_SATS           no satellite above the minimum elevation
OBSTRUCTED        OBSTRUCTED        satellites in view, but the one to use is behind the mask
NO_PATH           NO_PINGS          the dish has a satellite, but no PoP is reachable through
                                    it: the radio link is up and the PoP does not answer
                                    pings, the dish's outage cause NO_PINGS
JAMMED            NO_DOWNLINK       the user link is jammed: no usable downlink
OFFLINE           DISH_UNREACHABLE  the dish itself is out of service (bricked); a status
                                    reader such as starlink-grpc-tools cannot reach it
================  ================  =========================================================

A state leonet adds later passes through verbatim until it is mapped here.

Bounds. Every query is bounded here as well as at the HTTP door: time spans (``MAX_SPAN_STEPS``),
list sizes, numbers of points. Nothing here takes a file path from a caller: tables are opened by
name, and chunk files by integer chunk number.

Baseline. A run made with ``leonet run SCENARIO --baseline`` holds, in its ``baseline/`` folder
(a fixed name, never one from a request), the same scenario run without its events. When it is
there, :meth:`RunData.compare` gives :func:`leonet.results.compare.compare`'s per-group comparison
and :meth:`RunData.history` can put the baseline's steps beside the scenario's.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import InputError
from ..ground.obstructions import N_AZIMUTH, blocked
from ..results.store import MANIFEST, SCENARIO_FILE, ResultStore
from ..timeutil import utc_to_ns
from .snapshot import SkyModel, constellation_from_table, isl_candidates_for, stride_pick

#: leonet state -> the dish's ``state`` (see the module docstring).
DISH_STATE = {
    "CONNECTED": "CONNECTED", "CONGESTED": "CONNECTED", "NO_SATS": "NO_SATS", "OBSTRUCTED": "OBSTRUCTED",
    "NO_PATH": "NO_PINGS", "JAMMED": "NO_DOWNLINK", "OFFLINE": "DISH_UNREACHABLE",
}


def dish_states(leonet_states) -> np.ndarray:
    """leonet states -> the dish's states (object array), unknown ones verbatim."""
    return np.array([DISH_STATE.get(s, s) for s in leonet_states], dtype=object)

#: The longest time span one history or outage query may cover, in steps.
MAX_SPAN_STEPS = 3600
N_WEDGES = 12
#: The baseline run's folder inside a results folder (what `leonet run --baseline` writes).
BASELINE_DIR = "baseline"
#: At most this many of the scenario's events are listed by /compare.
MAX_EVENTS = 1000

#: Alerts leonet can raise (the dish's hardware alerts - motors, thermal, mast - are not modelled).
ALERTS = {
    "obstructed": "the satellite to use is behind the horizon mask now",
    "no_satellites": "no satellite is above the minimum elevation now",
    "no_pop_reachable": "a satellite is in view but no PoP can be reached through it now",
    "rerouted_mid_slot": "the slot's path broke at this step and the dish was rerouted",
    "congested": "connected, but the downlink is below the scenario's congestion threshold",
    "sky_obstructed": "part of the sky this dish looked at during the run was obstructed",
}


class NotFound(Exception):
    """An id, a step or a table the run does not have (HTTP 404)."""


class BadQuery(Exception):
    """A parameter outside what this run allows (HTTP 422), naming the parameter."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param
        self.message = message


def _iso(t_ns: int) -> str:
    """UTC instant as ISO 8601 with a Z."""
    return pd.Timestamp(int(t_ns), tz="UTC").isoformat().replace("+00:00", "Z")


def _finite_or_none(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _round_list(a: np.ndarray, digits: int) -> list:
    """A float array as a JSON-ready list, NaN as None."""
    a = np.round(np.asarray(a, dtype=np.float64), digits)
    out = a.tolist()
    if np.isnan(a).any():
        out = [None if v != v else v for v in out]
    return out


def _ns(col: pa.ChunkedArray) -> np.ndarray:
    """A timestamp column as int64 ns."""
    return col.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)


@dataclass(frozen=True)
class DishRows:
    """One dish over the run, from ``dish_steps``, sorted by step; every array is (R,)."""

    step: np.ndarray          # int64 step numbers present (all of them for a finished run)
    state: np.ndarray         # object, leonet states
    dish_state: np.ndarray    # object, the dish's states (DISH_STATE)
    rtt_ms: np.ndarray        # float64, NaN when not connected
    serving_sat: np.ndarray   # int32, -1 for none
    gateway: np.ndarray       # int32 site index, -1
    pop: np.ndarray           # int32 site index, -1
    slot_start_ns: np.ndarray  # int64
    isl_hops: np.ndarray
    hops: np.ndarray
    path: list                # list of lists of satellite indices
    path_changed: np.ndarray
    rerouted_mid_slot: np.ndarray
    downlink_bps: np.ndarray | None  # float64, None when the run did not model capacity
    uplink_bps: np.ndarray | None

    @property
    def connected(self) -> np.ndarray:
        return self.dish_state == "CONNECTED"

    def row_of(self, step: int) -> int:
        k = int(np.searchsorted(self.step, step))
        if k >= len(self.step) or self.step[k] != step:
            raise NotFound(f"step {step} was not computed for this dish (the run is incomplete)")
        return k

    def window(self, start: int, end: int) -> slice:
        return slice(int(np.searchsorted(self.step, start)), int(np.searchsorted(self.step, end)))


class RunData:
    """A results folder opened for reading by the app.

    Raises :class:`~leonet.errors.InputError` (from ``ResultStore.read_manifest``) when ``root``
    is not a results folder.
    """

    def __init__(self, root: str | Path, *, open_baseline: bool = True):
        self.root = Path(root).expanduser().resolve()
        if not self.root.is_dir():
            raise InputError("is not a folder (expected a leonet results folder)", source=str(root))
        self.store = ResultStore(self.root)
        self.manifest = self.store.read_manifest()
        for key in ("start_ns", "step_ns", "n_steps"):
            if not isinstance(self.manifest.get(key), int):
                raise InputError(f"manifest.json lacks {key!r}; is this a leonet results folder?", source=str(self.root))
        self.start_ns = int(self.manifest["start_ns"])
        self.step_ns = int(self.manifest["step_ns"])
        self.n_steps = int(self.manifest["n_steps"])
        self.chunk_steps = int(self.manifest.get("chunk_steps") or self.n_steps or 1)
        self.step_s = self.step_ns / 1e9
        self.tables = self.store.tables()
        self.sites = self.store.read("sites").to_pandas()
        for col, default in (("group", ""), ("elevation_m", 0.0)):
            if col not in self.sites:
                self.sites[col] = default
        self.sites["group"] = self.sites["group"].fillna("")
        kind = self.sites["kind"].to_numpy()
        self.dish_sites = np.flatnonzero(kind == "dish")
        self.site_of_dish = {str(self.sites["name"].iat[k]): int(k) for k in self.dish_sites}
        self.site_names = self.sites["name"].to_numpy(dtype=object)
        # How many identical dishes each site stands for (a scenario's dishes_per_site; 1 if none).
        count = pd.to_numeric(self.sites["dishes"], errors="coerce") if "dishes" in self.sites else None
        self.dish_count = np.ones(len(self.sites), dtype=np.int64) if count is None else \
            np.nan_to_num(count.to_numpy(dtype=np.float64), nan=1.0).astype(np.int64)
        self.warnings: list[str] = []
        self.scenario = self._load_scenario()
        self._lock = threading.Lock()          # the per-dish cache
        self._wedge_lock = threading.Lock()    # the run-wide aggregates, each computed once
        self._regions_lock = threading.Lock()
        self._compare_lock = threading.Lock()
        self._dish_cache: dict[int, DishRows] = {}
        self.baseline: RunData | None = self._open_baseline() if open_baseline else None

    def _open_baseline(self) -> RunData | None:
        """The run's baseline (RESULTS/baseline: the same scenario without its events), or None.

        A baseline folder that cannot be read, or whose time grid is not the run's, is left out
        with a warning (``/api/v1/run`` lists warnings)."""
        path = self.root / BASELINE_DIR
        if not (path / MANIFEST).is_file():
            return None
        try:
            base = RunData(path, open_baseline=False)
        except Exception as err:  # the baseline is optional: the run is served without it
            self.warnings.append(f"the baseline folder could not be read ({getattr(err, 'message', err)}): no comparison")
            return None
        if (base.start_ns, base.step_ns) != (self.start_ns, self.step_ns):
            self.warnings.append("the baseline folder's run has another start or step than this run: no comparison")
            return None
        return base

    def _need_baseline(self) -> RunData:
        if self.baseline is None:
            raise NotFound("this run has no baseline: run it with `leonet run SCENARIO --baseline`, which also runs "
                           f"the scenario without its events into RESULTS/{BASELINE_DIR}")
        return self.baseline

    # -- what the run is -----------------------------------------------------------------
    def _load_scenario(self):
        from ..scenario import load_scenario

        path = self.root / SCENARIO_FILE
        if not path.exists():
            self.warnings.append("the results folder has no scenario.yaml: no horizon masks, +Grid lasers assumed")
            return None
        try:
            return load_scenario(path)
        except InputError as err:
            self.warnings.append(f"scenario.yaml could not be read ({err.message}): no horizon masks")
            return None

    @cached_property
    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, 360) horizon masks and the mask number of each site (-1: clear sky)."""
        none = (np.zeros((0, N_AZIMUTH)), np.full(len(self.sites), -1, dtype=np.int64))
        if self.scenario is None or not self.scenario.ground.obstructions:
            return none
        from ..ground.sites import Sites
        from ..sim.model import build_masks

        s = self.sites
        sites = Sites(name=s["name"].tolist(), kind=s["kind"].tolist(), lat_deg=s["lat_deg"].to_numpy(),
                      lon_deg=s["lon_deg"].to_numpy(), elevation_m=s["elevation_m"].to_numpy(),
                      group=s["group"].tolist())
        try:
            return build_masks(self.scenario, sites)
        except InputError as err:
            self.warnings.append(f"horizon masks could not be rebuilt ({err}): obstruction maps show none")
            return none

    @property
    def min_elevation_deg(self) -> float | None:
        return None if self.scenario is None else self.scenario.visibility.min_elevation_deg

    @cached_property
    def sky(self) -> SkyModel:
        constellation = constellation_from_table(self.store.read("satellites"))
        candidates, warnings = isl_candidates_for(self.scenario, constellation)
        self.warnings.extend(warnings)
        isl = self.scenario.network.isl if self.scenario is not None else None
        return SkyModel(
            constellation, candidates,
            grazing_height_m=(isl.grazing_height_km if isl else 80.0) * 1e3,
            isl_max_range_m=(isl.max_range_km * 1e3 if isl and isl.max_range_km else None),
        )

    @property
    def has_network(self) -> bool:
        return "dish_steps" in self.tables

    def info(self) -> dict:
        s = self.scenario
        kinds = self.sites["kind"].value_counts()
        masks, mask_of_site = self.masks
        sats = self.store.read("satellites", columns=["shell"]).column("shell").to_pandas()
        shells = sats.value_counts(sort=False)
        return {
            "name": self.manifest.get("scenario") or (s.name if s else self.root.name),
            "description": s.description if s else "",
            "leonet_version": self.manifest.get("leonet_version"),
            "start": _iso(self.start_ns),
            "step_s": self.step_s,
            "steps": self.n_steps,
            "duration_s": self.n_steps * self.step_s,
            "completed": bool(self.manifest.get("completed", False)),
            "sizes": {
                "satellites": int(len(sats)),
                "shells": [{"name": str(k), "satellites": int(v)} for k, v in shells.items()],
                "dishes": int(kinds.get("dish", 0)),
                "gateways": int(kinds.get("gateway", 0)),
                "pops": int(kinds.get("pop", 0)),
                "stations": int(kinds.get("station", 0)),
                "horizon_masks": int(len(masks)),
                "masked_dishes": int((mask_of_site[self.dish_sites] >= 0).sum()) if len(self.dish_sites) else 0,
            },
            "tables": list(self.tables),
            "network": self.has_network,
            "baseline": self.baseline is not None,
            "events": len(self.scenario.events) if self.scenario is not None else 0,
            "min_elevation_deg": self.min_elevation_deg,
            "states": dict(DISH_STATE),
            "alerts": dict(ALERTS),
            "warnings": list(self.warnings),
        }

    # -- time ------------------------------------------------------------------------------
    def step_of(self, step: int | None, t: datetime | None) -> int:
        """The step asked for by number or by UTC time (the step at or before it); default: last."""
        if step is not None and t is not None:
            raise BadQuery("t", "give either step or t, not both")
        if self.n_steps == 0:
            raise NotFound("the run has no steps")
        if t is not None:
            if t.tzinfo is None:
                t = t.replace(tzinfo=timezone.utc)
            delta = t - datetime(1970, 1, 1, tzinfo=timezone.utc)  # exact for any year, unlike pandas
            t_ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
            step = (t_ns - self.start_ns) // self.step_ns
            if not 0 <= step < self.n_steps:
                raise BadQuery("t", f"t={t.isoformat()} is outside the run ({_iso(self.start_ns)} .. "
                               f"{_iso(self.t_ns(self.n_steps - 1))})")
            return int(step)
        if step is None:
            return self.n_steps - 1
        if not 0 <= step < self.n_steps:
            raise BadQuery("step", f"step must be in 0..{self.n_steps - 1}, got {step}")
        return int(step)

    def t_ns(self, step: int) -> int:
        return self.start_ns + int(step) * self.step_ns

    def span(self, start_step: int | None, end_step: int | None, default_steps: int = MAX_SPAN_STEPS) -> tuple[int, int]:
        """A half-open window [start, end) of steps, checked against the run and MAX_SPAN_STEPS."""
        start = 0 if start_step is None else start_step
        if not 0 <= start < max(self.n_steps, 1):
            raise BadQuery("start_step", f"start_step must be in 0..{self.n_steps - 1}, got {start}")
        end = min(start + default_steps, self.n_steps) if end_step is None else end_step
        if end <= start:
            raise BadQuery("end_step", f"end_step must be greater than start_step ({start}), got {end}")
        if end > self.n_steps:
            raise BadQuery("end_step", f"end_step must be at most {self.n_steps} (the run's steps), got {end}")
        if end - start > MAX_SPAN_STEPS:
            raise BadQuery("end_step", f"a query may span at most {MAX_SPAN_STEPS} steps; asked for {end - start} "
                           f"({start}..{end}); page through the run with start_step")
        return start, end

    # -- dishes ----------------------------------------------------------------------------
    def dish_site(self, dish_id: str) -> int:
        site = self.site_of_dish.get(dish_id)
        if site is None:
            raise NotFound(f"no dish {dish_id!r} in this run ({len(self.dish_sites)} dishes; "
                           "list them at /api/v1/dishes)")
        return site

    def dishes(self, offset: int, limit: int, group: str | None) -> dict:
        d = self.sites.iloc[self.dish_sites]
        if group is not None:
            d = d[d["group"] == group]
        page = d.iloc[offset:offset + limit]
        return {
            "total": int(len(d)), "offset": offset, "limit": limit,
            "dishes": [
                {"id": str(r.name_), "site": int(r.Index), "group": str(r.group),
                 "lat_deg": float(r.lat_deg), "lon_deg": float(r.lon_deg), "dishes": int(self.dish_count[r.Index])}
                for r in page.rename(columns={"name": "name_"}).itertuples()
            ],
        }

    def _need_network(self) -> None:
        if not self.has_network:
            raise NotFound("this run has no network results (table dish_steps); run it with network.enabled: true")

    def dish_rows(self, site: int) -> DishRows:
        """All steps of one dish (cached; one filtered read of dish_steps)."""
        self._need_network()
        with self._lock:
            if site in self._dish_cache:
                return self._dish_cache[site]
        t = self.store.read("dish_steps", columns=self._dish_columns, filters=[("site", "=", int(site))])
        t = t.take(pc.sort_indices(t, [("t", "ascending")]))
        tn = _ns(t.column("t"))
        state = np.asarray(t.column("state").cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)

        def rate(name):
            return t.column(name).to_numpy(zero_copy_only=False).astype(np.float64) if name in t.column_names else None

        rows = DishRows(
            step=(tn - self.start_ns) // self.step_ns,
            state=state, dish_state=dish_states(state),
            rtt_ms=t.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64),
            serving_sat=t.column("serving_sat").to_numpy(zero_copy_only=False),
            gateway=t.column("gateway").to_numpy(zero_copy_only=False),
            pop=t.column("pop").to_numpy(zero_copy_only=False),
            slot_start_ns=_ns(t.column("slot_start")),
            isl_hops=t.column("isl_hops").to_numpy(zero_copy_only=False),
            hops=t.column("hops").to_numpy(zero_copy_only=False),
            path=t.column("path").to_pylist(),
            path_changed=t.column("path_changed").to_numpy(zero_copy_only=False),
            rerouted_mid_slot=t.column("rerouted_mid_slot").to_numpy(zero_copy_only=False),
            downlink_bps=rate("downlink_bps"), uplink_bps=rate("uplink_bps"),
        )
        with self._lock:
            if len(self._dish_cache) >= 256:
                self._dish_cache.pop(next(iter(self._dish_cache)))
            self._dish_cache[site] = rows
        return rows

    @cached_property
    def _dish_columns(self) -> list[str]:
        """The dish_steps columns the app reads (throughput only where the run modelled capacity)."""
        want = ["t", "site", "state", "rtt_ms", "serving_sat", "gateway", "pop", "slot_start", "isl_hops", "hops",
                "path", "path_changed", "rerouted_mid_slot", "downlink_bps", "uplink_bps"]
        have = set(pq.read_schema(sorted((self.root / "dish_steps").glob("part-*.parquet"))[0]).names)
        return [c for c in want if c in have]

    def _site_name(self, site: int) -> str | None:
        return None if site is None or site < 0 else str(self.site_names[site])

    def _sat_name(self, sat: int) -> str | None:
        return None if sat < 0 else str(self.sky.constellation.names[sat])

    def _chunk_rows(self, table: str, step: int, site: int) -> dict | None:
        """One (step, site) row of a per-step table, reading only the chunk file that holds it."""
        path = self.store.chunk_path(table, int(step) // self.chunk_steps)
        if not path.exists():
            return None
        ts = pa.scalar(self.t_ns(step), pa.timestamp("ns", tz="UTC"))
        t = pq.read_table(path, filters=[("site", "=", int(site)), ("t", "=", ts)])
        return t.to_pylist()[0] if t.num_rows else None

    # -- obstruction statistics over the run ----------------------------------------------
    @cached_property
    def _wedge_counts(self) -> np.ndarray | None:
        """(sites, 12, 2): look directions in view per wedge, [all, obstructed], over the run.

        One pass over the visibility table, a batch of rows at a time (bounded memory), cached for
        every dish: about 1 s per 10 million rows. :meth:`warm_up` starts it when the server starts.
        None when the run kept no visibility pairs.
        """
        if "visibility" not in self.tables:
            return None
        n = len(self.sites)
        counts = np.zeros((2, n * N_WEDGES), dtype=np.int64)
        for part in sorted((self.root / "visibility").glob("part-*.parquet")):
            f = pq.ParquetFile(part)
            want = ["site", "azimuth_deg"] + (["obstructed"] if "obstructed" in f.schema_arrow.names else [])
            for batch in f.iter_batches(batch_size=1 << 22, columns=want):
                site = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
                az = batch.column(1).to_numpy(zero_copy_only=False)  # [0, 360) clockwise from north
                wedge = np.minimum((az * np.float32(1 / 30)).astype(np.int32), N_WEDGES - 1)
                key = site * N_WEDGES + wedge
                counts[0] += np.bincount(key, minlength=n * N_WEDGES)
                if len(want) == 3:
                    obs = batch.column(2).to_numpy(zero_copy_only=False)
                    counts[1] += np.bincount(key[obs], minlength=n * N_WEDGES)
        return counts.T.reshape(n, N_WEDGES, 2)

    def warm_up(self) -> threading.Thread:
        """Compute the run-wide aggregates (obstruction wedges, regions) in the background, so
        the first request that needs them finds them ready (or waits for them, not twice)."""
        def work():
            try:
                self.obstruction_stats(int(self.dish_sites[0]) if len(self.dish_sites) else 0)
                if self.has_network:
                    self.regions(0, 1)
                    if self.baseline is not None and self.baseline.has_network:
                        self.compare(0, 1)
            except Exception as err:  # a request will meet the same error and report it
                self.warnings.append(f"background aggregation failed: {err}")

        thread = threading.Thread(target=work, name="leonet-app-warm-up", daemon=True)
        thread.start()
        return thread

    def obstruction_stats(self, site: int) -> tuple[float | None, list[float | None] | None]:
        """(fraction_obstructed, wedges_fraction_obstructed) of a dish over the run.

        A look direction is one (step, satellite above the minimum elevation) of the visibility
        table. A wedge's fraction is obstructed directions / all directions in that wedge (None
        for a wedge no satellite crossed); fraction_obstructed is the same over the whole sky.
        """
        with self._wedge_lock:
            counts = self._wedge_counts
        if counts is None:
            return None, None
        c = counts[site]
        total = c[:, 0].sum()
        wedges = [float(o / a) if a else None for a, o in c]
        return (float(c[:, 1].sum() / total) if total else None), wedges

    # -- status, history, outages --------------------------------------------------------------
    def status(self, dish_id: str, step: int | None, t: datetime | None) -> dict:
        site = self.dish_site(dish_id)
        rows = self.dish_rows(site)
        step = self.step_of(step, t)
        k = rows.row_of(step)
        t_ns = self.t_ns(step)
        leonet_state = str(rows.state[k])
        connected = bool(rows.connected[k])
        # uptime: since the first step of the current connected stretch
        before = np.flatnonzero(~rows.connected[:k + 1])
        up_from = (int(before[-1]) + 1) if len(before) else 0
        uptime_s = (step - int(rows.step[up_from])) * self.step_s if connected else 0.0
        sat = int(rows.serving_sat[k])
        azimuth = elevation = None
        if sat >= 0:
            r = self.sites.iloc[site]
            az, el = self.sky.look_angles_from(float(r.lat_deg), float(r.lon_deg), float(r.elevation_m),
                                               np.array([sat]), np.array([t_ns]))
            azimuth, elevation = _finite_or_none(az[0, 0]), _finite_or_none(el[0, 0])
        fraction, wedges = self.obstruction_stats(site)
        seen = self._chunk_rows("site_steps", step, site) if "site_steps" in self.tables else None
        alerts = []
        if leonet_state == "OBSTRUCTED":
            alerts.append("obstructed")
        if leonet_state == "NO_SATS":
            alerts.append("no_satellites")
        if leonet_state == "NO_PATH":
            alerts.append("no_pop_reachable")
        if bool(rows.rerouted_mid_slot[k]):
            alerts.append("rerouted_mid_slot")
        if leonet_state == "CONGESTED":
            alerts.append("congested")
        if fraction:
            alerts.append("sky_obstructed")
        r = self.sites.iloc[site]
        return {
            "id": dish_id, "site": site, "group": str(r.group),
            "lat_deg": float(r.lat_deg), "lon_deg": float(r.lon_deg),
            "step": step, "t": _iso(t_ns), "t_s": step * self.step_s,
            "state": str(rows.dish_state[k]),
            "leonet_state": leonet_state,
            "pop_ping_latency_ms": _finite_or_none(rows.rtt_ms[k]) if connected else None,
            "pop_ping_drop_rate": 0.0 if connected else 1.0,
            "downlink_throughput_bps": _finite_or_none(rows.downlink_bps[k]) if rows.downlink_bps is not None else None,
            "uplink_throughput_bps": _finite_or_none(rows.uplink_bps[k]) if rows.uplink_bps is not None else None,
            "fraction_obstructed": fraction,
            "wedges_fraction_obstructed": wedges,
            "currently_obstructed": leonet_state == "OBSTRUCTED",
            "direction_azimuth": azimuth,
            "direction_elevation": elevation,
            "uptime_s": uptime_s,
            "connected_since": _iso(self.t_ns(int(rows.step[up_from]))) if connected else None,
            "serving_sat": sat if sat >= 0 else None,
            "serving_sat_name": self._sat_name(sat),
            "gateway": self._site_name(int(rows.gateway[k])),
            "pop": self._site_name(int(rows.pop[k])),
            "isl_hops": int(rows.isl_hops[k]) if rows.isl_hops[k] >= 0 else None,
            "hops": int(rows.hops[k]) if rows.hops[k] >= 0 else None,
            "path": [int(x) for x in (rows.path[k] or [])],
            "slot_start": _iso(int(rows.slot_start_ns[k])),
            "satellites_in_view": int(seen["n_visible"]) if seen else None,
            "satellites_clear": int(seen["n_clear"]) if seen and seen.get("n_clear") is not None else None,
            "alerts": alerts,
        }

    def history(self, dish_id: str, start_step: int | None, end_step: int | None, baseline: bool = False) -> dict:
        site = self.dish_site(dish_id)
        rows = self.dish_rows(site)
        start, end = self.span(start_step, end_step)
        base = self._baseline_history(dish_id, rows.step[rows.window(start, end)]) if baseline else None
        w = rows.window(start, end)
        state = rows.state[w]
        connected = rows.connected[w]
        rtt = np.where(connected, rows.rtt_ms[w], np.nan)
        slot = rows.slot_start_ns[w]
        boundaries = np.unique(slot[slot >= self.t_ns(start)])  # slot starts inside the window
        finite = rtt[np.isfinite(rtt)]
        sats = rows.serving_sat[w].astype(np.int64)
        return {
            "id": dish_id, "start_step": start, "end_step": end, "start": _iso(self.t_ns(start)),
            "step_s": self.step_s,
            "steps": rows.step[w].astype(int).tolist(),
            "t_s": (rows.step[w] * self.step_s).tolist(),
            "state": rows.dish_state[w].tolist(),
            "leonet_state": [str(s) for s in state],
            "pop_ping_latency_ms": _round_list(rtt, 3),
            "pop_ping_drop_rate": (1.0 - connected).tolist(),
            "downlink_throughput_bps": _round_list(rows.downlink_bps[w], 0) if rows.downlink_bps is not None else None,
            "uplink_throughput_bps": _round_list(rows.uplink_bps[w], 0) if rows.uplink_bps is not None else None,
            "serving_sat": [int(s) if s >= 0 else None for s in sats],
            "serving_sat_name": [self._sat_name(int(s)) for s in sats],
            "path_changed": rows.path_changed[w].astype(bool).tolist(),
            "rerouted_mid_slot": rows.rerouted_mid_slot[w].astype(bool).tolist(),
            "slot_boundaries_s": ((boundaries - self.start_ns) / 1e9).tolist(),
            "summary": {
                "pop_ping_drop_rate": float(1.0 - connected.mean()) if len(state) else None,
                "latency_p50_ms": _finite_or_none(np.percentile(finite, 50)) if len(finite) else None,
                "latency_p95_ms": _finite_or_none(np.percentile(finite, 95)) if len(finite) else None,
            },
            "baseline": base,
        }

    def _baseline_history(self, dish_id: str, steps: np.ndarray) -> dict:
        """The baseline's state and latency of a dish at the given steps (None where the baseline
        has no such step)."""
        b = self._need_baseline()
        site = b.site_of_dish.get(dish_id)
        if site is None:
            raise NotFound(f"no dish {dish_id!r} in this run's baseline")
        rows = b.dish_rows(site)
        steps = np.asarray(steps, dtype=np.int64)
        k = np.searchsorted(rows.step, steps)
        have = k < len(rows.step)
        have[have] = rows.step[k[have]] == steps[have]
        k = np.where(have, k, 0)
        connected = np.zeros(len(steps), dtype=bool)
        connected[have] = rows.connected[k[have]]
        rtt = np.full(len(steps), np.nan)
        rtt[connected] = rows.rtt_ms[k[connected]]
        finite = rtt[np.isfinite(rtt)]
        return {
            "name": str(b.manifest.get("scenario") or BASELINE_DIR),
            "state": [str(rows.dish_state[j]) if h else None for j, h in zip(k, have)],
            "leonet_state": [str(rows.state[j]) if h else None for j, h in zip(k, have)],
            "pop_ping_latency_ms": _round_list(rtt, 3),
            "pop_ping_drop_rate": [(0.0 if c else 1.0) if h else None for c, h in zip(connected, have)],
            "summary": {
                "pop_ping_drop_rate": float(1.0 - connected[have].mean()) if have.any() else None,
                "latency_p50_ms": _finite_or_none(np.percentile(finite, 50)) if len(finite) else None,
                "latency_p95_ms": _finite_or_none(np.percentile(finite, 95)) if len(finite) else None,
            },
        }

    def outages(self, dish_id: str, start_step: int | None, end_step: int | None, limit: int) -> dict:
        """Runs of consecutive steps with one cause, where the dish's state is not CONNECTED (so a
        CONGESTED dish is not in an outage), in a window of at most MAX_SPAN_STEPS (default: the
        first MAX_SPAN_STEPS of the run)."""
        site = self.dish_site(dish_id)
        rows = self.dish_rows(site)
        start, end = self.span(start_step, end_step)
        w = rows.window(start, end)
        state, step, leonet = rows.dish_state[w], rows.step[w], rows.state[w]
        change = np.r_[True, (state[1:] != state[:-1]) | (np.diff(step) != 1)] if len(state) else np.zeros(0, bool)
        starts = np.flatnonzero(change)
        stops = np.r_[starts[1:], len(state)]
        out, by_cause = [], {}
        last_step = int(rows.step[-1]) if len(rows.step) else -1
        for a, b in zip(starts, stops):
            if state[a] == "CONNECTED":
                continue
            cause = str(state[a])
            seconds = float((b - a) * self.step_s)
            by_cause[cause] = by_cause.get(cause, 0.0) + seconds
            if len(out) < limit:
                first, past = int(step[a]), int(step[b - 1]) + 1
                out.append({
                    "cause": cause, "leonet_state": str(leonet[a]),
                    "start": _iso(self.t_ns(first)), "end": _iso(self.t_ns(past)),
                    "start_step": first, "end_step": past,
                    "start_s": first * self.step_s, "duration_s": seconds,
                    "ongoing": past - 1 == last_step and past == self.n_steps,
                })
        total = int(sum(1 for a in starts if state[a] != "CONNECTED"))
        return {"id": dish_id, "start_step": start, "end_step": end, "total": total,
                "truncated": total > len(out), "seconds_by_cause": by_cause, "outages": out}

    # -- obstruction map -----------------------------------------------------------------------
    def obstruction_map(self, dish_id: str, max_tracks: int, max_points: int) -> dict:
        site = self.dish_site(dish_id)
        rows = self.dish_rows(site)
        masks, mask_of_site = self.masks
        m = int(mask_of_site[site]) if len(mask_of_site) else -1
        fraction, wedges = self.obstruction_stats(site)
        used, served = np.unique(rows.serving_sat[rows.serving_sat >= 0], return_counts=True)
        order = np.argsort(-served, kind="stable")
        n_used = len(used)
        used, served = used[order][:max_tracks], served[order][:max_tracks]
        if len(used) < max_tracks and "site_steps" in self.tables:
            # Room left: the satellites that were highest in this dish's sky (site_steps.best_sat),
            # so a dish that never connected still shows what it was looking at.
            best = self.store.read("site_steps", columns=["best_sat"], filters=[("site", "=", int(site))])
            best = best.column("best_sat").to_numpy(zero_copy_only=False)
            extra, n_best = np.unique(best[(best >= 0) & ~np.isin(best, used)], return_counts=True)
            extra = extra[np.argsort(-n_best, kind="stable")][:max_tracks - len(used)]
            used = np.r_[used, extra].astype(np.int64)
            served = np.r_[served, np.zeros(len(extra), dtype=np.int64)]
        steps = rows.step[stride_pick(len(rows.step), max_points)]
        r = self.sites.iloc[site]
        az, el = self.sky.look_angles_from(float(r.lat_deg), float(r.lon_deg), float(r.elevation_m),
                                           used, self.start_ns + steps * self.step_ns)
        floor = self.min_elevation_deg if self.min_elevation_deg is not None else 0.0
        serving_at = rows.serving_sat[np.searchsorted(rows.step, steps)]
        tracks = []
        for j, sat in enumerate(used):
            keep = np.isfinite(el[:, j]) & (el[:, j] >= floor)
            a, e = az[keep, j], el[keep, j]
            obstructed = blocked(masks, mask_of_site, np.full(len(a), site), a, e) if m >= 0 else np.zeros(len(a), bool)
            tracks.append({
                "sat": int(sat), "name": self._sat_name(int(sat)), "used": bool(served[j] > 0),
                "serving_steps": int(served[j]),
                "t_s": (steps[keep] * self.step_s).tolist(),
                "azimuth_deg": _round_list(a, 2), "elevation_deg": _round_list(e, 2),
                "serving": (serving_at[keep] == sat).tolist(),
                "obstructed": obstructed.tolist(),
            })
        return {
            "id": dish_id,
            "horizon_mask_deg": _round_list(masks[m], 2) if m >= 0 else None,
            "min_elevation_deg": self.min_elevation_deg,
            "fraction_obstructed": fraction,
            "wedges_fraction_obstructed": wedges,
            "satellites_used": int(n_used),
            "tracks": tracks,
        }

    # -- the whole network at one instant -----------------------------------------------------------
    def _dish_states_at(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(site, leonet state, rtt_ms) of every dish at a step, from one chunk file."""
        path = self.store.chunk_path("dish_steps", step // self.chunk_steps)
        if not path.exists():
            raise NotFound(f"step {step} was not computed (the run is incomplete)")
        ts = pa.scalar(self.t_ns(step), pa.timestamp("ns", tz="UTC"))
        t = pq.read_table(path, columns=["site", "state", "rtt_ms"], filters=[("t", "=", ts)])
        return (t.column("site").to_numpy(zero_copy_only=False).astype(np.int64),
                np.asarray(t.column("state").cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object),
                t.column("rtt_ms").to_numpy(zero_copy_only=False).astype(np.float64))

    def snapshot(self, step: int | None, t: datetime | None, max_satellites: int, max_links: int,
                 max_dishes: int) -> dict:
        step = self.step_of(step, t)
        t_ns = self.t_ns(step)
        sky = self.sky.at(t_ns)
        c = self.sky.constellation
        ok = np.flatnonzero(np.isfinite(sky.lat_deg))
        shown = ok[stride_pick(len(ok), max_satellites)]
        links = sky.links[stride_pick(len(sky.links), max_links)]
        a, b = links[:, 0], links[:, 1]
        ground = {}
        for kind in ("gateway", "pop"):
            g = self.sites[self.sites["kind"] == kind].iloc[:2000]
            ground[kind] = {"name": g["name"].astype(str).tolist(), "lat_deg": _round_list(g["lat_deg"], 4),
                            "lon_deg": _round_list(g["lon_deg"], 4)}
        dishes = {"total": int(len(self.dish_sites)), "shown": 0, "by_state": {}, "by_leonet_state": {}, "id": [],
                  "lat_deg": [], "lon_deg": [], "state": [], "leonet_state": [], "pop_ping_latency_ms": []}
        if self.has_network and len(self.dish_sites):
            site, state, rtt = self._dish_states_at(step)
            dish_state = dish_states(state)
            names, counts = np.unique(dish_state, return_counts=True)
            lnames, lcounts = np.unique(state, return_counts=True)
            # Thinning keeps every dish in trouble first (congested too), then an even spread of
            # the connected.
            trouble = np.flatnonzero(state != "CONNECTED")[:max_dishes]
            fine = np.flatnonzero(state == "CONNECTED")
            fine = fine[stride_pick(len(fine), max_dishes - len(trouble))] if max_dishes > len(trouble) else fine[:0]
            pick = np.sort(np.r_[trouble, fine]).astype(np.int64)
            s = self.sites.iloc[site[pick]]
            dishes.update(
                shown=int(len(pick)), by_state={str(k): int(v) for k, v in zip(names, counts)},
                by_leonet_state={str(k): int(v) for k, v in zip(lnames, lcounts)},
                leonet_state=state[pick].tolist(),
                id=s["name"].astype(str).tolist(), lat_deg=_round_list(s["lat_deg"], 4),
                lon_deg=_round_list(s["lon_deg"], 4), state=dish_state[pick].tolist(),
                pop_ping_latency_ms=_round_list(np.where(dish_state[pick] == "CONNECTED", rtt[pick], np.nan), 2),
            )
        return {
            "step": step, "t": _iso(t_ns), "t_s": step * self.step_s,
            "shell_names": list(c.shell_names),
            "satellites": {
                "total": int(len(c)), "shown": int(len(shown)),
                "sat": shown.tolist(), "shell": c.shell[shown].astype(int).tolist(),
                "lat_deg": _round_list(sky.lat_deg[shown], 3), "lon_deg": _round_list(sky.lon_deg[shown], 3),
                "alt_km": _round_list(sky.alt_m[shown] / 1e3, 1),
            },
            "laser_links": {
                "total": int(len(sky.links)), "shown": int(len(links)),
                "a_lat_deg": _round_list(sky.lat_deg[a], 3), "a_lon_deg": _round_list(sky.lon_deg[a], 3),
                "b_lat_deg": _round_list(sky.lat_deg[b], 3), "b_lon_deg": _round_list(sky.lon_deg[b], 3),
            },
            "gateways": ground["gateway"],
            "pops": ground["pop"],
            "dishes": dishes,
        }

    # -- regions ---------------------------------------------------------------------------
    @cached_property
    def _regions(self) -> list[dict]:
        from ..results.summary import network_summary

        summary = network_summary(self.store)
        if summary is None:
            return []
        g = summary.by_group()
        lost = [s for s in summary.states if s != "CONNECTED" and s in g.columns]

        def outage_steps(r) -> dict[str, int]:
            by_cause: dict[str, int] = {}
            for s in lost:
                cause = DISH_STATE.get(s, s)
                if cause != "CONNECTED" and int(r[s]):
                    by_cause[cause] = by_cause.get(cause, 0) + int(r[s])
            return by_cause

        out = []
        for _, r in g.iterrows():
            out.append({
                "group": str(r["group"]), "dishes": int(r["dishes"]), "steps": int(r["steps"]),
                "availability": _finite_or_none(r["availability"]),
                "rtt_p5_ms": _finite_or_none(r.get("rtt_p5_ms")),
                "rtt_p50_ms": _finite_or_none(r.get("rtt_p50_ms")),
                "rtt_p95_ms": _finite_or_none(r.get("rtt_p95_ms")),
                "path_changes": int(r.get("path_changes", 0)),
                "downlink_p10_mbps": _finite_or_none(r.get("down_p10_mbps")),
                "downlink_p50_mbps": _finite_or_none(r.get("down_p50_mbps")),
                "uplink_p50_mbps": _finite_or_none(r.get("up_p50_mbps")),
                "speedtest_p50_mbps": _finite_or_none(r.get("speedtest_p50_mbps")),
                "top_gateway": str(r.get("top_gateway", "")) or None, "top_pop": str(r.get("top_pop", "")) or None,
                "outage_steps": outage_steps(r),
                "outage_steps_by_leonet_state": {s: int(r[s]) for s in lost if int(r[s])},
            })
        return out

    def regions(self, offset: int, limit: int) -> dict:
        self._need_network()
        with self._regions_lock:
            rows = self._regions
        return {"total": len(rows), "offset": offset, "limit": limit, "regions": rows[offset:offset + limit]}

    # -- scenario vs baseline ---------------------------------------------------------------------
    def events(self) -> list[dict]:
        """The scenario's events, their start and end resolved as the simulation resolves them
        (``start``/``end`` UTC, or ``start_s``/``end_s`` after the scenario's ``time.start``)."""
        from ..results.compare import EVENT_STATE

        if self.scenario is None:
            return []
        t0_run = utc_to_ns(self.scenario.time.start)
        last_ns = self.t_ns(max(self.n_steps - 1, 0))
        out = []
        for e in self.scenario.events:
            t0 = utc_to_ns(e.start) if e.start is not None else t0_run + int(round(e.start_s * 1e9))
            if e.end is not None:
                t1 = utc_to_ns(e.end)
            elif e.end_s is not None:
                t1 = t0_run + int(round(e.end_s * 1e9))
            else:
                t1 = None
            out.append({
                "name": e.name, "type": e.type, "description": e.description,
                "start": _iso(t0), "end": _iso(t1) if t1 is not None else None,
                "start_s": (t0 - self.start_ns) / 1e9,
                "end_s": (t1 - self.start_ns) / 1e9 if t1 is not None else None,
                "ends_in_run": t1 is not None and t1 <= last_ns,
                "recovery_state": EVENT_STATE.get(e.type),
                "_end_ns": t1,
            })
        return out

    @cached_property
    def _compare(self) -> list[dict]:
        from ..results.compare import LOST_STATES, compare

        base = self._need_baseline()
        base._need_network()
        events = self.events()
        ends = {e["name"]: (e["_end_ns"], e["type"]) for e in events if e["ends_in_run"]}
        df = compare(self.store, base.store, ends)
        rec = [e for e in events if e["ends_in_run"] and e["recovery_state"] is not None]
        out = []
        for group, r in df.iterrows():
            by_state = {s: float(r.get(f"lost_s_{s}", 0.0) or 0.0) for s in LOST_STATES}
            by_cause: dict[str, float] = {}
            for s, v in by_state.items():
                cause = DISH_STATE.get(s, s)
                if v and cause != "CONNECTED":
                    by_cause[cause] = by_cause.get(cause, 0.0) + v
            online = None
            if "online_satellite" in df.columns:
                online = {h: _finite_or_none(r[f"online_{h}"]) for h in ("satellite", "ground", "both", "none")}
            recovery = []
            for e in rec:
                v = r.get(f"recover_s_{e['name']}")
                if v is None or np.isnan(v):
                    continue  # the event left none of this group's dishes in its state at its end
                recovery.append({"event": e["name"], "type": e["type"], "state": e["recovery_state"],
                                 "median_s": _finite_or_none(v), "recovered": bool(np.isfinite(v))})
            out.append({
                "group": str(group), "dishes": int(r["dishes"]),
                "availability": _finite_or_none(r["availability"]),
                "availability_baseline": _finite_or_none(r["availability_baseline"]),
                "availability_change": _finite_or_none(r["availability_change"]),
                "rtt_p50_ms": _finite_or_none(r["rtt_p50_ms"]),
                "rtt_p50_ms_baseline": _finite_or_none(r["rtt_p50_ms_baseline"]),
                "rtt_p50_inflation_ms": _finite_or_none(r["rtt_p50_inflation_ms"]),
                "lost_s_by_leonet_state": by_state,
                "lost_s_by_cause": by_cause,
                "online_by": online,
                "saved_by_satellite_s": _finite_or_none(r["saved_by_satellite_s"]) if "saved_by_satellite_s" in df.columns else None,
                "recovery": recovery,
            })
        return out

    def compare(self, offset: int, limit: int) -> dict:
        """Scenario vs baseline per dish group (:func:`leonet.results.compare.compare`), and the
        scenario's events. 404 when the run has no baseline."""
        base = self._need_baseline()
        self._need_network()
        with self._compare_lock:
            rows = self._compare
        events = [{k: v for k, v in e.items() if not k.startswith("_")} for e in self.events()]
        return {
            "scenario": str(self.manifest.get("scenario") or self.root.name),
            "baseline": str(base.manifest.get("scenario") or BASELINE_DIR),
            "step_s": self.step_s,
            "events_total": len(events), "events": events[:MAX_EVENTS],
            "total": len(rows), "offset": offset, "limit": limit, "groups": rows[offset:offset + limit],
        }
