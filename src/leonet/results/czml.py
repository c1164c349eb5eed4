"""Export a results folder as a CZML document, to play the run in any Cesium viewer.

The document (a JSON list of packets) holds:

- ``document``: the first packet; its clock spans the run, from the first step's instant to the
  end of the last step (its instant + the time it stands for: the run's end), and plays at ``multiplier`` times real time (a run plays in about two minutes).
- ``sat-<index>``: one entity per satellite kept (see ``max_satellites``), with its positions
  sampled at the run's steps (every ``every_n_steps``-th step, and always the last one) and at the
  run's end (so a satellite is there through the last step, as the dishes' intervals are) in the
  Earth-fixed frame (``referenceFrame: FIXED``, metres, rounded to the millimetre), interpolated by
  Lagrange polynomials of degree 5, a point coloured by shell and a label (shown when the camera
  is within 3,000 km). Samples where propagation failed are left out.

  Where the positions come from: the ``positions`` table when the run wrote one
  (``outputs.positions: true``); otherwise they are computed here with leonet's own SGP4 path
  (:func:`leonet.space.propagate.propagate`) from the elements stored in ``satellites.parquet``,
  which is the computation the run itself made, so both give the same positions. The document
  packet's ``name`` says which was used. The sample at the run's end is not a step of the run, so
  it is always propagated.
- ``site-<index>``: one static point per ground site, coloured by kind (gateways blue, PoPs
  purple, stations white, dishes without network results cyan). A dish with ``dish_steps`` is
  coloured by its state over time, in the colours of :mod:`leonet.states` (the report's and the
  app's), a state unknown there yellow. Each run of equal states is one interval
  ``[t_first, t_last + step]``, so the intervals cover the run.
- ``link-<site>-<n>``: a dish's serving link, a straight polyline whose ``positions.references``
  are the dish's and the serving satellite's positions, shown (``availability``) while that
  satellite serves the dish and the dish is online (a state that is no outage in
  :mod:`leonet.states`: a bricked, jammed or routeless dish keeps a ``serving_sat`` in its rows, but
  no link); one entity per (dish, run of one serving satellite while online), at most
  ``max_links`` (the longest ones are kept).

``max_satellites`` thins the constellation: every satellite that ever served an online dish is kept (the
most used first if they alone exceed the limit; links to dropped satellites are then left out),
and the rest of the room is filled with an even sample of the others.

The file is written packet by packet (never held whole in memory) under a temporary name, each
packet checked by :func:`check_packet` and every reference resolved before it is renamed into
place. Positions need ``kept satellites x kept steps x 24`` bytes of memory; beyond
:data:`MAX_POSITION_BYTES` the export asks for ``max_satellites`` or ``every_n_steps``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..states import STATES, is_outage
from ..timeutil import ns_to_iso
from ..space.constellation import Constellation
from ..space.elements import OrbitElements
from ..space.frames import FrameConvention
from ..space.propagate import propagate
from . import atomic
from .calendar import Calendar, calendar
from .dish_runs import DishRuns, Runs, dish_runs
from .store import Manifest, ResultStore

def _rgba(css_hex: str) -> list[int]:
    """"#rrggbb" -> [r, g, b, 255]."""
    return [int(css_hex[k:k + 2], 16) for k in (1, 3, 5)] + [255]


#: Colours (RGBA) of dish states (leonet.states), site kinds and shells.
STATE_RGBA: dict[str, list[int]] = {s.name: _rgba(s.colour) for s in STATES}
OTHER_STATE_RGBA = [255, 220, 0, 255]
KIND_RGBA: dict[str, list[int]] = {
    "dish": [0, 220, 220, 255],
    "gateway": [30, 110, 255, 255],
    "pop": [170, 60, 220, 255],
    "station": [255, 255, 255, 255],
}
SHELL_RGBA = ([255, 255, 255, 220], [255, 230, 120, 220], [150, 220, 255, 220], [255, 170, 200, 220],
              [180, 255, 170, 220], [255, 190, 120, 220], [200, 180, 255, 220], [160, 160, 160, 220])
LINK_RGBA = [0, 255, 255, 200]
#: Default bound on the number of serving-link entities.
MAX_LINKS = 10_000
#: Bound on the memory of the positions array (kept satellites x kept steps x 3 float64).
MAX_POSITION_BYTES = 2 * 1024**3
#: Camera distance (m) within which labels are drawn.
LABEL_DISTANCE_M = 3.0e6

_INTERVAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def interval(a_ns: int, b_ns: int) -> str:
    return f"{ns_to_iso(a_ns)}/{ns_to_iso(b_ns)}"


def export_czml(results_dir: str | Path, out_path: str | Path, max_satellites: int | None = None,
                every_n_steps: int = 1, *, max_links: int = MAX_LINKS,
                progress: Callable[[str, int, int], None] | None = None) -> Path:
    """Write the run in ``results_dir`` as a CZML document at ``out_path`` (see module doc).

    Parameters
    ----------
    results_dir : a leonet results folder.
    out_path : the ``.czml`` file to write (its folder is created if needed).
    max_satellites : keep at most this many satellites (None: all). Serving satellites first.
    every_n_steps : sample satellite positions at every n-th step (and the last step).
    max_links : at most this many serving-link entities (the longest kept).
    progress : ``progress(stage, done, total)``: the stages (reading, positions, then each satellite
        written, sites, links); done == total at the end.

    Returns
    -------
    ``out_path`` as a ``Path``.

    Raises
    ------
    InputError : not a results folder, a bad argument, or a document that would not fit in memory.
    """
    tell = progress or (lambda stage, done, total: None)
    store = ResultStore(results_dir)
    manifest = store.read_manifest()
    tell("verifying the results", 0, 1)
    store.verify()  # a damaged or missing chunk: one message naming the files, no export
    root = store.root
    if not isinstance(every_n_steps, (int, np.integer)) or every_n_steps < 1:
        raise InputError(f"must be a whole number of at least 1, got {every_n_steps!r}", location="every_n_steps")
    if max_satellites is not None and (not isinstance(max_satellites, (int, np.integer)) or max_satellites < 0):
        raise InputError(f"must be 0 or more (or None for all), got {max_satellites!r}", location="max_satellites")
    if not isinstance(max_links, (int, np.integer)) or max_links < 0:
        raise InputError(f"must be 0 or more, got {max_links!r}", location="max_links")
    for static in ("sites", "satellites"):
        if not (root / f"{static}.parquet").exists():
            raise InputError(f"has no {static}.parquet; is the run complete?", source=str(root))
    start_ns, n_steps = manifest.start_ns, manifest.n_steps
    tables = set(store.tables())
    # edges[k]: the instant of step k (uniform or windowed calendar); edges[n]: the end of the last step
    cal = calendar(store)
    edges = np.r_[cal.times_ns, np.int64(cal.end_ns)]

    steps = _steps_present(store, manifest, tables, cal, n_steps)
    if len(steps) == 0:
        raise InputError("holds no steps yet; run (or resume) the scenario first", source=str(root))
    kept_steps = steps[::every_n_steps]
    if kept_steps[-1] != steps[-1]:
        kept_steps = np.r_[kept_steps, steps[-1]]
    # The last step stands for the time up to the run's end (edges[last + 1]), as the dishes'
    # intervals do: the clock, and the satellites' samples and availability, end there too.
    t_first, t_end = int(edges[steps[0]]), int(edges[steps[-1] + 1])
    t_kept = np.r_[edges[kept_steps], np.int64(t_end)]

    sites = store.read("sites").to_pandas()  # a damaged static table is refused, named
    sats = store.read("satellites")
    n_sats = sats.num_rows

    tell("reading dish steps", 0, 1)
    dish = dish_runs(store, cal, len(sites), n_sats) if "dish_steps" in tables else None
    links = _online_links(dish) if dish is not None else None
    # dish-steps each satellite served an online dish (a serving_sat of an offline dish serves no one)
    serving_counts = (np.bincount(links.key, weights=links.last - links.first + 1, minlength=n_sats).astype(np.int64)
                      if links is not None else np.zeros(n_sats, dtype=np.int64))
    keep = _choose_satellites(serving_counts, max_satellites)

    need = len(keep) * len(t_kept) * 3 * 8
    if need > MAX_POSITION_BYTES:
        raise InputError(
            f"a CZML of {len(keep):,} satellites x {len(t_kept):,} samples needs {need / 1024**3:.1f} GiB of memory; "
            "pass max_satellites or every_n_steps to thin it", source=str(root))
    tell(f"positions of {len(keep):,} satellites", 0, 1)
    if "positions" in tables:
        # the run's end is no step, so the table has no row for it: propagated, as the run would
        pos = np.concatenate([_positions_from_table(store, keep, kept_steps, cal),
                              _positions_propagated(sats, keep, t_kept[-1:])], axis=1)
        source = "the positions table"
    else:
        pos = _positions_propagated(sats, keep, t_kept)
        source = "SGP4 propagation of the stored elements (no positions table)"

    out = Path(out_path)
    if out.exists() and out.is_dir():
        raise InputError("is a folder; give a file name such as run.czml", source=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    duration_s = (t_end - t_first) / 1e9
    document = {
        "id": "document",
        "name": f"{manifest.scenario}: satellite positions from {source}",
        "version": "1.0",
        "clock": {
            "interval": interval(t_first, t_end),
            "currentTime": ns_to_iso(t_first),
            "multiplier": max(1, int(round(duration_s / 120.0))),
            "range": "LOOP_STOP",
            "step": "SYSTEM_CLOCK_MULTIPLIER",
        },
    }
    kept_set = np.zeros(n_sats, dtype=bool)
    written_sat = np.zeros(n_sats, dtype=bool)
    kept_set[keep] = True

    ids: set[str] = set()
    references: list[str] = []
    with atomic.atomic_path(out) as tmp:  # a full disk: one message naming the file, nothing half-written
        with open(tmp, "w", encoding="utf-8") as fh:
            writer = _PacketWriter(fh, ids, references)
            writer.write(document)
            total = len(keep) + 2
            for done, packet in enumerate(_satellite_packets(sats, keep, pos, t_kept, start_ns=t_first,
                                                             serving=serving_counts > 0, source=source)):
                written_sat[int(packet["id"][4:])] = True
                writer.write(packet)
                if done % 64 == 0:
                    tell("writing satellites", done, total)
            tell("writing sites", len(keep), total)
            for packet in _site_packets(sites, dish, edges):
                writer.write(packet)
            tell("writing serving links", len(keep) + 1, total)
            if links is not None:
                names_sat = sats.column("name").to_pylist()
                for packet in _link_packets(links, sites, names_sat, written_sat, edges, max_links):
                    writer.write(packet)
            writer.close()
        missing = sorted({r.split("#", 1)[0] for r in references} - ids)
        if missing:
            raise RuntimeError(f"CZML references unknown entities {missing[:5]}")
    tell("done", 1, 1)
    return out


# -- what the results hold ------------------------------------------------------------------------

def _steps_present(store: ResultStore, manifest: Manifest, tables: set[str], cal: Calendar,
                   n_steps: int) -> np.ndarray:
    """Step indices with results: all of them for a completed run, else those in the files."""
    if manifest.completed:
        return np.arange(n_steps, dtype=np.int64)
    table = next((t for t in ("network_steps", "site_steps") if t in tables), None)
    if table is None:
        return np.zeros(0, dtype=np.int64)
    t = store.read(table, columns=["t"]).column("t").cast(pa.int64()).to_numpy()
    return np.unique(cal.index_of(t))


def _choose_satellites(serving_counts: np.ndarray, max_satellites: int | None) -> np.ndarray:
    """Indices (sorted) of the satellites to draw: serving ones first, then an even sample."""
    n = len(serving_counts)
    if max_satellites is None or max_satellites >= n:
        return np.arange(n, dtype=np.int64)
    serving = np.flatnonzero(serving_counts > 0)
    if len(serving) >= max_satellites:
        order = np.lexsort((serving, -serving_counts[serving]))  # most used first, ties by index
        return np.sort(serving[order[:max_satellites]])
    others = np.flatnonzero(serving_counts == 0)
    room = max_satellites - len(serving)
    pick = others[np.linspace(0, len(others) - 1, room).round().astype(np.int64)] if room and len(others) else []
    return np.sort(np.r_[serving, np.unique(pick)].astype(np.int64))


def _positions_from_table(store: ResultStore, keep: np.ndarray, kept_steps: np.ndarray, cal: Calendar) -> np.ndarray:
    """(S, T, 3) metres from the positions table; NaN where missing or failed."""
    pos = np.full((len(keep), len(kept_steps), 3), np.nan)
    col_of = np.full(int(keep.max()) + 1 if len(keep) else 1, -1, dtype=np.int64)
    col_of[keep] = np.arange(len(keep))
    row_of = {int(s): i for i, s in enumerate(kept_steps)}
    step_lookup_lo = int(kept_steps[0]) if len(kept_steps) else 0
    row_arr = np.full(int(kept_steps[-1]) - step_lookup_lo + 1 if len(kept_steps) else 1, -1, dtype=np.int64)
    for s, i in row_of.items():
        row_arr[s - step_lookup_lo] = i
    for part in store.parts("positions"):
        pf = pq.ParquetFile(part)
        for batch in pf.iter_batches(batch_size=1 << 20, columns=["t", "sat", "x_m", "y_m", "z_m", "error_code"]):
            t = batch.column(0).cast(pa.int64()).to_numpy()
            step = cal.index_of(t) - step_lookup_lo
            if not cal.uniform:  # an instant between two of the run's (not one of them) is no step
                known = np.clip(step + step_lookup_lo, 0, max(cal.n_steps - 1, 0))
                step = np.where(cal.times_ns[known] == t, step, -1) if cal.n_steps else step
            sat = batch.column(1).to_numpy().astype(np.int64)
            ok = (step >= 0) & (step < len(row_arr)) & (sat >= 0) & (sat < len(col_of))
            row = np.full(len(step), -1, dtype=np.int64)
            col = np.full(len(step), -1, dtype=np.int64)
            row[ok] = row_arr[step[ok]]
            col[ok] = col_of[sat[ok]]
            err = batch.column(5).fill_null(1).to_numpy()
            ok &= (row >= 0) & (col >= 0) & (err == 0)
            xyz = np.c_[batch.column(2).to_numpy(zero_copy_only=False), batch.column(3).to_numpy(zero_copy_only=False),
                        batch.column(4).to_numpy(zero_copy_only=False)]
            pos[col[ok], row[ok]] = xyz[ok]
    return pos


def elements_from_table(sats: pa.Table) -> OrbitElements:
    """The OrbitElements stored in ``satellites.parquet`` (the inverse of ``OrbitElements.to_table``)."""
    cols = {f: sats.column(f).to_numpy() for f in (
        "mean_motion_rev_per_day", "eccentricity", "inclination_deg", "raan_deg", "arg_perigee_deg",
        "mean_anomaly_deg", "bstar_per_earth_radius", "mean_motion_dot_rev_per_day2",
        "mean_motion_ddot_rev_per_day3") if f in sats.column_names}
    return OrbitElements(
        name=np.array(sats.column("name").to_pylist(), dtype=object),
        catalog_id=np.array([c or "" for c in sats.column("catalog_id").to_pylist()], dtype=object),
        epoch_ns=sats.column("epoch").cast(pa.timestamp("ns")).cast(pa.int64()).to_numpy(),
        **cols,
    )


def constellation_from_table(sats: pa.Table) -> Constellation:
    """The constellation stored in ``satellites.parquet``, ready to :func:`propagate`."""
    shells = [str(s) for s in sats.column("shell").to_pylist()]
    shell_names = tuple(dict.fromkeys(shells))
    return Constellation(
        elements=elements_from_table(sats),
        shell=np.array([shell_names.index(s) for s in shells], dtype=np.int32),
        plane=sats.column("plane").to_numpy().astype(np.int32),
        slot=sats.column("slot").to_numpy().astype(np.int32),
        shell_names=shell_names, frame=FrameConvention.from_metadata(sats.schema.metadata),
    )


def _positions_propagated(sats: pa.Table, keep: np.ndarray, t_kept: np.ndarray) -> np.ndarray:
    """(S, T, 3) metres by leonet's SGP4 path from the stored elements; NaN where it failed."""
    pos = np.full((len(keep), len(t_kept), 3), np.nan)
    if len(keep) == 0:
        return pos
    const = constellation_from_table(sats.take(pa.array(keep)))
    block = max(1, int(2e7 // (3 * max(len(keep), 1))))  # bound propagate's temporary arrays
    for a in range(0, len(t_kept), block):
        p = propagate(const, t_kept[a:a + block])
        pos[:, a:a + block] = np.transpose(p.ecef_m, (1, 0, 2))
    return pos


# -- packets --------------------------------------------------------------------------------------

def _satellite_packets(sats: pa.Table, keep: np.ndarray, pos: np.ndarray, t_kept: np.ndarray, start_ns: int,
                       serving: np.ndarray, source: str):
    names = sats.column("name").to_pylist()
    shells = sats.column("shell").to_pylist()
    planes = sats.column("plane").to_pylist()
    slots = sats.column("slot").to_pylist()
    shell_index = {s: i for i, s in enumerate(dict.fromkeys(shells))}
    offsets = (t_kept - start_ns)
    whole = bool(np.all(offsets % 1_000_000_000 == 0))
    t_s = (offsets // 1_000_000_000).astype(np.int64) if whole else offsets / 1e9
    for j, sat in enumerate(keep):
        sat = int(sat)
        xyz = pos[j]
        ok = np.isfinite(xyz).all(axis=1)
        if not ok.any():
            continue
        samples = np.c_[t_s[ok].astype(np.float64), np.round(xyz[ok], 3)]
        flat = samples.ravel().tolist()
        if whole:
            flat[0::4] = [int(v) for v in flat[0::4]]
        n = int(ok.sum())
        position = {"epoch": ns_to_iso(start_ns), "referenceFrame": "FIXED", "cartesian": flat}
        if n >= 2:
            position.update(interpolationAlgorithm="LAGRANGE" if n > 2 else "LINEAR",
                            interpolationDegree=min(5, n - 1))
        t_ok = t_kept[ok]
        packet = {
            "id": f"sat-{sat}",
            "name": names[sat],
            "availability": interval(int(t_ok[0]), int(t_ok[-1])),
            "description": (f"Satellite {names[sat]} (index {sat}), shell {shells[sat]}, plane {planes[sat]}, "
                            f"slot {slots[sat]}. Positions from {source}."),
            "position": position,
            "point": {"pixelSize": 6 if serving[sat] else 3,
                      "color": {"rgba": SHELL_RGBA[shell_index[shells[sat]] % len(SHELL_RGBA)]}},
            "label": {"text": names[sat], "font": "10px sans-serif", "fillColor": {"rgba": [255, 255, 255, 255]},
                      "pixelOffset": {"cartesian2": [0, -12]},
                      "distanceDisplayCondition": {"distanceDisplayCondition": [0.0, LABEL_DISTANCE_M]}},
        }
        yield packet


def _site_packets(sites, dish: DishRuns | None, edges: np.ndarray):
    """``edges`` (T + 1,) int64 ns: each step's instant, then the end of the last step."""
    colour_runs: dict[int, list] = {}
    if dish is not None:
        r, names = dish.states, dish.state_names
        for d, code, a, b in zip(r.site.tolist(), r.key.tolist(), r.first.tolist(), r.last.tolist()):
            state = str(names[code])
            colour_runs.setdefault(d, []).append({
                "interval": interval(int(edges[a]), int(edges[b + 1])),
                "rgba": STATE_RGBA.get(state, OTHER_STATE_RGBA),
            })
    for i, row in enumerate(sites.itertuples(index=False)):
        kind = str(row.kind)
        colour = colour_runs.get(i) or {"rgba": KIND_RGBA.get(kind, KIND_RGBA["station"])}
        group = getattr(row, "group", None)
        yield {
            "id": f"site-{i}",
            "name": str(row.name),
            "description": f"{kind} {row.name} (site {i})" + (f", group {group}" if isinstance(group, str) and group else "")
                           + f", {row.lat_deg:.5f} deg, {row.lon_deg:.5f} deg, {row.elevation_m:.0f} m",
            "position": {"cartographicDegrees": [float(row.lon_deg), float(row.lat_deg), float(row.elevation_m)]},
            "point": {"pixelSize": 8 if kind != "dish" else 7, "color": colour,
                      "outlineColor": {"rgba": [0, 0, 0, 255]}, "outlineWidth": 1},
            "label": {"text": str(row.name), "font": "11px sans-serif", "fillColor": {"rgba": [255, 255, 255, 255]},
                      "pixelOffset": {"cartesian2": [0, -14]},
                      "distanceDisplayCondition": {"distanceDisplayCondition": [0.0, LABEL_DISTANCE_M]}},
        }


def _online_links(dish: DishRuns) -> Runs:
    """The serving runs of ``dish`` cut to the steps where the dish is online: each serving run
    (site, satellite, first, last) intersected with the site's runs of states that are no outage
    (:func:`leonet.states.is_outage`; a state unknown there counts as one, so draws no link).
    Sorted by (site, first), as :class:`Runs` are."""
    s = dish.states
    online_code = np.array([not is_outage(str(n)) for n in dish.state_names], dtype=bool)
    on = online_code[s.key]  # code -1 (a missing state) is the last name, "?": an outage
    # Steps of every site laid on one axis, a site's block apart from the next (no run spans two)
    span = int(max(s.last.max(initial=0), dish.links.last.max(initial=0))) + 2
    a = s.site[on] * span + s.first[on]
    b = s.site[on] * span + s.last[on]
    # Online runs that follow each other (CONNECTED then CONGESTED) make one stretch, so a link is
    # not cut where the dish stays online
    brk = np.ones(len(a), dtype=bool)
    brk[1:] = a[1:] != b[:-1] + 1
    start = np.flatnonzero(brk)
    a, b = a[start], b[np.r_[start[1:] - 1, len(b) - 1].astype(np.int64)] if len(start) else b
    r = dish.links
    f = r.site * span + r.first
    g = r.site * span + r.last
    lo = np.searchsorted(b, f, side="left")  # the first online stretch ending at or after the link's start
    hi = np.searchsorted(a, g, side="right")  # past the last one starting at or before its end
    n = np.maximum(hi - lo, 0)
    link = np.repeat(np.arange(len(f)), n)
    stretch = np.repeat(lo, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    first = np.maximum(f[link], a[stretch]) - r.site[link] * span
    last = np.minimum(g[link], b[stretch]) - r.site[link] * span
    return Runs(site=r.site[link], key=r.key[link], first=first, last=last)


def _link_packets(r: Runs, sites, sat_names: list[str], drawn: np.ndarray, edges: np.ndarray,
                  max_links: int):
    """``r``: the serving runs to draw (:func:`_online_links`)."""
    mine = drawn[r.key]  # links to the satellites drawn
    site, serving, first, last = r.site[mine], r.key[mine], r.first[mine], r.last[mine]
    if len(site) > max_links:  # keep the longest, then the earliest
        length = edges[last + 1] - edges[first]  # how long each link lasts (ns)
        keep = np.sort(np.lexsort((first, -length))[:max_links])
        site, serving, first, last = site[keep], serving[keep], first[keep], last[keep]
    site_names = sites["name"].astype(str).tolist()
    count: dict[int, int] = {}
    for d, s, a, b in zip(site.tolist(), serving.tolist(), first.tolist(), last.tolist()):
        k = count.get(d, 0)
        count[d] = k + 1
        yield {
            "id": f"link-{d}-{k}",
            "name": f"{site_names[d]} - {sat_names[s]}",
            "availability": interval(int(edges[a]), int(edges[b + 1])),
            "polyline": {
                "positions": {"references": [f"site-{d}#position", f"sat-{s}#position"]},
                "width": 1.5,
                "arcType": "NONE",
                "material": {"solidColor": {"color": {"rgba": LINK_RGBA}}},
            },
        }


# -- checking and writing -------------------------------------------------------------------------

def check_packet(packet: dict, ids: set[str] | None = None) -> list[str]:
    """Structural checks of one packet; returns the references it makes (``id#property``).

    Raises ``ValueError`` naming the packet and the problem: no or repeated id, a document packet
    out of place, a bad interval, sampled cartesian values not in groups of four, bad colours.
    """
    pid = packet.get("id") if isinstance(packet, dict) else None
    if not isinstance(pid, str) or not pid:
        raise ValueError(f"CZML packet without an id: {str(packet)[:80]}")
    if ids is not None:
        if pid in ids:
            raise ValueError(f"CZML packet id {pid!r} repeated")
        if not ids and pid != "document":
            raise ValueError("the first CZML packet must be the document packet")
        ids.add(pid)
    if pid == "document":
        if packet.get("version") != "1.0" or not _INTERVAL.match(packet.get("clock", {}).get("interval", "")):
            raise ValueError("CZML document packet needs version 1.0 and a clock interval")
    if "availability" in packet and not _INTERVAL.match(packet["availability"]):
        raise ValueError(f"{pid}: bad availability {packet['availability']!r}")
    position = packet.get("position", {})
    if "cartesian" in position:
        values = position["cartesian"]
        if len(values) % 4 or not values or "epoch" not in position:
            raise ValueError(f"{pid}: sampled cartesian needs an epoch and (t, x, y, z) groups")
    if "cartographicDegrees" in position and len(position["cartographicDegrees"]) != 3:
        raise ValueError(f"{pid}: cartographicDegrees needs [lon, lat, height]")
    colour = packet.get("point", {}).get("color")
    for item in colour if isinstance(colour, list) else [colour] if colour is not None else []:
        if "interval" in item and not _INTERVAL.match(item["interval"]):
            raise ValueError(f"{pid}: bad colour interval {item['interval']!r}")
        if len(item.get("rgba", [])) != 4:
            raise ValueError(f"{pid}: a colour needs rgba [r, g, b, a]")
    refs = packet.get("polyline", {}).get("positions", {}).get("references", [])
    for r in refs:
        if not isinstance(r, str) or "#" not in r:
            raise ValueError(f"{pid}: bad reference {r!r}")
    return list(refs)


def validate_czml(doc: list) -> None:
    """Check a whole CZML document (a list of packets): every packet, and that references resolve."""
    if not isinstance(doc, list) or not doc:
        raise ValueError("a CZML document is a non-empty JSON list of packets")
    ids: set[str] = set()
    refs: list[str] = []
    for packet in doc:
        refs += check_packet(packet, ids)
    missing = sorted({r.split("#", 1)[0] for r in refs} - ids)
    if missing:
        raise ValueError(f"CZML references unknown entities {missing[:5]}")


class _PacketWriter:
    """Writes packets as one JSON list, one packet per line, checking each on the way."""

    def __init__(self, fh, ids: set[str], references: list[str]):
        self.fh, self.ids, self.references = fh, ids, references
        self.first = True

    def write(self, packet: dict) -> None:
        self.references += check_packet(packet, self.ids)
        text = json.dumps(packet, separators=(",", ":"), allow_nan=False)
        self.fh.write(("[\n" if self.first else ",\n") + text)
        self.first = False

    def close(self) -> None:
        self.fh.write("[]\n" if self.first else "\n]\n")
