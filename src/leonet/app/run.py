"""A results folder opened for the app: the run as a whole (what it is, its time grid, its sites,
its sky) and the shared machinery the dish and network answers are built on. A dish's rows over
the run (the ``dish_steps`` chunk files and their caches) are read by :mod:`leonet.app.dish_rows`,
a part of :class:`RunData`; the query errors are :mod:`leonet.app.errors`.

Everything comes from the results folder: tables, ``manifest.json`` and the contract files
(:mod:`leonet.results.contract`: resolved horizon masks, events, slot clock, laser-link candidates,
warnings). Satellites are propagated from the stored elements with :mod:`leonet.space`. Nothing
is rebuilt from the scenario's input files, and nothing of the engine is imported.

Vocabulary. A dish speaks the Starlink dish's own words (:mod:`leonet.states`: CONGESTED is
CONNECTED to the dish, with the alert ``congested``; NO_PATH is NO_PINGS; JAMMED is NO_DOWNLINK;
OFFLINE is DISH_UNREACHABLE). A state leonet adds later passes through verbatim until it is
mapped there.

Bounds. Every query is bounded here as well as at the HTTP door: time spans (``MAX_SPAN_STEPS``),
list sizes, numbers of points. Nothing here takes a file path from a caller: tables are opened by
name, and chunk files by integer chunk number.

Baseline. A run made with ``leonet run SCENARIO --baseline`` holds, in its ``baseline/`` folder
(a fixed name, never one from a request), the same scenario run without its events.
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import states
from ..results.contract import RunContract, read_contract
from ..results.baseline import sites_mismatch
from ..results.calendar import calendar, seconds_text
from ..horizon import wedge_of
from ..results.store import BASELINE_DIR, MANIFEST, ResultStore
from ..space.constellation import Constellation
from ..timeutil import ns_to_iso
from . import schemas
from .dish_rows import DishRowsReader
from .errors import BadQuery, NotFound
from .snapshot import SkyModel

#: The longest time span one history or outage query may cover, in steps.
MAX_SPAN_STEPS = 3600
N_WEDGES = 12
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
    "jammed": "the downlink is jammed now (a jamming event covers this dish)",
    "dish_offline": "the dish itself is offline now (e.g. bricked by an event)",
    "sold_out": "the dish's cell is full (SOLD_OUT, the dish's NO_SERVICE_PLAN): on the waiting list, no service",
    "geofenced": "the operator refuses service where the dish is now (GEOFENCED, the dish's NO_SERVICE_HERE)",
    # Events acting on this dish now (events.json: the run's resolved targets and instants):
    "jamming": "a jamming event is active where this dish is",
    "ground_internet_down": "an event has this dish's ground (terrestrial) internet down",
    "demand_surge": "an event raises this dish's demand (more users)",
    "core_outage": "an event has the core (every PoP) down",
    "dish_bricking": "an event bricks this dish",
    "ground_segment_loss": "an event has the gateway or PoP this dish uses (or last used) down",
    "satellite_failures": "an event has satellites failing",
}

#: Event type -> the alert a dish gets while the event acts on it.
EVENT_ALERT = {"jamming": "jamming", "terrestrial_outage": "ground_internet_down", "demand_surge": "demand_surge",
               "core_outage": "core_outage", "dish_bricking": "dish_bricking", "gateway_loss": "ground_segment_loss",
               "pop_loss": "ground_segment_loss", "fibre_cut": "ground_segment_loss",
               "satellite_failures": "satellite_failures"}
#: Events whose targets are ground sites that go down (marked on the globe while they act).
SITE_LOSS_EVENTS = ("gateway_loss", "pop_loss")


def finite_or_none(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def round_list(a: np.ndarray, digits: int) -> list:
    """A float array as a JSON-ready list, NaN as None."""
    a = np.round(np.asarray(a, dtype=np.float64), digits)
    out = a.tolist()
    if np.isnan(a).any():
        out = [None if v != v else v for v in out]
    return out


class RunData(DishRowsReader):
    """A results folder opened for reading by the app.

    Raises :class:`~leonet.errors.InputError` when ``root`` is not a results folder, and
    :class:`~leonet.results.store.DamagedResults` (an InputError) naming every chunk file that is
    missing, truncated or changed since the run wrote it: a damaged run is not served.
    """

    def __init__(self, root: str | Path, *, open_baseline: bool = True):
        typed = Path(root).expanduser()
        if not (typed / MANIFEST).is_file():  # a missing folder, a file, another folder: said as every reader
            ResultStore(typed).read_manifest()  # says it, naming the path as typed (leonet summary does)
        self.root = typed.resolve()
        self.store = ResultStore(self.root)
        self.manifest = self.store.read_manifest()
        self.store.verify()
        self.start_ns = self.manifest.start_ns
        self.step_ns = self.manifest.step_ns
        self.n_steps = self.manifest.n_steps
        self.chunk_steps = self.manifest.chunk_steps
        self.step_s = self.step_ns / 1e9
        # The calendar: every step's instant and the time it stands for (windowed runs are uneven).
        self.cal = calendar(self.store)
        self.uniform = self.cal.uniform
        self.tables = self.store.tables()
        self.contract: RunContract = read_contract(self.store)
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
        self.warnings: list[str] = list(self.contract.warnings)
        self._open_dish_caches()               # the per-dish rows and chunk files (dish_rows)
        self._aggregate_locks: dict[str, threading.Lock] = {}
        self._aggregates: dict[str, object] = {}
        self._aggregates_lock = threading.Lock()
        self.baseline_left_out: str | None = None   # why a baseline folder there is not used
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
            return self._leave_out_baseline(f"the baseline folder could not be read ({getattr(err, 'message', err)})")
        if (base.start_ns, base.step_ns) != (self.start_ns, self.step_ns) or base.uniform != self.uniform or \
                (not self.uniform and not np.array_equal(base.cal.times_ns, self.cal.times_ns)):
            return self._leave_out_baseline("the baseline folder's run has another start or step than this run")
        try:
            other_sites = sites_mismatch(self.store, base.store)
        except Exception as err:
            return self._leave_out_baseline(f"the baseline folder's sites could not be read ({getattr(err, 'message', err)})")
        if other_sites:  # dishes are paired by their row in each run's sites
            return self._leave_out_baseline(f"the baseline folder's run {other_sites}")
        return base

    def _leave_out_baseline(self, why: str) -> None:
        """Serve the run without its baseline, saying why in ``/api/v1/run``'s warnings and in the
        answer of every request that needs it."""
        self.baseline_left_out = why
        self.warnings.append(f"{why}: no comparison")
        return None

    def need_baseline(self) -> RunData:
        if self.baseline is None:
            if self.baseline_left_out:
                raise NotFound(f"this run's baseline ({BASELINE_DIR}/) is left out: {self.baseline_left_out}; run "
                               "`leonet run SCENARIO --baseline` again to compute it anew")
            raise NotFound("this run has no baseline: run it with `leonet run SCENARIO --baseline`, which also runs "
                           f"the scenario without its events into RESULTS/{BASELINE_DIR}")
        return self.baseline

    def aggregate(self, name: str, compute: Callable[[], object]):
        """A run-wide aggregate, computed once (concurrent callers wait for the first)."""
        with self._aggregates_lock:
            lock = self._aggregate_locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._aggregates:
                self._aggregates[name] = compute()
            return self._aggregates[name]

    # -- what the run is -----------------------------------------------------------------
    @property
    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, 360) horizon masks and the mask number of each site (-1: clear sky), as the run
        resolved them (``obstructions.json``)."""
        return self.contract.masks, self.contract.mask_of_site

    @property
    def min_elevation_deg(self) -> float | None:
        return self.contract.facts.min_elevation_deg

    @cached_property
    def sky(self) -> SkyModel:
        constellation = Constellation.from_table(self.store.read("satellites"))
        isl = self.contract.facts.isl
        return SkyModel(constellation, self.contract.isl_pairs,
                        grazing_height_m=isl.grazing_height_m, isl_max_range_m=isl.max_range_m)

    @property
    def has_network(self) -> bool:
        return "dish_steps" in self.tables

    def info(self) -> schemas.RunInfo:
        facts = self.contract.facts
        kinds = self.sites["kind"].value_counts()
        masks, mask_of_site = self.masks
        shells = self.store.read("satellites", columns=["shell"]).column("shell").to_pandas().value_counts(sort=False)
        return schemas.RunInfo(
            name=self.manifest.scenario or facts.name or self.root.name,
            description=facts.description,
            leonet_version=self.manifest.leonet_version,
            start=ns_to_iso(self.start_ns), step_s=self.step_s, steps=self.n_steps,
            duration_s=self.n_steps * self.step_s if self.cal.even else (self.cal.end_ns - self.start_ns) / 1e9,
            uniform_steps=self.uniform, calendar=self.calendar_text,
            last_step_s=float(self.cal.durations_s[-1]) if self.n_steps else None,
            completed=self.manifest.completed,
            slot_period_s=facts.slot.period_s, slot_offset_s=facts.slot.offset_s,
            sizes=schemas.Sizes(
                satellites=int(self.manifest.n_satellites),
                shells=[schemas.ShellSize(name=str(k), satellites=int(v)) for k, v in shells.items()],
                dishes=int(self.dish_count[self.dish_sites].sum()), dish_sites=int(len(self.dish_sites)),
                gateways=int(kinds.get("gateway", 0)),
                pops=int(kinds.get("pop", 0)), stations=int(kinds.get("station", 0)),
                horizon_masks=int(len(masks)),
                masked_dishes=int((mask_of_site[self.dish_sites] >= 0).sum()) if len(self.dish_sites) else 0,
            ),
            tables=list(self.tables),
            network=self.has_network,
            baseline=self.baseline is not None,
            events=len(self.contract.events),
            min_elevation_deg=self.min_elevation_deg,
            states=dict(states.DISH_WORD),
            alerts=dict(ALERTS),
            warnings=list(self.warnings),
            limits={},
        )

    @cached_property
    def calendar_text(self) -> str:
        """The calendar in words (:meth:`~leonet.results.calendar.Calendar.text`), saying so when
        the last step of a uniform calendar is shorter than the others (a duration that is not a
        whole number of steps: the last step stops at the run's end)."""
        text = self.cal.text()
        if self.uniform and self.n_steps and float(self.cal.durations_s[-1]) != self.step_s:
            total = (self.cal.end_ns - self.start_ns) / 1e9
            text += (f", the last of {seconds_text(float(self.cal.durations_s[-1]))} s "
                     f"(the run ends {seconds_text(total)} s after its start)")
        return text

    def site_city(self, site: int) -> str | None:
        """The city of a site where the sites table has one (column ``city``: the built-in PoP
        sets carry it), else None."""
        if site is None or site < 0 or "city" not in self.sites.columns:
            return None
        city = self.sites["city"].iat[int(site)]
        return str(city) if isinstance(city, str) and city.strip() else None

    # -- satellites behind a dish's mask (the visibility table) --------------------------------
    @cached_property
    def behind_mask_stored(self) -> bool:
        """Whether the run keeps which satellites each site had in view behind its horizon mask:
        the visibility table (``outputs.visibility_pairs``) with its ``obstructed`` column."""
        if "visibility" not in self.tables:
            return False
        parts = self.store.parts("visibility")
        return bool(parts) and "obstructed" in pq.read_schema(parts[0]).names

    def behind_mask_at(self, site: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(sat, azimuth_deg, elevation_deg) of the satellites in view of a site at a step but
        behind its horizon mask (visibility rows with ``obstructed``), highest first; None when the
        run does not keep them (:attr:`behind_mask_stored`) or did not compute that step."""
        if not self.behind_mask_stored:
            return None
        t = self.chunk_table("visibility", step, ["sat", "azimuth_deg", "elevation_deg"], site=site,
                             extra_filters=[("obstructed", "=", True)])
        if t is None:
            return None
        sat = t.column("sat").to_numpy(zero_copy_only=False).astype(np.int64)
        az = t.column("azimuth_deg").to_numpy(zero_copy_only=False).astype(np.float64)
        el = t.column("elevation_deg").to_numpy(zero_copy_only=False).astype(np.float64)
        order = np.lexsort((sat, -el))  # highest first; ties by satellite number
        return sat[order], az[order], el[order]

    def behind_mask_counts(self, site: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(sats, steps): every satellite a site had in view behind its horizon mask over the run
        and at how many steps (visibility rows with ``obstructed``), most steps first; None when the
        run does not keep them."""
        if not self.behind_mask_stored:
            return None
        counts = np.zeros(0, dtype=np.int64)
        for part in self.store.parts("visibility"):
            t = pq.read_table(part, columns=["sat"], filters=[("site", "=", int(site)), ("obstructed", "=", True)])
            sat = t.column("sat").to_numpy(zero_copy_only=False).astype(np.int64)
            c = np.bincount(sat, minlength=len(counts))
            c[: len(counts)] += counts
            counts = c
        sats = np.flatnonzero(counts)
        sats = sats[np.argsort(-counts[sats], kind="stable")]
        return sats, counts[sats]

    # -- events ----------------------------------------------------------------------------
    @cached_property
    def _event_sites(self) -> list[frozenset]:
        return [frozenset(e.sites) | frozenset(e.gateway_fibres) for e in self.contract.events]

    def active_events(self, t_ns: int) -> list[int]:
        """Indices (into ``contract.events``) of the events acting at ``t_ns``: start <= t < end."""
        return [i for i, e in enumerate(self.contract.events)
                if e.start_ns <= t_ns and (e.end_ns is None or t_ns < e.end_ns)]

    def events_on_dish(self, site: int, t_ns: int, used_sites: tuple[int, ...] = ()) -> list[int]:
        """The active events that act on one dish at ``t_ns``: those naming it (or the gateway/PoP
        in ``used_sites``) among their targets, and a core outage, which acts on every dish
        (events.json resolves its targets to every PoP, never to the dishes)."""
        name = str(self.site_names[site])
        used = {str(self.site_names[u]) for u in used_sites if u is not None and u >= 0}
        out = []
        for i in self.active_events(t_ns):
            e, targets = self.contract.events[i], self._event_sites[i]
            if name in targets or (e.type in ("gateway_loss", "pop_loss", "fibre_cut") and used & targets) \
                    or e.type == "core_outage":
                out.append(i)
        return out

    def struck_sites(self, t_ns: int) -> dict[str, str]:
        """Ground sites down at ``t_ns`` by a gateway_loss or pop_loss event: name -> event name."""
        out = {}
        for i in self.active_events(t_ns):
            e = self.contract.events[i]
            if e.type in SITE_LOSS_EVENTS:
                for s in e.sites:
                    out.setdefault(s, e.name)
        return out

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
            # Python ints (any year): an instant before the run's start (or, in a windowed run, at
            # or after its end) is outside it before numpy's int64 sees it (years before 1677 or
            # after 2262 do not fit: a 422, never an OverflowError).
            if t_ns < self.start_ns:
                step = -1
            elif self.uniform:
                step = (t_ns - self.start_ns) // self.step_ns
            else:
                step = self.cal.step_at(t_ns) if t_ns < self.cal.end_ns else self.n_steps
            if not 0 <= step < self.n_steps:
                raise BadQuery("t", f"t={t.isoformat()} is outside the run ({ns_to_iso(self.start_ns)} .. "
                               f"{ns_to_iso(self.t_ns(self.n_steps - 1))})")
            return int(step)
        if step is None:
            return self.n_steps - 1
        if not 0 <= step < self.n_steps:
            raise BadQuery("step", f"step must be in 0..{self.n_steps - 1}, got {step}")
        return int(step)

    def t_ns(self, step: int) -> int:
        """The instant (int ns) of a step; ``step == n_steps`` is the end of the last step (the
        calendar's end: a uniform run's last step stops there, short of a whole step or not)."""
        if step >= self.n_steps:
            return int(self.cal.end_ns)
        if self.uniform:
            return self.start_ns + int(step) * self.step_ns
        return int(self.cal.times_ns[step])

    def t_s(self, steps) -> np.ndarray | float:
        """Seconds after the start of step(s): ``step * step_s`` in a uniform run, the real
        instants in a windowed one."""
        if self.uniform:
            return steps * self.step_s
        k = np.asarray(steps, dtype=np.int64)
        out = (self.cal.times_ns[k] - self.start_ns) / 1e9
        return float(out) if out.ndim == 0 else out

    def seconds(self, first: int, past: int) -> float:
        """The time steps [first, past) stand for (s): the sum of their durations (the calendar's,
        steps.parquet ``duration_s`` on an uneven one); ``(past - first) * step_s`` when every step
        stands for ``step_s``."""
        if self.cal.even:
            return float((past - first) * self.step_s)
        # summed, not the instants' difference: a sample window's step stands for its share of the
        # stretch (900 s for a minute's 15 s step sampling an hour), not the gap to the next instant
        return float(self.cal.durations_s[first:past].sum())

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

    # -- names, and one step of a per-step table ----------------------------------------------
    def site_name(self, site: int) -> str | None:
        return None if site is None or site < 0 else str(self.site_names[site])

    def sat_name(self, sat: int) -> str | None:
        return None if sat < 0 else str(self.sky.constellation.names[sat])

    def chunk_table(self, table: str, step: int, columns: list[str] | None = None, site: int | None = None,
                    extra_filters: list | None = None) -> pa.Table | None:
        """The rows of one step (and one site) of a per-step table, reading only the chunk file
        that holds it; None when the run did not compute that chunk."""
        path = self.store.chunk_path(table, int(step) // self.chunk_steps)
        if not path.exists():
            return None
        ts = pa.scalar(self.t_ns(step), pa.timestamp("ns", tz="UTC"))
        filters = [("t", "=", ts)] + ([("site", "=", int(site))] if site is not None else []) + list(extra_filters or [])
        return pq.read_table(path, columns=columns, filters=filters)

    # -- obstruction statistics over the run ----------------------------------------------
    def _wedge_counts(self) -> np.ndarray | None:
        """(sites, 12, 2): look directions in view per wedge, [all, obstructed], over the run.

        One pass over the visibility table, a batch of rows at a time (bounded memory): about 1 s
        per 10 million rows. None when the run kept no visibility pairs.
        """
        if "visibility" not in self.tables:
            return None
        n = len(self.sites)
        counts = np.zeros((2, n * N_WEDGES), dtype=np.int64)
        for part in self.store.parts("visibility"):
            f = pq.ParquetFile(part)
            want = ["site", "azimuth_deg"] + (["obstructed"] if "obstructed" in f.schema_arrow.names else [])
            for batch in f.iter_batches(batch_size=1 << 22, columns=want):
                site = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
                az = batch.column(1).to_numpy(zero_copy_only=False)  # [0, 360) clockwise from north
                wedge = wedge_of(az)  # the dish's own wedge rule (leonet.horizon)
                key = site * N_WEDGES + wedge
                counts[0] += np.bincount(key, minlength=n * N_WEDGES)
                if len(want) == 3:
                    obs = batch.column(2).to_numpy(zero_copy_only=False)
                    counts[1] += np.bincount(key[obs], minlength=n * N_WEDGES)
        return counts.T.reshape(n, N_WEDGES, 2)

    def obstruction_stats(self, site: int) -> tuple[float | None, list[float | None] | None]:
        """(fraction_obstructed, wedges_fraction_obstructed) of a dish over the run.

        A look direction is one (step, satellite above the minimum elevation) of the visibility
        table. A wedge's fraction is obstructed directions / all directions in that wedge (None
        for a wedge no satellite crossed); fraction_obstructed is the same over the whole sky.
        """
        counts = self.aggregate("wedges", self._wedge_counts)
        if counts is None:
            return None, None
        c = counts[site]
        total = c[:, 0].sum()
        wedges = [float(o / a) if a else None for a, o in c]
        return (float(c[:, 1].sum() / total) if total else None), wedges

