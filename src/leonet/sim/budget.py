"""The size of a run before it starts: satellites x sites x steps, and the memory that takes.

A schema-valid scenario can still ask for more than any machine holds (100 million satellites,
10 million dish sites, 30 billion steps). :func:`check_run_size` estimates the peak memory of a
run from the scenario alone (before any array is built) and refuses, with the number and the ways
to proceed, what would not fit; :func:`check_model_size` repeats the estimate once orbit files and
site files have been read and the real counts are known.

The estimate is deliberately simple and errs high. Per satellite and per site it counts the
arrays kept for the whole run; per chunk (``outputs.chunk_steps`` steps computed at once) it counts
the positions of every satellite and the per-site rows of each step, and the (site, satellite)
pairs in view of the instants alive at once (a chunk drops an instant's visibility once its step
is done; the pairs are kept for every step only when ``outputs.visibility_pairs`` writes them):

    peak = base + static + chunks_in_flight x (chunk_steps x per_step + live_instants x pairs)
    static   = satellites x 4 KB + sites x 2 KB + steps x 8 B + station_pairs x 1 KB
    per_step = satellites x 2 KB + sites x 300 B + station_pairs x 160 B (+ pairs with visibility_pairs)
    pairs    = sites x in_view x 120 B;  live_instants = 2

where ``in_view`` is the satellites above the elevation mask of one site (the share of the
constellation inside the visibility cap of the lowest shell, or ``visibility.nearest_k``), and
``chunks_in_flight`` is 1 in one process, 2 per worker with ``--workers`` (each worker also holds
its copy of the static part), capped at the chunks the run has: a run of one chunk is computed in
this process whatever ``--workers`` says (:func:`leonet.sim.executors.run_tasks`), and a pool of
``w`` workers starts at most one process per chunk. (A group run of variants may split one chunk
into one part per worker: :func:`members_per_task` counts every worker and 2 chunks each.) The
constants are rough: they were set so that a shortened
``ukraine-2022`` run (1,980 satellites, 111 sites, 60 steps per chunk, capacity on; peak RSS
0.82 GB measured) is estimated slightly above what it used; the station-pair terms so that 400
stations routed all to all (159,600 ordered pairs, 528 satellites; 465 MB peak RSS over 2 steps,
717 MB over 16: about 110 B per pair and step) are estimated above what they used. ``station_pairs``
(``network.pairs`` and ``network.all_station_pairs``: stations x (stations - 1)) grows as the
stations squared: 6,000 stations are 36 million pairs. The check exists to refuse runs
that are off by orders of magnitude, not to predict memory to the percent.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from ..errors import InputError

BASE_BYTES = 800 * 2**20  # Python, numpy, pyarrow, scipy, sgp4, itur loaded
SATELLITE_BYTES = 4_096
SITE_BYTES = 2_048
STEP_BYTES = 8
SATELLITE_STEP_BYTES = 2_048
PAIR_STEP_BYTES = 120
SITE_STEP_BYTES = 300
STATION_PAIR_BYTES = 1_024       # a routed pair for the run: its ends, path tracker, summary
STATION_PAIR_STEP_BYTES = 160    # a pair_steps row: ends, RTT, hops, path, change flag
LIVE_INSTANTS = 2  # a step's instant and its slot start's
_EARTH_RADIUS_M = 6_371_000.0
_DEFAULT_ALTITUDE_M = 550_000.0


@dataclass(frozen=True)
class RunSize:
    """Counts and the estimated peak memory of a run."""

    satellites: int
    sites: int
    steps: int
    chunk_steps: int
    in_view: float
    chunks_in_flight: int
    workers: int
    pairs_kept: bool = True  # outputs.visibility_pairs: every step's pairs stay until the chunk is written
    station_pairs: int = 0   # ordered station pairs routed every step (network.pairs, all_station_pairs)

    @property
    def static_bytes(self) -> float:
        return (self.satellites * SATELLITE_BYTES + self.sites * SITE_BYTES + self.steps * STEP_BYTES
                + self.station_pairs * STATION_PAIR_BYTES)

    @property
    def pair_bytes(self) -> float:
        """The (site, satellite) pairs in view at one instant, bytes."""
        return self.sites * self.in_view * PAIR_STEP_BYTES

    @property
    def step_bytes(self) -> float:
        return (self.satellites * SATELLITE_STEP_BYTES + self.sites * SITE_STEP_BYTES
                + self.station_pairs * STATION_PAIR_STEP_BYTES + (self.pair_bytes if self.pairs_kept else 0.0))

    @property
    def n_chunks(self) -> int:
        """The chunks of the run (ceil(steps / chunk_steps))."""
        return -(-self.steps // self.chunk_steps)

    @property
    def processes(self) -> int:
        """Worker processes besides the main one: none in one process or for a run of one chunk
        (computed in the main process), else one per worker, at most one per chunk."""
        return min(self.workers, self.n_chunks) if self.workers > 1 and self.n_chunks > 1 else 0

    @property
    def chunk_bytes(self) -> float:
        return min(self.chunk_steps, self.steps) * self.step_bytes + LIVE_INSTANTS * self.pair_bytes

    @property
    def peak_bytes(self) -> float:
        copies = 1 + self.processes  # the main process and each worker started
        return BASE_BYTES * copies + self.static_bytes * copies + self.chunks_in_flight * self.chunk_bytes

    def largest_chunk_steps(self, max_bytes: float) -> int:
        """The most steps per chunk that keep the peak under ``max_bytes`` (0: none do)."""
        # Smaller chunks make more of them: count every worker and 2 chunks per worker in flight,
        # as a run of many chunks has, so that the chunk size suggested fits whatever it makes.
        copies = 1 + (self.workers if self.workers > 1 else 0)
        in_flight = max(self.chunks_in_flight, 2 * self.workers if self.workers > 1 else 1)
        room = max_bytes - (BASE_BYTES + self.static_bytes) * copies - in_flight * LIVE_INSTANTS * self.pair_bytes
        if room <= 0 or self.step_bytes <= 0:
            return 0
        return int(room // (in_flight * self.step_bytes))


def machine_memory_bytes() -> int:
    """Physical memory of this machine, bytes (0 if unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 0


def default_max_memory_bytes() -> int:
    """80 % of this machine's memory (16 GiB where it cannot be read)."""
    total = machine_memory_bytes()
    return int(0.8 * total) if total > 0 else 16 * 2**30


#: The smallest --max-memory taken: less would not hold the interpreter and one chunk of anything.
MIN_MEMORY_BYTES = 64 * 2**20

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_memory(text: str) -> int:
    """``"8G"``, ``"512M"``, ``"2.5GB"``, ``"1T"`` or a number of bytes -> bytes (powers of 1024)."""
    m = _SIZE_RE.match(str(text))
    if not m:
        raise InputError(f"expected a size such as 8G, 512M or 2.5GB, got {str(text)[:40]!r}", location="--max-memory")
    value = float(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper())
    if not value < 2**60:
        raise InputError(f"expected a size below 1,048,576T, got {str(text)[:40]!r}", location="--max-memory")
    if value < MIN_MEMORY_BYTES:
        # A bare number is bytes: "512" is far too little for any run, and surely meant 512M.
        hint = f" (a number without a unit is bytes: did you mean {m.group(1)}M or {m.group(1)}G?)" if not m.group(2) else ""
        raise InputError(f"expected a size of at least 64M, got {str(text)[:40]!r}{hint}", location="--max-memory")
    return int(value)


def _in_view(scenario, satellites: int) -> float:
    """Satellites in view of one site: the constellation's share inside one visibility cap."""
    v = scenario.visibility
    altitudes = [s.altitude_km * 1e3 for s in scenario.constellation.shells] or [_DEFAULT_ALTITUDE_M]
    h = min(altitudes)
    if v.min_elevation_deg is not None:
        e = math.radians(v.min_elevation_deg)
        # Earth central angle of the cap seen above elevation e from a satellite at height h.
        lam = math.acos(_EARTH_RADIUS_M * math.cos(e) / (_EARTH_RADIUS_M + h)) - e
    else:
        lam = math.acos(_EARTH_RADIUS_M / (_EARTH_RADIUS_M + h))
    share = (1.0 - math.cos(lam)) / 2.0
    # Inclined shells crowd towards their latitude limits: allow a factor of 3 over the mean.
    n = min(float(satellites), 3.0 * share * satellites + 1.0)
    if v.nearest_k is not None:
        n = min(n, float(v.nearest_k) * 2)  # gateways and PoPs keep all; dishes keep k
    return n


def station_pair_count(scenario, stations: int | None = None) -> int:
    """Ordered station pairs the run routes every step: ``network.pairs``, and with
    ``network.all_station_pairs`` stations x (stations - 1) (the pairs both give are counted twice:
    the estimate errs high). ``stations`` not given: the scenario's own sites of kind station and
    the built-in hypatia-top100 (100 stations); site files not yet read count as empty."""
    net = scenario.network
    pairs = len(net.pairs or ())
    if net.all_station_pairs:
        if stations is None:
            g = scenario.ground
            stations = sum(1 for s in g.sites if getattr(s, "kind", None) == "station")
            stations += sum(100 for b in g.builtin if b.name == "hypatia-top100")
        pairs += int(stations) * max(int(stations) - 1, 0)
    return pairs


def scenario_size(scenario, satellites: int | None = None, sites: int | None = None, workers: int = 1,
                  stations: int | None = None) -> RunSize:
    """The run size of ``scenario``; counts not given are taken from the scenario text (Walker
    shells, explicit sites, dish groups; files not yet read count as empty). ``stations``: the
    sites of kind station, for ``network.all_station_pairs`` (:func:`station_pair_count`)."""
    if satellites is None:
        satellites = sum(s.planes * s.sats_per_plane for s in scenario.constellation.shells)
    if sites is None:
        g = scenario.ground
        sites = len(g.sites) + sum(d.count for d in g.dish_groups)
        sites += sum(p.max_cities * p.sites_per_city for p in g.population_dishes)
    chunk = scenario.outputs.chunk_steps
    n_chunks = -(-int(scenario.time.n_steps) // int(chunk))
    # a pool holds at most 2 chunks per worker, and never more than the run has (one: no pool)
    in_flight = 1 if workers <= 1 else max(1, min(2 * workers, n_chunks))
    return RunSize(int(satellites), int(sites), int(scenario.time.n_steps), int(chunk),
                   _in_view(scenario, satellites), in_flight, int(workers),
                   pairs_kept=bool(scenario.outputs.visibility_pairs),
                   station_pairs=station_pair_count(scenario, stations))


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_size(size: RunSize, max_memory_bytes: int | None = None, source: str | None = None,
               pairs_field: str = "network.all_station_pairs") -> RunSize:
    """Raise :class:`InputError` when ``size`` would not fit in ``max_memory_bytes`` (default:
    80 % of this machine's memory), saying the estimate, its largest part and how to proceed; when
    the station pairs are the largest part, the error names ``pairs_field``."""
    limit = default_max_memory_bytes() if max_memory_bytes is None else int(max_memory_bytes)
    peak = size.peak_bytes
    if peak <= limit:
        return size
    parts = {
        f"{size.steps:,} steps x 8 B": size.steps * STEP_BYTES,
        f"{size.satellites:,} satellites x 4 KB": size.satellites * SATELLITE_BYTES,
        f"{size.sites:,} sites x 2 KB": size.sites * SITE_BYTES,
        (f"{size.chunks_in_flight} chunk(s) in flight x {min(size.chunk_steps, size.steps):,} steps x "
         f"({size.satellites:,} satellites + {size.sites:,} sites"
         + (f" x ~{size.in_view:,.0f} in view)" if size.pairs_kept else f"; ~{size.in_view:,.0f} in view per site)")):
            size.chunks_in_flight * size.chunk_bytes,
    }
    # the station pairs' share of the chunk above too: an n-squared part that fewer chunks cannot cure
    pair_part = size.station_pairs * (STATION_PAIR_BYTES + STATION_PAIR_STEP_BYTES * min(size.chunk_steps, size.steps))
    if size.station_pairs:
        parts[(f"{size.station_pairs:,} station pairs ({pairs_field}) x (1 KB + "
               f"{min(size.chunk_steps, size.steps):,} steps x 160 B)")] = pair_part
    largest = max(parts, key=parts.get)
    ways = []
    fits = size.largest_chunk_steps(limit)
    if fits >= 1 and fits < size.chunk_steps:
        ways.append(f"smaller chunks (--set outputs.chunk_steps={fits})")
    if size.processes > 0:  # a run of one chunk starts no worker: fewer would not help
        ways.append("fewer --workers")
    # station pairs held for the run do not shrink with fewer steps (6,000 stations: 36 GB of them)
    if size.steps * STEP_BYTES > limit / 4 or (fits < 1 and "station pairs" not in largest):
        ways.append("fewer steps (a shorter time.duration_s or a longer time.step_s)")
    if "sites" in largest and "chunk" not in largest:
        ways.append("fewer sites (dish_groups[].dishes_per_site lets one site stand for many dishes)")
    if "satellites" in largest and "chunk" not in largest:
        ways.append("fewer satellites")
    if "chunk" in largest and fits < 1:
        ways.append("fewer sites or satellites")
    if "station pairs" in largest:
        ways.append("fewer station pairs (name them in network.pairs, or fewer kind: station sites with "
                    "network.all_station_pairs)")
    ways.append("--max-memory on `leonet run` if this machine (or the estimate) allows more")
    raise InputError(
        f"this run would need about {_gb(peak)} of memory ({size.satellites:,} satellites x {size.sites:,} sites "
        f"x {size.steps:,} steps; the largest part: {largest} = {_gb(parts[largest])}), more than the "
        f"{_gb(limit)} allowed ({'--max-memory' if max_memory_bytes is not None else '80% of this machine'}). "
        f"To proceed: {'; '.join(ways)}.",
        source=source, location=pairs_field if "station pairs" in largest else None,
    )


def check_run_size(scenario, max_memory_bytes: int | None = None, workers: int = 1) -> RunSize:
    """Check the size of ``scenario`` from its text alone, before anything is built."""
    return check_size(scenario_size(scenario, workers=workers), max_memory_bytes, source=getattr(scenario, "source", None))


def members_per_task(size: RunSize, members: int, max_memory_bytes: int | None = None) -> int:
    """How many variants that differ only in their events can step through one chunk together
    (:func:`leonet.sim.step.compute_chunks`) within ``max_memory_bytes`` (default 80 % of this
    machine's memory): they share the chunk's positions and pairs, and each adds its own rows
    (sites x 300 B per step, per chunk in flight). At least 1 (the run alone was checked)."""
    limit = default_max_memory_bytes() if max_memory_bytes is None else int(max_memory_bytes)
    # A group splits even one chunk into parts, one per worker (leonet.sim.runner._group_tasks): count
    # every worker and 2 parts each in flight, not the chunks of the run (RunSize.chunks_in_flight).
    pooled = size.workers > 1
    in_flight = 2 * size.workers if pooled else 1
    peak = ((BASE_BYTES + size.static_bytes) * (1 + (size.workers if pooled else 0))
            + in_flight * size.chunk_bytes)
    per_member = in_flight * min(size.chunk_steps, size.steps) * size.sites * SITE_STEP_BYTES
    room = limit - peak
    if per_member <= 0:
        return max(1, members)
    return max(1, min(members, 1 + int(room // per_member)))
