"""Export a scenario as Hypatia's satellite network state, for Hypatia's ns-3 simulator.

Hypatia (Kassing et al., "Exploring the 'Internet from space' with Hypatia", IMC 2020;
github.com/snkas/hypatia) runs packet-level ns-3 simulations over a folder of text files that
its ``satgenpy`` writes. :func:`export_hypatia` writes the same folder from a leonet model, with
leonet's own geometry and routes, so that ns-3 (``satellite_network_dir`` = ``out_dir``,
``satellite_network_routes_dir`` = ``out_dir/dynamic_state_<step>ms_for_<duration>s``,
``dynamic_state_update_interval_ns`` = the scenario's ``time.step_s``, ``simulation_end_time_ns`` =
its ``time.duration_s``) simulates what leonet computed.

Sources for the formats (snkas/hypatia): ``satgenpy/README.md`` (section "File formats"), the
writers and readers in ``satgenpy/satgen`` (``tles/generate_tles_from_scratch.py``,
``tles/read_tles.py``, ``isls/read_isls.py``, ``ground_stations/read_ground_stations.py``,
``ground_stations/extend_ground_stations.py``, ``interfaces/*gsl_interfaces_info.py``,
``description/generate_description.py``, ``dynamic_state/generate_dynamic_state.py``,
``dynamic_state/algorithm_free_one_only_over_isls.py``), the tests ``satgenpy/tests/
test_fstate_calculation.py`` and ``test_description.py``, and the ns-3 readers in
``ns3-sat-sim/simulator/contrib/satellite-network`` (``model/topology-satellite-network.cc``,
``helper/arbiter-single-forward-helper.cc``, ``helper/gsl-if-bandwidth-helper.cc``).

Files (``out_dir``)
-------------------
- ``tles.txt``: first line ``"<orbits> <sats_per_orbit>"`` (their product must be the number of
  satellites: ns-3 creates that many nodes), then three lines per satellite in node order: a name
  line ``"<name> <id>"`` (satgenpy reads ``int(line.split()[1])`` as the satellite id, which must
  count 0, 1, 2, ...; ``<name>`` is leonet's satellite name with blanks replaced by ``_``) and the
  two TLE lines (69 columns, checksums; ns-3 refuses any other length). Catalog number = id + 1,
  as Hypatia numbers its satellites. Every satellite must have the same epoch (satgenpy refuses
  others), and that epoch is ns-3's t = 0, so the scenario must start at it. The header is
  ``"P S"`` when the constellation is one regular shell numbered ``plane * S + slot`` (Walker
  shells and Hypatia files are), else ``"1 N"``.
- ``isls.txt``: ``"a b"`` per line, ``a < b``, no duplicates (satgenpy's reader refuses others):
  the scenario's ISL candidates (+Grid or list) in leonet's order (sorted by ``(a, b)``).
- ``ground_stations.txt``: Hypatia's *extended* format, 8 comma-separated columns
  ``gid,name,latitude,longitude,elevation_m,x,y,z``: gid counts 0, 1, 2, ...; x, y, z are the
  Earth-fixed position in metres, which ns-3 uses as the station's position. Here they are
  leonet's WGS84 ECEF positions (the example line in satgenpy's README has Tokyo at this
  position to the millimetre; satgenpy's current ``geodetic2cartesian`` uses WGS72, ~2 m away);
  latitude and longitude are written as Python writes the floats; commas in names become ``;``. The ground stations are the scenario's sites of kind
  ``station``, in site order.
- ``gsl_interfaces_info.txt``: ``node_id,number_of_gsl_interfaces,aggregate_max_bandwidth`` for
  every node: one GSL interface per satellite and per station (Hypatia's
  ``algorithm_free_one_only_over_isls``), bandwidth ``gsl_bandwidth`` (a unitless factor of
  ns-3's ``gsl_data_rate_megabit_per_s``: its gsl-if-bandwidth-helper reads the value as
  ``bandwidth_fraction`` and sets the interface's rate to fraction x that many Mbit/s).
- ``description.txt``: ``max_gsl_length_m=<%.10f>`` and ``max_isl_length_m=<%.10f>``.
- ``dynamic_state_<step_ms>ms_for_<duration_s>s/fstate_<t_ns>.txt`` and
  ``gsl_if_bandwidth_<t_ns>.txt`` at every instant ``t_ns`` = 0, step, 2 step, ... before the
  duration, counted from the TLE epoch (0, 100000000, ...). ns-3 loads both files at every
  ``dynamic_state_update_interval_ns`` up to ``simulation_end_time_ns`` and stops if one is
  missing.

Time
----
Hypatia's dynamic state has one update interval, so the export writes the calendar's coarse grid:
``time.step_s`` apart, from the start to before ``time.start + time.duration_s`` (as satgenpy:
``ceil(duration / step)`` instants). A calendar with ``time.windows`` (time that zooms) also has
finer instants inside its windows; ns-3 would never load files at those times, and each later
file would be a diff against an instant ns-3 never applied, so they are left out, the diffs are
between exported instants, and :class:`ExportSummary` warns how many were left out and where.
(To export finer routes, drop the windows and set ``time.step_s`` to the step wanted.)

The folder is named as satgenpy names it (``"dynamic_state_" + str(time_step_ms) + "ms_for_" +
str(duration_s) + "s"``, from the calendar's step and duration, not from the instants written:
``--duration 1 --step 0.3`` is ``dynamic_state_300ms_for_1s`` holding 0, 0.3, 0.6 and 0.9 s).
satgenpy's inputs are whole milliseconds and seconds; leonet writes other values exactly in
decimal (``dynamic_state_100ms_for_0.35s``), never rounded, and warns: ns-3 takes the folder's
path as given, but satgenpy's analysis tools, which rebuild the name with ``%d``, will not find it.

Node ids
--------
Satellites ``0 .. N-1`` (constellation order), then ground stations ``N .. N+G-1`` (station ``g``
is node ``N + g``; satgenpy README, "Ground stations", notes). leonet's routing graph splits each
station into an out-node (edges only to satellites) and an in-node (edges only from satellites)
so that no path relays through a station (:mod:`leonet.network.pairs`); both are Hypatia node
``N + g``.

Interface ids
-------------
Per node, in ns-3's order of creation (``topology-satellite-network.cc``: ISLs are created line
by line from ``isls.txt``, then GSLs; ns-3's loopback interface 0 is skipped, so Hypatia's id
``i`` is ns-3's ``i + 1``):

- a satellite's ISL interfaces are numbered ``0, 1, ...`` in the order its links appear in
  ``isls.txt`` (for line ``"a b"``, each end takes its next free number; satgenpy's
  ``generate_dynamic_state.py`` ``sat_neighbor_to_if``), so a satellite with k ISLs has ISL
  interfaces ``0 .. k-1`` and its one GSL interface is ``k``;
- a ground station has one interface, its GSL interface ``0``.

Forwarding state (``fstate_<t_ns>.txt``)
----------------------------------------
Lines ``current_node,destination_node,next_hop_node,my_interface_id,next_hop_interface_id``;
destinations are ground stations only (satellites are never packet destinations). Entries, in
this order (as satgenpy writes them): every satellite to every station (``N * G``), then every
station to every other station (``G * (G - 1)``): ``N*G + G*(G-1)`` lines in the first file
(e.g. 1584 * 100 + 100 * 99 = 168,300 for Hypatia's Starlink study). A satellite whose next hop
is the destination station itself sends on its GSL interface to the station's interface 0; a
station sends on its interface 0 to the chosen satellite's GSL interface; an ISL hop names the
interfaces of that link at both ends. Where the destination cannot be reached the line is
``cur,dst,-1,-1,-1`` (ns-3 drops the packet). Only the first file is complete: every later
file holds only the entries whose next hop changed since the previous step (satgenpy writes an
entry when ``prev_fstate[(cur, dst)] != next_hop_decision``; ns-3 applies each file on top of the
state it has), possibly none (an empty file).

The routes are leonet's, computed by the simulation's own stages (:mod:`leonet.sim.stages`: the
sky stage's positions and clear ground links, the links stage's usable lasers, and the station
pairs stage's :func:`~leonet.sim.stages.pairs.station_forwarding`), the same that ``pair_steps``
reports: shortest
one-way delay, stations never relay, a station uses any satellite in range, which is the
semantics of Hypatia's ``algorithm_free_one_only_over_isls``. **Tie-break**: where two paths
have exactly the same delay, the next hop is the one scipy's Dijkstra
(``scipy.sparse.csgraph.dijkstra``, run from the destination's in-node on the reversed graph)
found first: a node's predecessor is replaced only by a strictly shorter path, so the path
settled first wins (nodes settled in delay order, edges scanned in CSR order, i.e. by node id).
satgenpy instead keeps the first strictly better neighbour in networkx order (satellites) and the
lowest (distance, satellite id) (stations). Delays come from real geometry, so exact ties are
practically absent; the tie-break only matters for hand-made inputs.

Differences from satgenpy to know about:

- ISLs. Hypatia assumes every ISL in ``isls.txt`` is always up (satgenpy stops with an error if
  one gets longer than ``max_isl_length_m``). leonet drops, for the step, a candidate ISL whose
  line of sight dips below the grazing height or that exceeds the scenario's maximum ISL range
  (:func:`leonet.network.isl.active_isls`); the forwarding state then does not use it, while ns-3
  still creates the link. :class:`ExportSummary` counts such (link, step) pairs. With Hypatia's
  limits (80 km grazing height, max ISL length 5,016,591 m) nothing is dropped on the 72 x 22
  Starlink shell of ``hypatia-starlink`` (its +Grid links are at most ~1,961 km long and
  clear the Earth by far more than 80 km; checked over the study's 200 s at 1 s steps).
- Ground-satellite links follow the scenario's visibility rule (range and/or elevation), as
  every ground link of the simulation does, obstruction masks included; Hypatia's rule is range
  only, which the scenario states as ``visibility: {min_elevation_deg: null, max_range_m: ...}``
  (``hypatia-starlink`` uses range only, 1,089,686 m). The scenario's events act as in the
  simulation (a lost satellite has no link); Hypatia's own studies have none.
- Precision: TLE angles are written to 1e-4 deg and the epoch to 1e-8 day (864 us), as the
  format allows, so ns-3 places satellites within ~10 m of leonet's positions.
- ``gsl_if_bandwidth_<t>.txt``: complete at t = 0 (``node,interface,bandwidth``: each
  satellite's GSL interface and each station's interface 0 at ``gsl_bandwidth``), empty
  afterwards (bandwidth never changes), as satgenpy's ``algorithm_free_one_only_over_isls``.
- There is no ISL bandwidth in the satellite network state: ns-3 takes it from its run
  configuration (``isl_data_rate_megabit_per_s``), as it does ``gsl_data_rate_megabit_per_s``.

Performance: positions are propagated a chunk of steps at a time (:class:`leonet.sim.instants.Chunk`);
per step the work is one visibility query, the ISL check, the stations' shortest-path trees
(repaired from the previous step's by the simulation's ``ForwardingTracker``) and writing the
entries that changed (a vectorised comparison with the
previous step's next hops; tens to hundreds of lines per 100 ms step). ``workers`` > 1 spreads
chunks of steps over processes (each recomputes the step before its chunk), with identical
files. Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..constants import EARTH_RADIUS_M
from ..errors import InputError
from ..network.isl import max_isl_range_m
from ..network.visibility import max_slant_range_m
from ..sim.instants import Chunk
from ..sim.stages.links import links_at
from ..sim.stages.pairs import station_forwarding
from ..sim.stages.sky import sky_at
from ..space.propagate import propagate
from ..timeutil import ns_to_iso
from .files import _bandwidth_text, _folders, _write_description, _write_dynamic, _write_static, check_out_dir

__all__ = ["ExportSummary", "HypatiaLayout", "export_hypatia", "hypatia_layout"]


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_hypatia` wrote.

    Attributes
    ----------
    out_dir : the folder (``satellite_network_dir`` for ns-3).
    dynamic_state_dir : the folder of ``fstate_*`` and ``gsl_if_bandwidth_*`` files
        (``satellite_network_routes_dir``).
    files_written : every file written.
    steps : time steps exported (one ``fstate`` and one ``gsl_if_bandwidth`` file each): the
        calendar's coarse grid (a windowed calendar's finer instants are left out, see "Time").
    step_ns : the time step (ns-3's ``dynamic_state_update_interval_ns``).
    n_satellites, n_stations, n_isls : the network's size.
    fstate_entries : lines written over all ``fstate`` files.
    fstate_entries_first : lines of the first (complete) ``fstate`` file, N*G + G*(G-1).
    isl_drops : (ISL, step) pairs that leonet found unusable (below the grazing height, beyond
        the maximum range, or a failed satellite) and so left out of the forwarding state.
    seconds : wall-clock time of the export.
    warnings : things the user should know (e.g. dropped ISLs).
    """

    out_dir: Path
    dynamic_state_dir: Path
    files_written: int
    steps: int
    step_ns: int
    n_satellites: int
    n_stations: int
    n_isls: int
    fstate_entries: int
    fstate_entries_first: int
    isl_drops: int
    seconds: float
    warnings: tuple[str, ...] = field(default=())
    duration_ns: int = 0  # the calendar's length (ns-3's simulation_end_time_ns)

    @property
    def ms_per_step(self) -> float:
        return 1e3 * self.seconds / self.steps if self.steps else 0.0


@dataclass(frozen=True)
class HypatiaLayout:
    """Hypatia's numbering of a model's network (see the module docstring).

    Attributes
    ----------
    station_sites : int64 (G,), site index of ground station g.
    isls : int64 (E, 2), the lines of ``isls.txt`` in order.
    isl_if : int64 (E, 2), interface id of each line's link at end a and at end b.
    gsl_if : int64 (N,), each satellite's GSL interface id (= its number of ISLs).
    entry_cur, entry_dst : int64 (N*G + G*(G-1),), current and destination node of every fstate
        entry, in file order.
    """

    n_sats: int
    station_sites: np.ndarray
    isls: np.ndarray
    isl_if: np.ndarray
    gsl_if: np.ndarray
    entry_cur: np.ndarray
    entry_dst: np.ndarray
    isl_keys: np.ndarray = field(repr=False)  # sorted node * N + neighbour of every ISL end
    isl_key_if: np.ndarray = field(repr=False)  # the interface id on node, for each key

    @property
    def n_stations(self) -> int:
        return len(self.station_sites)

    def isl_interface(self, node: np.ndarray, neighbour: np.ndarray) -> np.ndarray:
        """Interface id on ``node`` of its ISL to ``neighbour`` (arrays; -1 where no such ISL)."""
        want = np.asarray(node, dtype=np.int64) * self.n_sats + np.asarray(neighbour, dtype=np.int64)
        if len(self.isl_keys) == 0:
            return np.full(want.shape, -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.isl_keys, want), len(self.isl_keys) - 1)
        return np.where(self.isl_keys[pos] == want, self.isl_key_if[pos], -1)

    def entry_rows(self, next_hop: np.ndarray) -> np.ndarray:
        """Hypatia next hop of every fstate entry, (N*G + G*(G-1),) int64, from leonet's
        :class:`~leonet.network.pairs.ForwardingState` ``next_hop`` (G, N + 2G) array whose row g is
        toward station g (destinations ``0..G-1`` in order)."""
        n, g = self.n_sats, self.n_stations
        nh = np.asarray(next_hop)
        sat_part = nh[:, :n].T.astype(np.int64)  # (N, G): satellite-major, destination inner
        # A satellite's next hop toward g is a satellite or g's in-node (N + G + g) -> node N + g.
        sat_part = np.where(sat_part >= n + g, sat_part - g, sat_part).ravel()
        gs_part = nh[:, n:n + g].T.astype(np.int64)  # (G src, G dst): a satellite or -1
        gs_part = gs_part[~np.eye(g, dtype=bool)]  # row-major: source-major, destination inner
        return np.concatenate([sat_part, gs_part])

    def interfaces(self, cur: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(my_interface_id, next_hop_interface_id) for hops cur -> nxt (-1, -1 where nxt is -1)."""
        n = self.n_sats
        cur = np.asarray(cur, dtype=np.int64)
        nxt = np.asarray(nxt, dtype=np.int64)
        my = np.full(cur.shape, -1, dtype=np.int64)
        other = np.full(cur.shape, -1, dtype=np.int64)
        ok = nxt >= 0
        isl = ok & (cur < n) & (nxt < n)
        down = ok & (cur < n) & (nxt >= n)
        up = ok & (cur >= n)
        my[isl] = self.isl_interface(cur[isl], nxt[isl])
        other[isl] = self.isl_interface(nxt[isl], cur[isl])
        if (my[isl] < 0).any() or (other[isl] < 0).any():
            k = int(np.flatnonzero(isl)[np.argmax((my[isl] < 0) | (other[isl] < 0))])
            raise RuntimeError(f"hop {cur[k]} -> {nxt[k]} uses an ISL that isls.txt does not list")
        my[down] = self.gsl_if[cur[down]]
        other[down] = 0
        my[up] = 0
        other[up] = self.gsl_if[nxt[up]]
        return my, other


def hypatia_layout(model) -> HypatiaLayout:
    """Hypatia's node, interface and entry numbering for ``model`` (a
    :class:`~leonet.sim.model.SimulationModel`). Raises :class:`InputError` if it has no
    ground stations or no satellites."""
    n = len(model.constellation)
    if n == 0:
        raise InputError("the scenario has no satellites; Hypatia needs at least one", location="constellation")
    kind = np.asarray(model.sites.kind)
    stations = np.flatnonzero(kind == "station").astype(np.int64)
    if len(stations) == 0:
        raise InputError(
            "no ground stations: Hypatia routes between ground stations, and this scenario has no "
            "sites of kind 'station' (add some under ground.sites with kind: station, or the "
            "builtin set hypatia-top100)", location="ground",
        )
    g = len(stations)
    isls = np.asarray(model.network.isl_candidates, dtype=np.int64).reshape(-1, 2)
    # Interface numbers: walk isls.txt's endpoints in order (a0, b0, a1, b1, ...); each endpoint
    # takes the count of its earlier appearances.
    ends = isls.ravel()
    order = np.argsort(ends, kind="stable")
    sorted_ends = ends[order]
    first = np.searchsorted(sorted_ends, sorted_ends, side="left")
    rank = np.empty(len(ends), dtype=np.int64)
    rank[order] = np.arange(len(ends)) - first
    isl_if = rank.reshape(-1, 2)
    gsl_if = np.bincount(ends, minlength=n).astype(np.int64)

    sats = np.arange(n, dtype=np.int64)
    gs_nodes = n + np.arange(g, dtype=np.int64)
    src, dst = np.meshgrid(gs_nodes, gs_nodes, indexing="ij")
    off = src != dst
    entry_cur = np.concatenate([np.repeat(sats, g), src[off]])
    entry_dst = np.concatenate([np.tile(gs_nodes, n), dst[off]])
    a, b = isls[:, 0], isls[:, 1]
    keys = np.concatenate([a * n + b, b * n + a])
    key_order = np.argsort(keys, kind="stable")
    return HypatiaLayout(n_sats=n, station_sites=stations, isls=isls, isl_if=isl_if, gsl_if=gsl_if,
                         entry_cur=entry_cur, entry_dst=entry_dst, isl_keys=keys[key_order],
                         isl_key_if=np.concatenate([isl_if[:, 0], isl_if[:, 1]])[key_order])


# ------------------------------------------------------------------------------------------ export


def _check_epoch(model) -> int:
    """The common epoch (ns), which must be the scenario's start (ns-3's t = 0)."""
    epochs = np.asarray(model.constellation.elements.epoch_ns, dtype=np.int64)
    if not (epochs == epochs[0]).all():
        k = int(np.argmax(epochs != epochs[0]))
        raise InputError(
            f"Hypatia needs one TLE epoch for every satellite (ns-3 counts time from it), but "
            f"satellite 0 has {ns_to_iso(int(epochs[0]))} and satellite {k} has {ns_to_iso(int(epochs[k]))}",
            location="constellation",
        )
    epoch = int(epochs[0])
    start = int(model.t_ns[0])
    if start != epoch:
        raise InputError(
            f"Hypatia's simulation time 0 is the TLE epoch {ns_to_iso(epoch)}, but the scenario starts at "
            f"{ns_to_iso(start)}; set time.start to the epoch (or the shells' epoch to the start)",
            location="time.start",
        )
    return epoch


def _max_lengths(model, ecef0: np.ndarray, n_isls: int) -> tuple[float, float]:
    """(max GSL length, max ISL length) in metres for description.txt; ``n_isls``: the links of
    isls.txt.

    Raises :class:`InputError` when isls.txt lists links that the grazing height forbids (every
    satellite below it): Hypatia would read max_isl_length_m=0 as "no ISL possible"."""
    rule = model.settings.visibility
    radius = np.linalg.norm(ecef0, axis=1)
    finite = np.isfinite(radius)
    top = float(radius[finite].max()) if finite.any() else EARTH_RADIUS_M
    if rule.max_range_m is not None:
        gsl = float(rule.max_range_m)
    else:  # elevation only: the slant range at the lowest elevation, to the highest satellite
        site_r = np.linalg.norm(np.asarray(model.sites.ecef_m)[np.asarray(model.sites.kind) == "station"], axis=1)
        gsl = max_slant_range_m(float(site_r.min()), top, float(rule.min_elevation_deg))
    net = model.network
    if net.isl_max_range_m is not None:
        isl = float(net.isl_max_range_m)
    else:
        try:
            isl = float(max_isl_range_m(top - EARTH_RADIUS_M, top - EARTH_RADIUS_M, net.grazing_height_m))
        except ValueError:
            if n_isls:
                c = model.constellation
                k = int(np.flatnonzero(finite)[np.argmax(radius[finite])]) if finite.any() else 0
                shell = (c.shell_names[int(c.shell[k])] if len(c) and int(c.shell[k]) < len(c.shell_names)
                         else "?")
                raise InputError(
                    f"the highest satellite ({' '.join(str(c.names[k]).split()) if len(c) else '-'}, shell "
                    f"{shell!r}) is {(top - EARTH_RADIUS_M) / 1e3:,.1f} km up, below the ISL grazing height "
                    f"{net.grazing_height_m / 1e3:g} km: no two satellites see each other, so Hypatia's "
                    f"max_isl_length_m would be 0 while isls.txt lists {n_isls:,} links; lower "
                    "network.isl.grazing_height_km, or set network.isl.max_range_km",
                    location="network.isl.grazing_height_km") from None
            isl = 0.0  # isls.txt is empty: no ISL exists, and 0 says exactly that
    return gsl, isl


class _StepComputer:
    """Hypatia next hops of every fstate entry at given instants: the simulation's own stages (the
    sky, the links, the stations' forwarding state; :mod:`leonet.sim.stages`), put in Hypatia's
    entry order."""

    def __init__(self, model, t_ns: np.ndarray):
        self.model = model
        self.t_ns = np.asarray(t_ns, dtype=np.int64)  # the instants exported (the coarse grid)
        self.layout = hypatia_layout(model)
        self.dests = np.arange(self.layout.n_stations, dtype=np.int64)

    def tracker(self):
        """A :class:`~leonet.network.incremental.ForwardingTracker` for every station as a
        destination (fed the steps in time order, it repairs last step's trees: the same hops)."""
        from ..network.incremental import ForwardingTracker

        return ForwardingTracker(self.layout.n_sats, self.layout.n_stations, self.dests)

    def hops_at(self, chunk: Chunk, t: int, tracker=None) -> tuple[np.ndarray, int]:
        """(next hop of every entry, int32; ISLs dropped) at instant ``t`` of ``chunk``."""
        sky = sky_at(chunk, t)
        links = links_at(chunk, sky)
        state = station_forwarding(self.model, sky, links, self.layout.station_sites, self.dests, tracker)
        chunk.forget_until(t)
        isl = links.isl
        return self.layout.entry_rows(state.next_hop).astype(np.int32), isl.dropped_failed + isl.dropped_grazing + isl.dropped_range

    def changes(self, t_ns: np.ndarray, prev: np.ndarray | None, chunk_steps: int):
        """Yield (rows that changed, their next hops, ISLs dropped, hops) for each instant of
        ``t_ns``; rows are every entry where there is no previous state."""
        tracker = self.tracker()
        for c0 in range(0, len(t_ns), chunk_steps):
            block = t_ns[c0:c0 + chunk_steps]
            chunk = Chunk(self.model, block)  # positions of the block in one propagation
            for t in block:
                hops, dropped = self.hops_at(chunk, int(t), tracker)
                rows = np.arange(len(hops)) if prev is None else np.flatnonzero(hops != prev)
                yield rows, hops[rows], dropped, hops
                prev = hops


def _task_changes(computer: _StepComputer, a: int, b: int, chunk_steps: int) -> list[tuple]:
    """Changes for exported steps [a, b): (rows, their next hops, ISLs dropped) a step, relative
    to step a - 1 (recomputed here) or complete for a = 0."""
    t_ns = computer.t_ns
    prev = None
    if a > 0:
        prev, _ = computer.hops_at(Chunk(computer.model, t_ns[a - 1:a]), int(t_ns[a - 1]))
    return [(rows.astype(np.int32), nxt, dropped)
            for rows, nxt, dropped, _ in computer.changes(t_ns[a:b], prev, chunk_steps)]


def _parallel_changes(computer: _StepComputer, n_steps: int, chunk_steps: int, workers: int):
    """The same stream as :meth:`_StepComputer.changes`, computed on ``workers`` processes by the
    runs' executor (:func:`~leonet.sim.pool.run_pool`: a worker that dies ends the export with
    a :class:`~leonet.errors.LeonetError`), in time order."""
    from ..sim.pool import run_pool

    tasks = [(a, (a, min(a + chunk_steps, n_steps), chunk_steps)) for a in range(0, n_steps, chunk_steps)]
    for _, changes in run_pool(_task_changes, computer, tasks, workers, ordered=True,
                               after_death="the export stopped and its folder is incomplete - run it again"):
        for rows, nxt, dropped in changes:
            yield rows, nxt, dropped, None


def export_hypatia(
    model,
    out_dir: str | Path,
    progress: Callable[[int, int], None] | None = None,
    gsl_bandwidth: float = 1.0,
    station_gsl_bandwidth: float | None = None,
    chunk_steps: int = 50,
    workers: int = 1,
) -> ExportSummary:
    """Write ``model``'s network as Hypatia's satellite network state (see the module docstring).

    Parameters
    ----------
    model : :class:`~leonet.sim.model.SimulationModel`; its calendar's coarse grid is exported
        (``time.step_s`` apart; the finer instants of ``time.windows`` are left out, with a
        warning: see "Time" in the module docstring).
    out_dir : folder to write: created if missing; an empty folder, or a previous export whose files
        of the same names are replaced (anything else is refused: :func:`~leonet.hypatia.files.check_out_dir`).
    progress : called as ``progress(steps_done, steps_total)`` after each step is written.
    gsl_bandwidth : aggregate GSL bandwidth of each satellite (and station, unless
        ``station_gsl_bandwidth`` is given): a positive, unitless factor of ns-3's
        ``gsl_data_rate_megabit_per_s`` (Hypatia's studies use 1).
    station_gsl_bandwidth : the same for ground stations (default: ``gsl_bandwidth``).
    chunk_steps : steps propagated together (and, with workers, steps per task).
    workers : local processes computing the routes (1: this process). The files are the same
        whatever the number: each task recomputes the step before it to find what changed.

    Returns
    -------
    ExportSummary.

    Raises
    ------
    InputError : no satellites, no ground stations (sites of kind ``station``), satellites with
        different epochs, or a start other than the epoch.
    InputError : (also a ValueError) a bandwidth that is not positive and finite, ``chunk_steps`` or
        ``workers`` < 1; an ``out_dir`` that is a file or a folder of other files.
    """
    started = time.perf_counter()
    sat_bw, gs_bw = _check_arguments(gsl_bandwidth, station_gsl_bandwidth, chunk_steps, workers)
    check_out_dir(out_dir)
    t_ns, left_out = _export_instants(model)
    computer = _StepComputer(model, t_ns)  # checks satellites and stations
    layout = computer.layout
    epoch_ns = _check_epoch(model)
    n_steps = len(t_ns)
    step_ns = int(model.settings.step_ns)
    duration_ns = int(model.settings.duration_ns)

    out, dyn = _folders(Path(out_dir), step_ns, duration_ns)
    pos0 = propagate(model.constellation, t_ns[:1]).ecef_m[0]
    static_files = _write_static(model, layout, out, sat_bw, gs_bw)
    static_files += _write_description(out, *_max_lengths(model, pos0, len(layout.isls)))
    if workers > 1 and n_steps > chunk_steps:
        stream = _parallel_changes(computer, n_steps, int(chunk_steps), int(workers))
    else:
        stream = computer.changes(t_ns, None, int(chunk_steps))
    files, entries_total, entries_first, isl_drops = _write_dynamic(
        stream, layout, dyn, t_ns - epoch_ns, _bandwidth_text(layout, sat_bw, gs_bw), progress)
    return ExportSummary(
        out_dir=out, dynamic_state_dir=dyn, files_written=static_files + files, steps=n_steps, step_ns=step_ns,
        n_satellites=layout.n_sats, n_stations=layout.n_stations, n_isls=len(layout.isls),
        fstate_entries=entries_total, fstate_entries_first=entries_first, isl_drops=isl_drops,
        seconds=time.perf_counter() - started, duration_ns=duration_ns,
        warnings=(_window_warnings(left_out, int(t_ns[0]), step_ns) + _name_warnings(dyn.name, step_ns, duration_ns)
                  + _warnings(isl_drops, model.constellation.frame)),
    )


def _export_instants(model) -> tuple[np.ndarray, np.ndarray]:
    """(the instants to export, the model's instants left out), int64 ns: the calendar's coarse
    grid (start, start + step, ... before start + duration, as satgenpy counts them) and the finer
    instants of its windows, which Hypatia's single update interval cannot hold (module
    docstring, "Time")."""
    t_ns = np.asarray(model.t_ns, dtype=np.int64)
    step_ns = int(model.settings.step_ns)
    # The calendar holds every multiple of the step before its end (the windows' instants are
    # added to it, never replace it), so these are its coarse grid, counted as it counts them.
    on_grid = (t_ns - t_ns[0]) % step_ns == 0
    grid = t_ns[on_grid]
    gaps = np.flatnonzero(np.diff(grid) != step_ns)
    if len(gaps):  # uneven files would load at the wrong times in ns-3; a calendar never has gaps
        raise RuntimeError(f"the model's instants skip the step after {ns_to_iso(int(grid[gaps[0]]))}: "
                           "it was not built from its time section")
    return grid, t_ns[~on_grid]


def _window_warnings(left_out: np.ndarray, start_ns: int, step_ns: int) -> tuple[str, ...]:
    """The windows' instants the export leaves out (none: no warning)."""
    if len(left_out) == 0:
        return ()
    first, last = (int(left_out[0]) - start_ns) / 1e9, (int(left_out[-1]) - start_ns) / 1e9
    return (
        f"time.windows: {len(left_out):,} instant(s) inside the windows, from {first:g} s to {last:g} s after the "
        f"start, are not exported: Hypatia's dynamic state has one update interval, so the files hold only the "
        f"calendar's {step_ns / 1e9:g} s steps (fstate diffs are between those); for finer routes, drop "
        "time.windows and set time.step_s to the step wanted",)


def _name_warnings(name: str, step_ns: int, duration_ns: int) -> tuple[str, ...]:
    """A folder name that satgenpy's whole-ms / whole-s naming cannot produce (none: no warning)."""
    if step_ns % 10**6 == 0 and duration_ns % 10**9 == 0:
        return ()
    return (
        f"{name}: satgenpy names this folder from a whole number of milliseconds (time.step_s) and of seconds "
        "(time.duration_s); these are written exactly instead, which ns-3 reads as given "
        "(satellite_network_routes_dir), but satgenpy's analysis tools, which rebuild the name with %d, will not "
        "find it",)


def check_bandwidth(value, where: str = "gsl_bandwidth") -> float:
    """A GSL bandwidth as a float: positive and finite, else an :class:`InputError` naming ``where``.
    It is Hypatia's ``bandwidth_fraction`` (gsl_if_bandwidth files, gsl_interfaces_info.txt), a
    unitless factor: ns-3 sets each GSL interface's rate to it times ``gsl_data_rate_megabit_per_s``
    Mbit/s."""
    try:
        bw = float(value)
    except (TypeError, ValueError):
        raise InputError(f"must be a positive number, got {value!r}", location=where) from None
    if not (math.isfinite(bw) and bw > 0):
        raise InputError(f"must be a positive number (a factor of ns-3's gsl_data_rate_megabit_per_s), got {bw!r}",
                         location=where)
    return bw


def _check_arguments(gsl_bandwidth, station_gsl_bandwidth, chunk_steps, workers) -> tuple[float, float]:
    """The satellites' and stations' GSL bandwidths; an InputError (a ValueError) for a bandwidth
    that is not positive and finite, or ``chunk_steps`` or ``workers`` that is not a positive integer."""
    sat_bw = check_bandwidth(gsl_bandwidth, "gsl_bandwidth")
    gs_bw = sat_bw if station_gsl_bandwidth is None else check_bandwidth(station_gsl_bandwidth,
                                                                       "station_gsl_bandwidth")
    for what, value in (("chunk_steps", chunk_steps), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InputError(f"must be a positive integer, got {value!r}", location=what)
    return sat_bw, gs_bw


def _warnings(isl_drops: int, frame) -> tuple[str, ...]:
    """What the user of the exported files should know."""
    warnings = []
    if isl_drops:
        warnings.append(
            f"{isl_drops} (ISL, step) pairs were unusable in leonet (below the grazing height, beyond "
            "the maximum ISL range or a failed satellite) and are not used by the forwarding state; "
            "ns-3 still creates every link in isls.txt (Hypatia assumes ISLs are always up)")
    if frame.earth_rotation != "utc" or frame.polar_motion:
        warnings.append(
            "this scenario turns the Earth on UT1 (leonet's default); Hypatia's satgenpy and ns-3 turn it on "
            "UTC, so its positions differ by |UT1-UTC| x ~505 m/s: set frames: {earth_rotation: utc} to "
            "reproduce a Hypatia study exactly")
    return tuple(warnings)
