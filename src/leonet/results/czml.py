"""Export a results folder as a CZML document, to play the run in any Cesium viewer.

The document (a JSON list of packets) holds:

- ``document``: the first packet; its clock spans the run, from the first step's instant to the
  end of the last step (its instant + the time it stands for: the run's end), and plays at ``multiplier`` times real time (a run plays in about two minutes).
  An incomplete run (a ``leonet run`` killed or still running) is exported as far as it ran: the
  clock spans the steps present, and the document's ``name`` says that it is incomplete.
- ``sat-<index>``: one entity per satellite kept (see ``max_satellites``), with its positions in
  the Earth-fixed frame (``referenceFrame: FIXED``, metres, rounded to the millimetre),
  interpolated by Lagrange polynomials of degree 5, a point coloured by shell and a label (shown
  when the camera is within 3,000 km). Samples where propagation failed are left out.

  When the positions are sampled: at the run's steps (every ``every_n_steps``-th step, and always
  the last one) and at the run's end (so a satellite is there through the last step, as the
  dishes' intervals are), and between two of those wherever they are more than
  :data:`~.czml_sampling.SAMPLE_S` (300 s) apart, every 300 s: a LEO satellite turns about 19 degrees of its orbit
  in 300 s, and the degree-5 interpolation over such samples stays within about 40 m of a 550 km
  circular orbit (60 s: under a millimetre; 600 s: 2.5 km), where samples an hour apart (the hourly
  steps of the ukraine-2022 presets) would draw radii from 3,579 to 276,007 km. Finer than 300 s
  adds nothing a globe shows and five times the bytes (the month of the default run: 110 MB at
  60 s). The document holds at most :data:`~.czml_sampling.MAX_SAMPLES` samples (kept satellites x instants, about
  45 bytes of JSON each), :data:`~.czml_sampling.MAX_SAMPLE_S` (300 s) being the coarsest spacing. A run too long
  even then is drawn in stretches: from each kept step on, for as many 300-s samples as the bound
  gives every kept step alike (at least :data:`~.czml_sampling.MIN_STRETCH_SAMPLES`, so degree 5 holds), and hidden
  until the next one; each stretch is then a separate interval of the position (Cesium never
  interpolates across the gap) and of the ``availability`` (a serving link to a hidden satellite
  has no end there, so it is not drawn). ``warn`` says so, with the
  ``max_satellites`` that would draw them throughout. Fewer than 6 samples per kept step is
  refused, with the ``every_n_steps`` or ``max_satellites`` that fit.

  Where the positions come from: at the run's steps, the ``positions`` table when the run wrote one
  (``outputs.positions: true``); otherwise they are computed here with leonet's own SGP4 path
  (:func:`leonet.space.propagate.propagate`) from the elements stored in ``satellites.parquet``,
  which is the computation the run itself made, so both give the same positions. The document
  packet's ``name`` says which was used. The samples between steps and at the run's end are no
  steps of the run, so they are always propagated.
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
  ``max_links`` (the longest ones are kept; ``warn`` says how many were left out).

``max_satellites`` thins the constellation: every satellite that ever served an online dish is kept (the
most used first if they alone exceed the limit; links to dropped satellites are then left out,
and ``warn`` says how many), and the rest of the room is filled with an even sample of the others.

The file is written packet by packet (never held whole in memory) under a temporary name, each
packet checked by :func:`check_packet` and every reference resolved before it is renamed into
place. Positions need ``24 x MAX_SAMPLES`` bytes of memory at most.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, warn_to
from .czml_check import check_packet
from .czml_sampling import MAX_SAMPLES, sample_plan
from ..states import STATES, is_outage
from ..timeutil import ns_to_iso
from ..space.constellation import Constellation
from ..space.propagate import propagate
from . import atomic
from .calendar import Calendar, calendar
from .dish_runs import DishRuns, Runs, dish_runs
from .store import EXPORTED_AS_FAR, Manifest, ResultStore

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
#: Camera distance (m) within which labels are drawn.
LABEL_DISTANCE_M = 3.0e6



def interval(a_ns: int, b_ns: int) -> str:
    return f"{ns_to_iso(a_ns)}/{ns_to_iso(b_ns)}"


def export_czml(results_dir: str | Path, out_path: str | Path, max_satellites: int | None = None,
                every_n_steps: int = 1, *, max_links: int = MAX_LINKS,
                progress: Callable[[str, int, int], None] | None = None,
                warn: Callable[[str], None] | None = None) -> Path:
    """Write the run in ``results_dir`` as a CZML document at ``out_path`` (see module doc).

    Parameters
    ----------
    results_dir : a leonet results folder.
    out_path : the ``.czml`` file to write (its folder is created if needed): inside a results
        folder only as ``RESULTS/run.czml``; an existing file only if it is a ``.czml`` (or ``.json``).
    max_satellites : keep at most this many satellites (None: all). Serving satellites first.
    every_n_steps : sample satellite positions at every n-th step (and the last step), and every
        300 s between them (see module doc).
    max_links : at most this many serving-link entities (the longest kept).
    progress : ``progress(stage, done, total)``: the stages (reading, positions, then each satellite
        written, sites, links); done == total at the end.
    warn : ``warn(text)`` for what the viewer must know (an incomplete run; satellites drawn in
        stretches; links left out), each naming the folder; default :func:`warnings.warn`.

    Returns
    -------
    ``out_path`` as a ``Path``.

    Raises
    ------
    InputError : not a results folder, a bad argument, or satellites and sampled steps too many
        for :data:`MAX_SAMPLES` (it names the ``max_satellites`` and ``every_n_steps`` that fit).
    """
    tell = progress or (lambda stage, done, total: None)
    store = ResultStore(results_dir)
    manifest = store.read_manifest()
    from .outputs import check_export_output

    # before any work: never inside a results folder but as RESULTS/run.czml, never over another file
    check_export_output(out_path, store.root, default="run.czml", own_suffixes=(".czml", ".json"))
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
    n_steps = manifest.n_steps
    tables = set(store.tables())
    # edges[k]: the instant of step k (uniform or windowed calendar); edges[n]: the end of the last step
    cal = calendar(store)
    edges = np.r_[cal.times_ns, np.int64(cal.end_ns)]

    steps = _steps_present(store, manifest, tables, cal, n_steps)
    if len(steps) == 0:
        raise InputError("holds no steps yet; run (or resume) the scenario first", source=str(root))
    incomplete = store.incomplete_note()
    if incomplete:  # exported as far as it ran, and said so here and in the document
        warn_to(warn, f"{root}: {incomplete}; {EXPORTED_AS_FAR}")
    kept_steps = steps[::every_n_steps]
    if kept_steps[-1] != steps[-1]:
        kept_steps = np.r_[kept_steps, steps[-1]]
    # The last step stands for the time up to the run's end (edges[last + 1]), as the dishes'
    # intervals do: the clock, and the satellites' samples and availability, end there too.
    t_first, t_end = int(edges[steps[0]]), int(edges[steps[-1] + 1])

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

    plan = sample_plan(np.r_[edges[kept_steps], np.int64(t_end)], len(keep), max_samples=MAX_SAMPLES,
                       source=str(root), every_n_steps=int(every_n_steps))
    if plan.cut is not None:
        warn_to(warn, f"{root}: {plan.cut}")
    t_kept = plan.t_ns
    tell(f"positions of {len(keep):,} satellites", 0, 1)
    pos = _positions_propagated(sats, keep, t_kept)
    if "positions" in tables:
        # at the run's steps the table's (the run's own values); between them and at the run's
        # end, which are no steps, propagated as the run would
        at_step = plan.step_sample
        pos[:, at_step] = _positions_from_table(store, keep, kept_steps[plan.anchor_of[at_step]], cal)
        source = "the positions table at the run's steps, SGP4 propagation of the stored elements between them"
    else:
        source = "SGP4 propagation of the stored elements (no positions table)"

    out = Path(out_path)
    if out.exists() and out.is_dir():
        raise InputError("is a folder; give a file name such as run.czml", source=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    duration_s = (t_end - t_first) / 1e9
    document = {
        "id": "document",
        "name": (f"{manifest.scenario}" + (f" ({incomplete})" if incomplete else "")
                 + f": satellite positions {plan.words} from {source}"),
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
            for done, packet in enumerate(_satellite_packets(sats, keep, pos, t_kept, plan.piece, start_ns=t_first,
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
                drawn, no_sat, over = _select_links(links, written_sat, edges, max_links)
                for packet in _link_packets(drawn, sites, names_sat, edges):
                    writer.write(packet)
            writer.close()
        missing = sorted({r.split("#", 1)[0] for r in references} - ids)
        if missing:
            raise RuntimeError(f"CZML references unknown entities {missing[:5]}")
    if links is not None and (no_sat or over):  # never a silent drop: say what the document lacks
        total_links = len(drawn.site) + no_sat + over
        parts = ([f"{no_sat:,} to satellites not drawn (beyond max_satellites, or never propagated)"] if no_sat else []) + \
                ([f"{over:,} beyond max_links={max_links:,} (the shortest)"] if over else [])
        warn_to(warn, f"{root}: {out.name} draws {len(drawn.site):,} of the {total_links:,} serving links; left out: "
                    + "; ".join(parts) + (" (--max-links keeps more)" if over else ""))
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


def _positions_propagated(sats: pa.Table, keep: np.ndarray, t_kept: np.ndarray) -> np.ndarray:
    """(S, T, 3) metres by leonet's SGP4 path from the stored elements; NaN where it failed."""
    pos = np.full((len(keep), len(t_kept), 3), np.nan)
    if len(keep) == 0:
        return pos
    const = Constellation.from_table(sats.take(pa.array(keep)))
    block = max(1, int(2e7 // (3 * max(len(keep), 1))))  # bound propagate's temporary arrays
    for a in range(0, len(t_kept), block):
        p = propagate(const, t_kept[a:a + block])
        pos[:, a:a + block] = np.transpose(p.ecef_m, (1, 0, 2))
    return pos


# -- packets --------------------------------------------------------------------------------------

def _satellite_packets(sats: pa.Table, keep: np.ndarray, pos: np.ndarray, t_kept: np.ndarray, piece: np.ndarray,
                       start_ns: int, serving: np.ndarray, source: str):
    names = sats.column("name").to_pylist()
    shells = sats.column("shell").to_pylist()
    planes = sats.column("plane").to_pylist()
    slots = sats.column("slot").to_pylist()
    shell_index = {s: i for i, s in enumerate(dict.fromkeys(shells))}
    offsets = (t_kept - start_ns)
    whole = bool(np.all(offsets % 1_000_000_000 == 0))
    t_s = (offsets // 1_000_000_000).astype(np.int64) if whole else offsets / 1e9
    pieces = np.unique(piece)
    for j, sat in enumerate(keep):
        sat = int(sat)
        xyz = pos[j]
        ok = np.isfinite(xyz).all(axis=1)
        if not ok.any():
            continue
        positions, available = [], []
        for k in pieces:  # one sampled interval per piece: never interpolated across a gap
            mine = ok & (piece == k)
            if not mine.any():
                continue
            samples = np.c_[t_s[mine].astype(np.float64), np.round(xyz[mine], 3)]
            flat = samples.ravel().tolist()
            if whole:
                flat[0::4] = [int(v) for v in flat[0::4]]
            n = int(mine.sum())
            position = {"epoch": ns_to_iso(start_ns), "referenceFrame": "FIXED", "cartesian": flat}
            if n >= 2:
                position.update(interpolationAlgorithm="LAGRANGE" if n > 2 else "LINEAR",
                                interpolationDegree=min(5, n - 1))
            t_ok = t_kept[mine]
            available.append(interval(int(t_ok[0]), int(t_ok[-1])))
            positions.append(dict(interval=available[-1], **position) if len(pieces) > 1 else position)
        packet = {
            "id": f"sat-{sat}",
            "name": names[sat],
            "availability": available[0] if len(pieces) == 1 else available,
            "description": (f"Satellite {names[sat]} (index {sat}), shell {shells[sat]}, plane {planes[sat]}, "
                            f"slot {slots[sat]}. Positions from {source}."),
            "position": positions[0] if len(pieces) == 1 else positions,
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


def _select_links(r: Runs, drawn: np.ndarray, edges: np.ndarray, max_links: int) -> tuple[Runs, int, int]:
    """The serving runs ``r`` (:func:`_online_links`) to draw: those to a satellite drawn, at most
    ``max_links`` (the longest, then the earliest). Returns (runs, left out for their satellite,
    left out beyond max_links)."""
    mine = drawn[r.key]  # links to the satellites drawn
    site, serving, first, last = r.site[mine], r.key[mine], r.first[mine], r.last[mine]
    no_sat = int(len(mine) - mine.sum())
    over = max(len(site) - max_links, 0)
    if over:  # keep the longest, then the earliest
        length = edges[last + 1] - edges[first]  # how long each link lasts (ns)
        keep = np.sort(np.lexsort((first, -length))[:max_links])
        site, serving, first, last = site[keep], serving[keep], first[keep], last[keep]
    return Runs(site=site, key=serving, first=first, last=last), no_sat, over


def _link_packets(r: Runs, sites, sat_names: list[str], edges: np.ndarray):
    """``r``: the serving runs to draw (:func:`_select_links`)."""
    site, serving, first, last = r.site, r.key, r.first, r.last
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
